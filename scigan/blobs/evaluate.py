"""`scigan evaluate` for blob runs: the generator against held-out images and baselines.

Every set of n images goes through the same metrics (metrics.py), against the training images:
    generated              samples of the trained generator
    heldout_floor          n held-out real images: what real data scores
    baseline_wrong_params  blobs drawn from the wrong distribution (1-5 blobs, sigma U[1, 3),
                           centers U[0, 32)); synthetic data sets only
    baseline_one_image     n copies of one training image: a fully collapsed generator
Distribution statistics (Wasserstein distances, power spectrum, FD, KD, memorization) compare
with all training images; size-dependent ones (diversity, duplicates, PRDC) with a fixed random
sample of n training images.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from scigan.blobs import figures
from scigan.blobs.config import BlobsConfig
from scigan.core.casestudy import Evaluation, TrainedRun
from scigan.core.loop import steps_per_epoch
from scigan.core.metrics import metrics_table, pick_rows, wasserstein_1d

TABLE_COLUMNS = (
    "peak_count_mean",
    "w1_peak_count",
    "w1_total_intensity",
    "w1_width",
    "spectrum_distance",
    "diversity_ratio",
    "duplicate_rate",
    "mode_collapse",
    "copy_rate",
    "fd",
    "kd",
    "precision",
    "recall",
    "density",
    "coverage",
)


class Reference:
    """Everything about the real training images that every set is compared with."""

    def __init__(
        self,
        train: np.ndarray,
        heldout: np.ndarray,
        n: int,
        cfg: BlobsConfig,
        rng: np.random.Generator,
        encoder=None,
    ):
        from scigan.blobs import metrics as m

        e = cfg.evaluate
        self.cfg, self.train, self.encoder = cfg, train, encoder
        self.sample = train[np.sort(rng.choice(len(train), min(n, len(train)), replace=False))]
        self.peaks = m.peak_counts(train, e.peak_threshold)
        self.intensity = m.total_intensity(train)
        self.widths = m.peak_widths(train, e.peak_threshold)
        self.spectra = m.radial_power_spectrum(train)
        self.duplicate_threshold = m.duplicate_threshold(self.sample, e.collapse.duplicate_quantile)
        # Memorization scale: how close held-out real images come to the training set.
        self.heldout_nn = m.nearest_distances(heldout, train)
        self.copy_threshold = float(np.quantile(self.heldout_nn, e.copy_quantile))
        if encoder is not None:
            from scigan.blobs.encoder import encode

            self.features = encode(encoder, train)
            self.sample_features = encode(encoder, self.sample)


def set_metrics(images: np.ndarray, ref: Reference, seed: int) -> dict[str, Any]:
    """All metrics of one set of images (n, s, s) against the reference."""
    from scigan.blobs import metrics as m

    e = ref.cfg.evaluate
    peaks = m.peak_counts(images, e.peak_threshold)
    intensity = m.total_intensity(images)
    widths = m.peak_widths(images, e.peak_threshold)
    diversity = m.diversity_ratio(images, ref.sample)
    duplicates = m.duplicate_rate(images, ref.duplicate_threshold)
    nn_train = m.nearest_distances(images, ref.train)
    out: dict[str, Any] = {
        "n": len(images),
        "peak_count_mean": float(peaks.mean()),
        "peak_count_hist": {str(k): int(v) for k, v in enumerate(np.bincount(peaks)) if v},
        "w1_peak_count": wasserstein_1d(peaks, ref.peaks),
        "total_intensity_mean": float(intensity.mean()),
        "w1_total_intensity": wasserstein_1d(intensity, ref.intensity),
        "width_mean": float(widths.mean()) if len(widths) else None,
        "w1_width": wasserstein_1d(widths, ref.widths),
        "spectrum_distance": m.spectrum_distance(m.radial_power_spectrum(images), ref.spectra),
        "diversity_ratio": diversity,
        "duplicate_rate": duplicates,
        "mode_collapse": m.mode_collapse(
            diversity, duplicates, e.collapse.min_diversity_ratio, e.collapse.max_duplicate_rate
        ),
        "nn_train_median": float(np.median(nn_train)),
        "copy_rate": m.copy_rate(nn_train, ref.copy_threshold),
    }
    if ref.encoder is not None:
        from scigan.blobs.encoder import encode

        f = encode(ref.encoder, images)
        out["fd"] = m.frechet_distance(f, ref.features)
        out["kd"] = m.kernel_distance(
            f, ref.features, e.kd_subsets, e.kd_subset_size, np.random.default_rng(seed)
        )
        out.update(m.prdc(ref.sample_features, f, e.prdc_k))
    return out


def evaluate_sets(sets: dict[str, np.ndarray], ref: Reference, seed: int) -> dict[str, Any]:
    return {name: set_metrics(images, ref, seed) for name, images in sets.items()}


def heldout_halves_metrics(
    generated: np.ndarray, heldout: np.ndarray, encoder, cfg: BlobsConfig
) -> dict[str, dict[str, Any]]:
    """generated_vs_heldout_validation / _test: FD and PRDC of the generated set's features
    against the first half of the held-out images (validation: a sweep selects on it) and the
    second (test: the choice is judged on it, never seen by selection)."""
    from scigan.blobs import metrics as m
    from scigan.blobs.encoder import encode

    half = len(heldout) // 2
    f = encode(encoder, generated)
    out = {}
    for name, images in (("validation", heldout[:half]), ("test", heldout[half:])):
        features = encode(encoder, images)
        entry = {"n_reference": int(len(images)), "fd": m.frechet_distance(f, features)}
        entry.update(m.prdc(features, f, cfg.evaluate.prdc_k))
        out[f"generated_vs_heldout_{name}"] = entry
    return out


def baseline_sets(dataset, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    from scigan.blobs.data import WRONG, generate_blobs

    sets = {}
    if dataset.meta.get("source") == "synthetic":
        sets["baseline_wrong_params"] = generate_blobs(
            n, rng, dataset.size, dataset.meta["divisor"], WRONG
        )[0]
    one = dataset.train[rng.integers(len(dataset.train))]
    sets["baseline_one_image"] = np.repeat(one[None], n, axis=0)
    return sets


def evaluate(trained: TrainedRun, n: int | None, say: Callable[[str], None]) -> Evaluation:
    """The trained generator, held-out images and baselines through the same metrics."""
    from scigan.blobs.encoder import EncoderSpec, load_or_train_encoder
    from scigan.blobs.metrics import peak_counts
    from scigan.blobs.storage import load_dataset
    from scigan.blobs.train import generate, seeds

    cfg, device, step, generator = trained.config, trained.device, trained.step, trained.generator
    data_path = Path(cfg.data.path)
    dataset = load_dataset(data_path)
    n = n or cfg.evaluate.n_samples or len(dataset.heldout)
    seed = seeds(cfg.seed)["evaluate"]
    rng = np.random.default_rng(seed)

    say(f"sampling {n} images from step {step}")
    sets: dict[str, np.ndarray] = {"generated": generate(generator, n, seed, device)}
    sets["heldout_floor"], replace = pick_rows(rng, dataset.heldout, n)
    sets.update(baseline_sets(dataset, n, rng))

    enc = cfg.evaluate.encoder
    say("feature encoder (trained once per run, then reused)")
    spec = EncoderSpec(**enc.model_dump(), seed=0)
    # kept in the run's cache/: evaluate writes nothing outside its run directory (the
    # encoder is deterministic, so every run on the same data gets the same weights)
    encoder, encoder_info = load_or_train_encoder(
        trained.run.cache_dir, dataset.meta["sha256"], dataset.train, spec
    )
    say(f"metrics for {', '.join(sets)}")
    ref = Reference(dataset.train, dataset.heldout, n, cfg, rng, encoder)
    metrics = evaluate_sets(sets, ref, seed)
    say("the generated set against the validation and test halves of the held-out images")
    metrics.update(heldout_halves_metrics(sets["generated"], dataset.heldout, encoder, cfg))

    detector = None
    if dataset.heldout_params is not None:
        found = peak_counts(dataset.heldout, cfg.evaluate.peak_threshold)
        true = dataset.heldout_params.count
        detector = {
            "exact_share": float(np.mean(found == true)),
            "mean_detected": float(found.mean()),
            "mean_true": float(true.mean()),
        }
    spe = steps_per_epoch(len(dataset.train), cfg.train.batch_size)
    result = {
        "epoch": step / spe,
        "n_samples": n,
        "data": {
            k: dataset.meta.get(k)
            for k in ("source", "size", "n_train", "n_heldout", "scaling", "sha256")
        },
        "encoder": encoder_info,
        **metrics,
        "peak_detector_on_heldout": detector,
        "notes": {
            "w1_*": "1-D Wasserstein distance of the set's distribution (peaks per image, total "
            "intensity per image, width sqrt(sx*sy) per peak) from the training images'",
            "peaks": f"3x3 strict local maxima above {cfg.evaluate.peak_threshold}; "
            "peak_detector_on_heldout compares them with the true blob counts",
            "spectrum_distance": "RMS of log10 ratio of radially averaged power spectra",
            "diversity_ratio": "mean pairwise pixel distance in units of the set's RMS pixel "
            "value, over the same for n training images",
            "duplicate_rate": "share of samples with another sample closer (relative to the "
            "set's mean pairwise distance) than the "
            f"{cfg.evaluate.collapse.duplicate_quantile} quantile of real nearest-neighbour "
            "distances",
            "mode_collapse": f"diversity_ratio < {cfg.evaluate.collapse.min_diversity_ratio} or "
            f"duplicate_rate > {cfg.evaluate.collapse.max_duplicate_rate}",
            "copy_rate": "share of samples closer to a training image than the "
            f"{cfg.evaluate.copy_quantile} quantile of held-out images' nearest-training "
            "distances (memorization; real held-out images score that quantile)",
            "fd_kd_prdc": "on the encoder's features; PRDC (Naeem et al. 2020, k="
            f"{cfg.evaluate.prdc_k}) against n training images",
            "heldout_floor_sampled_with_replacement": replace,
        },
    }
    log_file = trained.run.log_file
    return Evaluation(
        metrics=result,
        table=metrics_table(result, TABLE_COLUMNS),
        headline=f"step {step}, epoch {result['epoch']:.2f}, {n} samples",
        write_figures=lambda directory: figures.write_figures(
            directory, log_file, sets, dataset.train, cfg.evaluate.peak_threshold, spe
        ),
    )
