"""Blob-image metrics, each in three pure layers: features of images -> statistics -> a number.

Images are float arrays (n, s, s) in [0, 1]. Distances between images are Euclidean on the
flattened pixels unless said otherwise; "features" are the encoder's (encoder.py).

    blob statistics   peaks (3x3 local maxima above a threshold), total intensity, blob widths
                      from the curvature of log-intensity at each peak; 1-D Wasserstein distances
                      between a set's and the real images' distributions
    power spectrum    radially averaged power spectrum; RMS difference of log10 mean spectra
    diversity         mean pairwise distance relative to real images of the same count;
                      duplicate rate; the mode_collapse flag (rule in `mode_collapse`)
    memorization      each sample's distance to its nearest training image; copy rate
    feature metrics   Fréchet distance, kernel distance (unbiased MMD², cubic polynomial
                      kernel, as KID), precision/recall/density/coverage (Naeem et al. 2020)
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from scipy import linalg

# --- blob statistics --------------------------------------------------------------------------


def peak_mask(images: np.ndarray, threshold: float) -> np.ndarray:
    """True where a pixel is the strict maximum of its 3x3 neighbourhood and above `threshold`
    (pixels outside the image count as -inf, so peaks on the border are found)."""
    images = np.asarray(images, dtype=np.float64)
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    s = images.shape[-1]
    neighbours = np.stack(
        [
            padded[:, 1 + dy : 1 + dy + s, 1 + dx : 1 + dx + s]
            for dy in (-1, 0, 1)
            for dx in (-1, 0, 1)
            if (dy, dx) != (0, 0)
        ]
    )
    return (images > neighbours.max(axis=0)) & (images > threshold)


def peak_counts(images: np.ndarray, threshold: float) -> np.ndarray:
    return peak_mask(images, threshold).sum(axis=(1, 2))


def total_intensity(images: np.ndarray) -> np.ndarray:
    return np.asarray(images, dtype=np.float64).sum(axis=(1, 2))


def peak_widths(images: np.ndarray, threshold: float) -> np.ndarray:
    """Width estimate sqrt(sx * sy) of the blob at each interior peak, in pixels.

    For f = A exp(-(x - x0)^2 / (2 s^2)) the second difference of log f is -1/s^2 exactly, so
    s = (-d2 log f)^(-1/2) along each axis. Overlapping blobs bias it; peaks on the border or
    with a non-negative curvature are skipped.
    """
    images = np.asarray(images, dtype=np.float64)
    mask = peak_mask(images, threshold)
    mask[:, 0, :] = mask[:, -1, :] = mask[:, :, 0] = mask[:, :, -1] = False
    n, y, x = np.nonzero(mask)
    with np.errstate(divide="ignore", invalid="ignore"):
        log = np.log(np.clip(images, 1e-12, None))
        c = log[n, y, x]
        d2x = log[n, y, x - 1] - 2 * c + log[n, y, x + 1]
        d2y = log[n, y - 1, x] - 2 * c + log[n, y + 1, x]
    ok = (d2x < 0) & (d2y < 0)
    return ((-1 / d2x[ok]) * (-1 / d2y[ok])) ** 0.25


# --- power spectrum ---------------------------------------------------------------------------


def radial_power_spectrum(images: np.ndarray) -> np.ndarray:
    """(n, s//2) power |FFT|^2 / s^2 averaged over rings of integer radius 1 .. s//2 (the mean,
    radius 0, is left out: total intensity is measured on its own)."""
    images = np.asarray(images, dtype=np.float64)
    s = images.shape[-1]
    power = np.abs(np.fft.fft2(images)) ** 2 / s**2
    f = np.fft.fftfreq(s) * s
    radius = np.rint(np.hypot(f[:, None], f[None, :])).astype(int)
    bins = radius.ravel()
    keep = (bins >= 1) & (bins <= s // 2)
    counts = np.bincount(bins[keep], minlength=s // 2 + 1)[1:]
    flat = power.reshape(len(images), -1)[:, keep]
    sums = np.stack(
        [np.bincount(bins[keep], weights=row, minlength=s // 2 + 1)[1:] for row in flat]
    )
    return sums / counts


def spectrum_distance(spectra_a: np.ndarray, spectra_b: np.ndarray) -> float:
    """RMS difference of log10 mean spectra (0 for identical sets; 1 = a factor of 10)."""
    ma, mb = np.mean(spectra_a, axis=0), np.mean(spectra_b, axis=0)
    tiny = 1e-20
    return float(np.sqrt(np.mean((np.log10(ma + tiny) - np.log10(mb + tiny)) ** 2)))


# --- distances between images -----------------------------------------------------------------


def _flat(x: np.ndarray) -> torch.Tensor:
    x = torch.as_tensor(np.asarray(x), dtype=torch.float64)
    return x.reshape(len(x), -1)


def pairwise_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) Euclidean distances (float64)."""
    return torch.cdist(_flat(a), _flat(b)).numpy()


def nearest_distances(
    a: np.ndarray, b: np.ndarray, exclude_self: bool = False, k: int = 1, chunk: int = 1024
) -> np.ndarray:
    """Distance from each row of `a` to its k-th nearest row of `b` (k = 1: the nearest).
    With `exclude_self` (a is b), each row's zero distance to itself is skipped.

    Candidates come from fast matrix-product distances; the distances to the best few are then
    recomputed directly, so an exact copy is at distance exactly 0.
    """
    fa, fb = _flat(a), _flat(b)
    out = np.empty(len(fa))
    m = min(len(fb) - (1 if exclude_self else 0), k + 4)
    for start in range(0, len(fa), chunk):
        rows = fa[start : start + chunk]
        d = torch.cdist(rows, fb)
        if exclude_self:
            r = torch.arange(d.shape[0])
            d[r, r + start] = float("inf")
        cand = torch.topk(d, m, dim=1, largest=False).indices  # (rows, m)
        exact = torch.linalg.vector_norm(rows[:, None, :] - fb[cand], dim=-1)
        out[start : start + chunk] = torch.kthvalue(exact, k, dim=1).values.numpy()
    return out


def mean_pairwise_distance(x: np.ndarray) -> float:
    """Mean Euclidean distance over all pairs i < j."""
    n = len(x)
    if n < 2:
        return 0.0
    d = torch.pdist(_flat(x))
    return float(d.mean())


def relative_spread(x: np.ndarray) -> float:
    """Mean pairwise distance in units of the set's root-mean-square pixel value (so a set of
    fainter or sparser, but equally varied, images is not mistaken for a collapsed one)."""
    rms = float(np.sqrt(np.mean(np.square(np.asarray(x, dtype=np.float64)))))
    return mean_pairwise_distance(x) / rms if rms > 0 else 0.0


def diversity_ratio(x: np.ndarray, real: np.ndarray) -> float:
    """relative_spread of a set over that of real images (1 is ideal, 0 all identical)."""
    return relative_spread(x) / relative_spread(real)


def duplicate_threshold(real: np.ndarray, quantile: float) -> float:
    """The `quantile` of real images' distances to their nearest other real image, relative to
    their mean pairwise distance (a scale-free threshold)."""
    nn = nearest_distances(real, real, exclude_self=True)
    return float(np.quantile(nn, quantile) / mean_pairwise_distance(real))


def duplicate_rate(x: np.ndarray, relative_threshold: float) -> float:
    """Share of samples whose nearest other sample is closer than `relative_threshold` times the
    set's own mean pairwise distance (exact copies always count). Relative to the set's own
    spread, so sparser or fainter images are not mistaken for duplicates."""
    if len(x) < 2:
        return 0.0
    nn = nearest_distances(x, x, exclude_self=True)
    return float(np.mean((nn < relative_threshold * mean_pairwise_distance(x)) | (nn == 0)))


def mode_collapse(
    diversity: float,
    duplicates: float,
    min_diversity_ratio: float = 0.5,
    max_duplicate_rate: float = 0.5,
) -> bool:
    """The collapse rule: the samples spread less than half as much as real images (mean
    pairwise distance), or more than half of them have a near-duplicate among the samples
    (closer, relative to the set's spread, than the 5 % quantile of real images'
    nearest-neighbour distances, so real images of the same count score about 0.05). The first
    catches a generator that makes one image with variations, the second one that makes a few
    images over and over."""
    return bool(diversity < min_diversity_ratio or duplicates > max_duplicate_rate)


def copy_rate(nn_to_train: np.ndarray, threshold: float) -> float:
    """Share of samples closer to a training image than `threshold` (memorization)."""
    return float(np.mean(np.asarray(nn_to_train) < threshold))


# --- feature metrics --------------------------------------------------------------------------


def frechet_distance(fa: np.ndarray, fb: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (as FID)."""
    fa, fb = np.asarray(fa, dtype=np.float64), np.asarray(fb, dtype=np.float64)
    mu_a, mu_b = fa.mean(0), fb.mean(0)
    ca, cb = np.cov(fa, rowvar=False), np.cov(fb, rowvar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        root = linalg.sqrtm(ca @ cb)
    if not np.isfinite(root).all():  # near-singular covariances: regularise, as in FID code
        eps = 1e-6 * np.eye(len(ca))
        root = linalg.sqrtm((ca + eps) @ (cb + eps))
    root = np.real(root)
    value = float(np.sum((mu_a - mu_b) ** 2) + np.trace(ca) + np.trace(cb) - 2 * np.trace(root))
    return max(value, 0.0)


def polynomial_kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """k(x, y) = (x.y / d + 1)^3, the kernel of KID."""
    return (a @ b.T / a.shape[1] + 1.0) ** 3


def mmd2_unbiased(fa: np.ndarray, fb: np.ndarray) -> float:
    """Unbiased MMD² (Gretton et al. 2012, eq. 3) with the cubic polynomial kernel."""
    fa, fb = np.asarray(fa, dtype=np.float64), np.asarray(fb, dtype=np.float64)
    m, n = len(fa), len(fb)
    kaa, kbb, kab = polynomial_kernel(fa, fa), polynomial_kernel(fb, fb), polynomial_kernel(fa, fb)
    return float(
        (kaa.sum() - np.trace(kaa)) / (m * (m - 1))
        + (kbb.sum() - np.trace(kbb)) / (n * (n - 1))
        - 2 * kab.mean()
    )


def kernel_distance(
    fa: np.ndarray, fb: np.ndarray, subsets: int, subset_size: int, rng: np.random.Generator
) -> float:
    """KID: the unbiased MMD² averaged over random subsets of up to `subset_size` points of each
    set (drawn without replacement within a subset)."""
    na, nb = min(subset_size, len(fa)), min(subset_size, len(fb))
    values = [
        mmd2_unbiased(
            fa[rng.choice(len(fa), na, replace=False)], fb[rng.choice(len(fb), nb, replace=False)]
        )
        for _ in range(subsets)
    ]
    return float(np.mean(values))


def prdc(real: np.ndarray, fake: np.ndarray, k: int = 5) -> dict[str, float]:
    """Precision, recall, density and coverage (Naeem et al. 2020) with k nearest neighbours.

    Each real point has a ball of radius = distance to its k-th nearest other real point
    (likewise for fake points, used by recall). precision: share of fake points inside some real
    ball; recall: share of real points inside some fake ball; density: mean number of real
    balls containing a fake point, over k; coverage: share of real balls holding a fake point.
    """
    real, fake = np.asarray(real, dtype=np.float64), np.asarray(fake, dtype=np.float64)
    r_radius = nearest_distances(real, real, exclude_self=True, k=k)
    f_radius = nearest_distances(fake, fake, exclude_self=True, k=k)
    d = pairwise_distances(real, fake)  # (n_real, n_fake)
    inside = d <= r_radius[:, None]
    return {
        "precision": float(inside.any(axis=0).mean()),
        "recall": float((d <= f_radius[None, :]).any(axis=1).mean()),
        "density": float(inside.sum(axis=0).mean() / k),
        "coverage": float((d.min(axis=1) <= r_radius).mean()),
    }
