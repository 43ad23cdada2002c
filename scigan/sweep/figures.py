"""A sweep's figures, from its results rows: each criterion against each swept key, and for
a case study that measures per condition (Ising: per temperature) a heat map of each
criterion over points and conditions with the chosen point marked."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from scigan.sweep.results import Criterion


def _numeric(values: list[Any]) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def _log_spaced(values: list[float]) -> bool:
    positive = [v for v in values if v > 0]
    return len(positive) == len(values) >= 3 and max(positive) / min(positive) >= 100


def criterion_vs_keys(
    rows: list[dict[str, Any]],
    criteria: dict[str, Criterion],
    axes: dict[str, list[Any]],
    group_by: str | None,
    path: Path,
) -> Path:
    """One panel per (criterion, swept key): the criterion of every finished point against
    the key's value (per condition: its mean over conditions), other keys as separate dots."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    done = [r for r in rows if r.get("status") == "done"]
    names, keys = list(criteria), list(axes)
    fig, grid = plt.subplots(
        len(names), len(keys), figsize=(3.6 * len(keys), 2.8 * len(names)), squeeze=False
    )
    for i, name in enumerate(names):
        for j, key in enumerate(keys):
            ax = grid[i][j]
            by_point: dict[str, list[float]] = {}
            value_of: dict[str, Any] = {}
            for row in done:
                v = criteria[name].value(row)
                if not math.isnan(v):
                    by_point.setdefault(row["point"], []).append(v)
                    value_of[row["point"]] = row.get(key)
            xs = [value_of[p] for p in by_point]
            ys = [sum(v) / len(v) for v in by_point.values()]
            values = axes[key]
            if _numeric(values):
                ax.plot(xs, ys, "o", alpha=0.7)
                if _log_spaced([float(v) for v in values]):
                    ax.set_xscale("log")
            else:
                labels = [str(v) for v in values]
                ax.plot([labels.index(str(x)) for x in xs], ys, "o", alpha=0.7)
                ax.set_xticks(range(len(labels)), labels, rotation=30)
            ax.set_xlabel(key)
            per = f" (mean over {group_by})" if group_by else ""
            ax.set_ylabel(f"{name}{per}" if j == 0 else "")
            ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def criterion_heat_maps(
    rows: list[dict[str, Any]],
    criteria: dict[str, Criterion],
    selection: dict[str, Any],
    group_by: str,
    path: Path,
) -> Path:
    """Per criterion, its value over (point, condition), on a log colour scale when positive,
    with each condition's chosen point circled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    done = [r for r in rows if r.get("status") == "done"]
    points = list(dict.fromkeys(r["point"] for r in done))
    groups = sorted({r[group_by] for r in done})
    width = max(6, 0.25 * len(groups) + 3)
    height = 0.35 * len(points) * len(criteria) + 2
    fig, axes = plt.subplots(len(criteria), 1, figsize=(width, height), squeeze=False)
    for ax, (name, criterion) in zip(axes[:, 0], criteria.items(), strict=True):
        values = np.full((len(points), len(groups)), np.nan)
        for row in done:
            values[points.index(row["point"]), groups.index(row[group_by])] = criterion.value(row)
        finite = values[np.isfinite(values)]
        norm = None
        if finite.size and finite.min() > 0 and not criterion.maximise:
            from matplotlib.colors import LogNorm

            norm = LogNorm(vmin=finite.min(), vmax=finite.max())
        image = ax.imshow(values, aspect="auto", cmap="viridis", norm=norm)
        for chosen in selection["criteria"][name]["chosen"]:
            ax.plot(groups.index(chosen[group_by]), points.index(chosen["point"]), "o",
                    mfc="none", mec="red", ms=7)  # fmt: skip
        ax.set_yticks(range(len(points)), [p.rsplit("-", 1)[0] for p in points], fontsize=7)
        step = max(1, len(groups) // 12)
        ax.set_xticks(range(0, len(groups), step), [f"{g:.3g}" for g in groups[::step]])
        ax.set_xlabel(group_by)
        ax.set_title(f"{name}: {criterion.text} (circles: chosen)", fontsize=9)
        fig.colorbar(image, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def magnetization_curves(
    rows: list[dict[str, Any]], selection: dict[str, Any], group_by: str, path: Path
) -> Path | None:
    """Thesis Fig. 12: M(T) of every point (left: |m|) and of each criterion's
    per-temperature choice (right: |m| and the signed m), with the Monte Carlo and exact
    curves. None when the rows hold no magnetisation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    done = [r for r in rows if r.get("status") == "done" and "generated.abs_m" in r]
    if not done:
        return None
    by_key = {(r["point"], r[group_by]): r for r in done}
    temps = sorted({r[group_by] for r in done})
    reference = {t: next(r for r in done if r[group_by] == t) for t in temps}
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    for point in dict.fromkeys(r["point"] for r in done):
        ts = [t for t in temps if (point, t) in by_key]
        left.plot(ts, [by_key[point, t]["generated.abs_m"] for t in ts], lw=1, alpha=0.8,
                  label=point.rsplit("-", 1)[0])  # fmt: skip
    for ax in (left, right):
        ax.plot(temps, [reference[t].get("mc.abs_m") for t in temps], "k-", lw=2, label="MC |m|")
        if all("exact.abs_m" in reference[t] for t in temps):
            ax.plot(temps, [reference[t]["exact.abs_m"] for t in temps], "k--", label="exact |m|")
        ax.set_xlabel(group_by)
        ax.grid(alpha=0.3)
    for name, chosen in selection["criteria"].items():
        picks = sorted(chosen["chosen"], key=lambda c: c[group_by])
        rows_chosen = [by_key[c["point"], c[group_by]] for c in picks]
        ts = [c[group_by] for c in picks]
        abs_m = [r["generated.abs_m"] for r in rows_chosen]
        line = right.plot(ts, abs_m, "o-", label=f"{name} |m|")
        right.plot(ts, [r["generated.m"] for r in rows_chosen], "x:", color=line[0].get_color(),
                   label=f"{name} m")  # fmt: skip
    left.set_ylabel("magnetization per spin")
    left.set_title("every point (|m|)", fontsize=10)
    right.set_title("per-temperature choice of each criterion", fontsize=10)
    left.legend(fontsize=6, ncol=2)
    right.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
