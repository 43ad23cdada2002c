"""Figures of an evaluated DNA run: the losses (thesis Fig. 3) and the k-mer spectra."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from scigan.core.figures import loss_curves, pyplot


def write_figures(
    directory: Path,
    log_file: Path,
    result: dict,
    sets: dict[str, np.ndarray],
    train_codes: np.ndarray,
) -> list[Path]:
    """The loss curves (thesis Fig. 3) and the k-mer spectrum with its divergence by k."""
    from scigan.dna.metrics import kmer_counts

    losses = loss_curves(
        log_file,
        directory / "losses.png",
        (("loss_d", "discriminator"), ("loss_g", "generator")),
        title="DNA GAN losses (thesis Fig. 3)",
        ylabel="binary cross-entropy",
        xlabel="iteration (the thesis's 'epoch')",
        log_y=True,
    )
    paths = [] if losses is None else [losses]

    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    k = 3
    train_freq = kmer_counts(train_codes, k) / kmer_counts(train_codes, k).sum()
    order = np.argsort(train_freq)[::-1]
    axes[0].plot(train_freq[order], "k-", lw=2, label="training windows")
    for name, codes in sets.items():
        c = kmer_counts(codes, k)
        axes[0].plot((c / max(c.sum(), 1))[order], ".", ms=4, label=name)
    axes[0].set_xlabel(f"{k}-mers, by training frequency")
    axes[0].set_ylabel("frequency")
    axes[0].set_title(f"{k}-mer spectrum")
    axes[0].legend(fontsize=8)
    for name in sets:
        ks = sorted(result[name]["kmer_jsd"], key=int)
        axes[1].plot(
            [int(x) for x in ks], [result[name]["kmer_jsd"][x] for x in ks], "o-", label=name
        )
    axes[1].set_xlabel("k")
    axes[1].set_ylabel("JSD to training spectrum (bits)")
    axes[1].set_yscale("log")
    axes[1].set_title("k-mer spectrum divergence")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    paths.append(directory / "kmer_spectrum.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)
    return paths
