"""Figures of an evaluated Ising GAN run (thesis Fig. 11 and the fluctuation observables)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _series(rows: list[dict], source: str, key: str) -> tuple[np.ndarray, np.ndarray]:
    values = np.array([r[source][key] for r in rows], dtype=float)
    errors = np.array([r[source].get(f"{key}_err", 0.0) for r in rows], dtype=float)
    return values, errors


def _panel(ax, rows, key, label, exact_key=None, log=False) -> None:
    t = np.array([r["temperature"] for r in rows])
    for source, style, name in (
        ("mc", "o-", "Monte Carlo (held out)"),
        ("generated", "s--", "GAN"),
    ):
        values, errors = _series(rows, source, key)
        ax.errorbar(t, values, yerr=errors, fmt=style, ms=3, capsize=2, label=name)
    if exact_key and "exact" in rows[0]:
        ax.plot(t, [r["exact"][exact_key] for r in rows], "k:", label="exact (L x L torus)")
    ax.axvline(2.0 / np.log(1 + np.sqrt(2)), color="grey", lw=0.5)
    if log:  # c ~ var(e) / T^2 and chi ~ var(m) / T: any disorder explodes as T -> 0
        ax.set_yscale("symlog", linthresh=0.1)
    ax.set_xlabel("T")
    ax.set_ylabel(label)
    ax.legend(fontsize=7)


def write_figures(directory: Path, rows: list[dict]) -> list[Path]:
    plt = _plt()
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    _panel(axes[0], rows, "m", "signed <M> (thesis Fig. 11a)")
    _panel(axes[1], rows, "abs_m", "<|M|>", "abs_m")
    fig.suptitle("Magnetization per spin: GAN vs Monte Carlo vs exact")
    fig.tight_layout()
    paths.append(directory / "fig11a_magnetization.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    t = np.array([r["temperature"] for r in rows])
    for key, label in (
        ("generator", "generator"),
        ("critic_total", "critic (total)"),
        ("critic_wasserstein", "critic (Wasserstein term)"),
        ("critic_gp", "critic (gradient penalty)"),
    ):
        ax.plot(t, [r["losses"][key] for r in rows], "o-", ms=3, label=label)
    ax.set_xlabel("T")
    ax.set_ylabel("loss (mean of the last logged steps)")
    ax.set_title("Losses vs T (thesis Fig. 11b)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    paths.append(directory / "fig11b_losses.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)

    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    _panel(axes[0, 0], rows, "e", "energy per spin e", "e")
    _panel(axes[0, 1], rows, "specific_heat", "specific heat c", "specific_heat", log=True)
    _panel(axes[1, 0], rows, "susceptibility", "susceptibility chi'", "susceptibility", log=True)
    _panel(axes[1, 1], rows, "binder", "Binder cumulant U4", "binder")
    fig.tight_layout()
    paths.append(directory / "observables.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    for key, label in (("w1_m", "m"), ("w1_abs_m", "|m|"), ("w1_e", "e")):
        ax.plot(t, [r["generated_vs_mc"][key] for r in rows], "o-", ms=3, label=f"GAN: {label}")
        floor = [r["heldout_floor_vs_mc"][key] for r in rows]
        ax.plot(t, floor, ":", label=f"MC floor: {label}")
    ax.set_xlabel("T")
    ax.set_ylabel("1-D Wasserstein distance to held-out MC")
    ax.legend(fontsize=7)
    fig.tight_layout()
    paths.append(directory / "histogram_distances.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)
    return paths
