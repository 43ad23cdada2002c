"""Gaussian-blob images (thesis §4.2.1, eq. 4.1), and users' own grayscale images.

Each synthetic image is the sum of n ~ U{3, ..., 9} blobs
    f(x, y) = A exp(-((x - x0)^2 / (2 sx^2) + (y - y0)^2 / (2 sy^2))),
A = 1, x0, y0 ~ U[0, 28), sx, sy ~ U[2, 5), on the pixel grid x, y = 0, 1, ..., size - 1 (x is
the column, y the row). Centers are drawn from [0, 28) even on a 32-pixel image, as in the thesis.

Intensity scaling (the thesis does not state one; its generator ends in a sigmoid while sums of
blobs exceed 1): every image is divided by the same constant, `divisor` = 5, then clipped to
[0, 1]. A fixed divisor keeps intensities comparable across images (peak heights and total
intensity keep their meaning, unlike a per-image maximum); no sum of blobs exceeded 5 in 100,000
test images (median maximum 1.9), and the number of clipped pixels is stored anyway. The true
parameters of every blob (count, centers, widths) are stored per image: they are the ground
truth for the metrics.

Seeds: the training and held-out sets draw from two independent streams spawned from one
numpy SeedSequence. Reading users' images and writing data sets to files: storage.py.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from scigan.core.errors import InputError

MAX_BLOBS_STORED = 16


@dataclass(frozen=True)
class BlobDistribution:
    """The distribution of blob parameters (defaults: the thesis, eq. 4.1)."""

    n_min: int = 3
    n_max: int = 9  # inclusive
    center_low: float = 0.0
    center_high: float = 28.0
    sigma_low: float = 2.0
    sigma_high: float = 5.0
    amplitude: float = 1.0


THESIS = BlobDistribution()
# The trivial baseline of the evaluation: blobs of the wrong count, width and placement.
WRONG = BlobDistribution(
    n_min=1, n_max=5, center_low=0.0, center_high=32.0, sigma_low=1.0, sigma_high=3.0
)


@dataclass
class BlobParams:
    """Per-image blob parameters; arrays (n, MAX_BLOBS_STORED) padded with NaN."""

    count: np.ndarray
    x0: np.ndarray
    y0: np.ndarray
    sx: np.ndarray
    sy: np.ndarray

    def __len__(self) -> int:
        return len(self.count)


@dataclass
class BlobDataset:
    train: np.ndarray  # (n, size, size) float32 in [0, 1]
    heldout: np.ndarray
    train_params: BlobParams | None = None  # None for users' images
    heldout_params: BlobParams | None = None
    meta: dict = field(default_factory=dict)

    @property
    def size(self) -> int:
        return int(self.train.shape[-1])


def sample_params(n: int, rng: np.random.Generator, dist: BlobDistribution = THESIS) -> BlobParams:
    """Blob parameters of `n` images."""
    if not 1 <= dist.n_min <= dist.n_max <= MAX_BLOBS_STORED:
        raise ValueError(f"blob counts must satisfy 1 <= n_min <= n_max <= {MAX_BLOBS_STORED}")
    count = rng.integers(dist.n_min, dist.n_max + 1, size=n)
    shape = (n, MAX_BLOBS_STORED)
    values = {
        "x0": rng.uniform(dist.center_low, dist.center_high, shape),
        "y0": rng.uniform(dist.center_low, dist.center_high, shape),
        "sx": rng.uniform(dist.sigma_low, dist.sigma_high, shape),
        "sy": rng.uniform(dist.sigma_low, dist.sigma_high, shape),
    }
    unused = np.arange(MAX_BLOBS_STORED)[None, :] >= count[:, None]
    for v in values.values():
        v[unused] = np.nan
    return BlobParams(count=count.astype(np.int64), **values)


def render(params: BlobParams, size: int = 32, amplitude: float = 1.0) -> np.ndarray:
    """Sum of blobs (eq. 4.1), unscaled: (n, size, size) float64, image[y, x]."""
    grid = np.arange(size, dtype=np.float64)
    out = np.zeros((len(params), size, size))
    for j in range(MAX_BLOBS_STORED):
        used = np.flatnonzero(j < params.count)
        if len(used) == 0:
            break
        gx = np.exp(
            -((grid[None, :] - params.x0[used, j, None]) ** 2) / (2 * params.sx[used, j, None] ** 2)
        )
        gy = np.exp(
            -((grid[None, :] - params.y0[used, j, None]) ** 2) / (2 * params.sy[used, j, None] ** 2)
        )
        out[used] += amplitude * gy[:, :, None] * gx[:, None, :]
    return out


def scale_intensity(raw: np.ndarray, divisor: float) -> np.ndarray:
    """The documented scaling: raw / divisor, clipped to [0, 1], as float32."""
    return np.clip(raw / divisor, 0.0, 1.0).astype(np.float32)


def generate_blobs(
    n: int,
    rng: np.random.Generator,
    size: int = 32,
    divisor: float = 5.0,
    dist: BlobDistribution = THESIS,
) -> tuple[np.ndarray, BlobParams, int]:
    """n scaled images, their parameters, and the number of pixels clipped at 1."""
    params = sample_params(n, rng, dist)
    raw = render(params, size, dist.amplitude)
    return scale_intensity(raw, divisor), params, int((raw > divisor).sum())


def build_dataset(
    n_train: int = 10_000,
    n_heldout: int = 2_000,
    size: int = 32,
    seed: int = 0,
    divisor: float = 5.0,
) -> BlobDataset:
    """The thesis data set: independent training and held-out images."""
    check_size(size)
    if n_train < 1 or n_heldout < 1:
        raise InputError(
            "the data set needs at least one training and one held-out image",
            "use --n >= 1 and --heldout >= 1",
        )
    if divisor <= 0:
        raise InputError(f"the intensity divisor must be positive, got {divisor}", "use e.g. 5")
    train_ss, heldout_ss = np.random.SeedSequence(seed).spawn(2)
    train, train_p, clip_a = generate_blobs(n_train, np.random.default_rng(train_ss), size, divisor)
    held, held_p, clip_b = generate_blobs(
        n_heldout, np.random.default_rng(heldout_ss), size, divisor
    )
    meta = {
        "source": "synthetic",
        "size": size,
        "n_train": n_train,
        "n_heldout": n_heldout,
        "seed": seed,
        "divisor": divisor,
        "scaling": f"sum of blobs / {divisor}, clipped to [0, 1]",
        "n_clipped_pixels": clip_a + clip_b,
        "distribution": THESIS.__dict__ | {"n_max_inclusive": True},
    }
    meta["sha256"] = _digest(train)
    return BlobDataset(train, held, train_p, held_p, meta)


def check_size(size: int) -> None:
    if size < 8 or size % 8:
        raise InputError(
            f"image size {size} is not supported: the generator upsamples size/4 twice and the "
            "discriminator halves the size three times",
            "use a square size that is a multiple of 8 (the thesis uses 32)",
        )


def _digest(images: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(images, dtype=np.float32).tobytes()).hexdigest()


def dataset_from_images(
    images: np.ndarray, heldout_fraction: float = 0.2, seed: int = 0, source: str = "user"
) -> BlobDataset:
    """Split users' images at random (seeded) into training and held-out sets."""
    if not 0 < heldout_fraction < 1:
        raise InputError(
            f"--heldout-fraction must be in (0, 1), got {heldout_fraction}", "use e.g. 0.2"
        )
    n = len(images)
    n_held = min(n - 1, max(1, round(heldout_fraction * n)))
    order = np.random.default_rng(np.random.SeedSequence(seed)).permutation(n)
    train, held = images[np.sort(order[n_held:])], images[np.sort(order[:n_held])]
    meta = {
        "source": source,
        "size": int(images.shape[1]),
        "n_train": len(train),
        "n_heldout": len(held),
        "seed": seed,
        "heldout_fraction": heldout_fraction,
        "scaling": "as given (values in [0, 1])",
        "sha256": _digest(train),
    }
    return BlobDataset(train, held, None, None, meta)
