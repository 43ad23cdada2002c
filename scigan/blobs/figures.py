"""Figures of an evaluated blob run: losses (thesis Fig. 7), generated beside real images
(Fig. 8) and the blob statistics of every set."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from scigan.core.figures import loss_curves, pyplot


def write_figures(
    directory: Path,
    log_file: Path,
    sets: dict[str, np.ndarray],
    train: np.ndarray,
    peak_threshold: float,
    steps_per_epoch: int,
) -> list[Path]:
    """Loss curves (thesis Fig. 7), generated beside real images (Fig. 8), blob statistics."""
    losses = loss_curves(
        log_file,
        directory / "losses.png",
        (("loss_d", "discriminator"), ("loss_g", "generator")),
        title="blob GAN losses (thesis Fig. 7)",
        ylabel="binary cross-entropy",
        xlabel="epoch",
        steps_per_epoch=steps_per_epoch,
    )
    paths = [] if losses is None else [losses]
    plt = pyplot()
    cols = 8
    fig, axes = plt.subplots(2, cols, figsize=(cols * 1.3, 3))
    for row, (images, label) in enumerate(
        ((sets["generated"], "generated"), (sets["heldout_floor"], "real"))
    ):
        for j in range(cols):
            ax = axes[row, j]
            ax.imshow(images[j], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row, 0].set_ylabel(label)
    fig.suptitle("generated (top) and real (bottom) images (thesis Fig. 8)", fontsize=9)
    fig.tight_layout()
    paths.append(directory / "generated_vs_real.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)

    return paths + [_statistics_figure(directory, sets, train, peak_threshold, plt)]


def _statistics_figure(
    directory: Path, sets: dict[str, np.ndarray], train: np.ndarray, thr: float, plt
) -> Path:
    from scigan.blobs import metrics as m

    fig, axes = plt.subplots(1, 4, figsize=(17, 3.8))
    named = {"training": train, **sets}
    top_intensity = 1.5 * float(m.total_intensity(train).max())
    bins = (np.arange(-0.5, 31.5), np.linspace(0, top_intensity, 51), np.linspace(0, 8, 41))
    heights = []
    for name, images in named.items():
        real = name == "training"
        style = dict(
            histtype="step", lw=2 if real else 1.2, color="k" if real else None, label=name
        )
        values = (
            np.minimum(m.peak_counts(images, thr), 30),  # the last bin: 30 or more
            np.minimum(m.total_intensity(images), top_intensity),
            m.peak_widths(images, thr),
        )
        for ax, v, edges in zip(axes[:3], values, bins, strict=True):
            if len(v):
                weights = np.full(len(v), 1 / len(v))  # shares; constant sets are fine
                h, _, _ = ax.hist(v, bins=edges, weights=weights, **style)
                if real:
                    heights.append(float(np.max(h)))
        spectrum = m.radial_power_spectrum(images).mean(0)
        axes[3].semilogy(
            np.arange(1, len(spectrum) + 1), spectrum, "k-" if real else "-", lw=style["lw"]
        )
    for ax, h in zip(axes[:3], heights, strict=False):
        ax.set_ylim(0, 2.5 * h)  # scaled to the training data; a collapsed set's spike is cut
        ax.set_ylabel("share")
    for ax, title in zip(
        axes,
        (
            "detected peaks per image",
            "total intensity per image",
            "blob width sqrt(sx sy) at peaks (px)",
            "radially averaged power spectrum",
        ),
        strict=True,
    ):
        ax.set_title(title, fontsize=10)
    axes[3].set_xlabel("spatial frequency (cycles per image)")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    path = directory / "blob_statistics.png"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
