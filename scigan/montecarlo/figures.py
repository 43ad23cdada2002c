"""Figures of an Ising data set: the thesis's Fig. 9 and observables against exact curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from scigan.montecarlo import exact, mc

FIG9_SWEEPS = (0, 1, 2, 5, 10, 50, 200, 1000)


def lattice_evolution(seed: int, path: Path, L: int = 9, temperature: float = 1.5) -> None:
    """Fig. 9: one lattice from a random start under random-site Metropolis at T = 1.5."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seeds = [np.random.SeedSequence(seed, spawn_key=(1 << 30, 9))]  # apart from data keys
    chain = mc.CpuChains(L, [temperature], seeds, "metropolis", "hot")
    fig, axes = plt.subplots(1, len(FIG9_SWEEPS), figsize=(2 * len(FIG9_SWEEPS), 2.3))
    done = 0
    for ax, sweeps in zip(axes, FIG9_SWEEPS, strict=True):
        chain.sweep(sweeps - done)
        done = sweeps
        lattice = chain.lattices()[0]
        ax.imshow(lattice, cmap="gray", vmin=-1, vmax=1)
        ax.set_title(f"{sweeps} sweeps\nM = {lattice.mean():+.2f}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"{L}x{L} lattice, Metropolis at T = {temperature} (thesis Fig. 9)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def observables_vs_temperature(rows: list[dict], L: int, path: Path) -> None:
    """<|m|>, e, c, chi vs T with error bars, the exact L x L curves and Onsager's."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    temps = np.array([r["temperature"] for r in rows])
    fine = np.linspace(max(temps.min(), 0.05), max(temps.max(), 0.1), 200)
    kaufman = exact.kaufman(L, fine)
    # transfer-matrix values (L <= 10) at the data's temperatures, as in the summary rows
    moments = {
        key: np.array([r[f"exact_{key}"] for r in rows]) for key in ("abs_m", "susceptibility")
    }
    has_moments = bool(np.all(np.isfinite(moments["abs_m"])))
    panels = [
        (
            "abs_m",
            "<|m|>",
            temps,
            moments["abs_m"] if has_moments else None,
            exact.onsager_magnetization(fine),
        ),
        ("e", "e", fine, kaufman["energy"], exact.onsager_energy(fine)),
        ("specific_heat", "c", fine, kaufman["specific_heat"], exact.onsager_specific_heat(fine)),
        ("susceptibility", "chi'", temps, moments["susceptibility"] if has_moments else None, None),
    ]
    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    for ax, (key, label, grid, finite, onsager) in zip(axes.flat, panels, strict=True):
        values = np.array([r[key] for r in rows])
        errors = np.array([r[f"{key}_err"] for r in rows])
        ax.errorbar(temps, values, errors, fmt="o", ms=3, label="Monte Carlo")
        if finite is not None:
            ax.plot(grid, finite, "-", label=f"exact {L}x{L}")
        if onsager is not None:
            ax.plot(fine, np.minimum(onsager, 10), "--", lw=0.8, label="Onsager (L = inf)")
        ax.axvline(exact.CRITICAL_TEMPERATURE, color="gray", lw=0.5)
        ax.set_xlabel("T")
        ax.set_ylabel(label)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
