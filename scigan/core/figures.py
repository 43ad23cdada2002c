"""Figures every case study draws the same way."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from scigan.core.logs import read_jsonl


def pyplot():
    """matplotlib's pyplot on the file-only Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def loss_curves(
    log_file: Path,
    out: Path,
    series: tuple[tuple[str, str], ...],
    *,
    title: str,
    ylabel: str,
    xlabel: str = "step",
    steps_per_epoch: int | None = None,
    log_y: bool = False,
) -> Path | None:
    """The losses of `log.jsonl` (series: (key, label) pairs): every logged step faintly, and
    over it a running mean of ~1 % of the steps, or, with `steps_per_epoch`, each epoch's mean
    against the epoch. None when the log is empty."""
    records = read_jsonl(log_file)
    if not records:
        return None
    plt = pyplot()
    steps = np.array([r["step"] for r in records])
    fig, ax = plt.subplots(figsize=(7, 4))
    for key, label in series:
        y = np.array([r[key] for r in records])
        if steps_per_epoch is None:
            ax.plot(steps, y, alpha=0.25, lw=0.6)
            w = max(1, len(y) // 100)
            smooth = np.convolve(y, np.ones(w) / w, mode="valid")
            color = ax.lines[-1].get_color()
            ax.plot(steps[w - 1 :], smooth, label=f"{label} (running mean of {w})", color=color)
        else:
            ax.plot(steps / steps_per_epoch, y, alpha=0.2, lw=0.5)
            color = ax.lines[-1].get_color()
            epochs = (steps - 1) // steps_per_epoch
            ids = np.unique(epochs)
            means = [y[epochs == e].mean() for e in ids]
            ax.plot(ids + 1, means, "o-", ms=3, color=color, label=f"{label} (epoch mean)")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if log_y:
        ax.set_yscale("log")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
