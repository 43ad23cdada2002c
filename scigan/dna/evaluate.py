"""`scigan evaluate` for DNA runs: the generator against held-out windows and Markov baselines.

Every set of sequences goes through the same pipeline (metrics.sequence_set_metrics):
    generated          samples of the trained generator
    heldout_floor      real windows from the held-out block: what real data scores
    insample_floor     random training windows: the metrics' sampling noise alone
    baseline_markov{k} order-k Markov chains fitted on the training windows
All k-mer divergences are against the training windows' spectrum, all memorization statistics
against the training genome (the held-out block excluded). The classifier two-sample test tells
each set from the held-out windows; for the floor it tells a sample of *training* windows from
the held-out ones, i.e. what a generator that reproduced the training data exactly would score.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from scigan.core.casestudy import Evaluation, TrainedRun
from scigan.core.metrics import metrics_table, pick_rows
from scigan.dna import figures
from scigan.dna.config import DnaConfig

TABLE_COLUMNS = (
    "kmer_jsd:1",
    "kmer_jsd:3",
    "kmer_jsd:6",
    "gc_mean",
    "gc_std",
    "lcs_median",
    "lcs_p95",
    "exact_hit_rate",
    "unique_rate",
    "c2st_auc",
)


def evaluate_sets(
    sets: dict[str, np.ndarray],
    train_codes: np.ndarray,
    heldout_codes: np.ndarray,
    segments: list[np.ndarray],
    cfg: DnaConfig,
    seed: int,
    device: str = "cpu",
    skip_c2st: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Metrics for each named set. The C2ST tells each set (but those in `skip_c2st`) from the
    held-out windows, which are in genome order and split into contiguous blocks."""
    from scigan.dna.metrics import LongestMatchIndex, kmer_counts, sequence_set_metrics

    e = cfg.evaluate
    train_counts = {k: kmer_counts(train_codes, k) for k in e.kmer_sizes}
    index = LongestMatchIndex(segments, both_strands=e.both_strands)
    out = {}
    for name, codes in sets.items():
        out[name] = sequence_set_metrics(
            codes,
            train_kmer_counts=train_counts,
            match_index=index,
            c2st_reference=heldout_codes if e.c2st and name not in skip_c2st else None,
            c2st_reference_ordered=True,
            seed=seed,
            ks=e.kmer_sizes,
            device=device,
        )
    return out


def heldout_halves(heldout_codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The held-out windows (in genome order) cut into two contiguous halves: validation (a
    sweep selects on it) and test (the choice is judged on it, never seen by selection)."""
    half = len(heldout_codes) // 2
    return heldout_codes[:half], heldout_codes[half:]


def heldout_halves_metrics(
    generated: np.ndarray, heldout_codes: np.ndarray, cfg: DnaConfig, seed: int, device: str
) -> dict[str, dict[str, Any]]:
    """generated_vs_heldout_validation / _test: the k-mer JSD of the generated set from each
    half's spectrum and the C2ST AUC telling it from each half."""
    from scigan.dna.c2st import c2st_auc_folds
    from scigan.dna.metrics import kmer_counts, kmer_jsd

    ks = cfg.evaluate.kmer_sizes
    out = {}
    halves = heldout_halves(heldout_codes)
    for name, reference in zip(("validation", "test"), halves, strict=True):
        entry: dict[str, Any] = {
            "n_reference": int(len(reference)),
            "kmer_jsd": kmer_jsd(generated, {k: kmer_counts(reference, k) for k in ks}, ks),
        }
        if cfg.evaluate.c2st:
            folds = c2st_auc_folds(
                generated, reference, seed=seed, device=device, ordered_b=True,
                gap=reference.shape[1] - 1,
            )  # fmt: skip
            entry["c2st_auc"] = float(np.mean(folds))
        out[f"generated_vs_heldout_{name}"] = entry
    return out


def evaluate(trained: TrainedRun, n: int | None, say: Callable[[str], None]) -> Evaluation:
    """The trained generator, held-out windows and Markov baselines through the same metrics."""
    from scigan.dna.data import load_dataset
    from scigan.dna.markov import MarkovChain, markov_loglik_table
    from scigan.dna.train import generate, seeds

    cfg, device, step = trained.config, trained.device, trained.step
    generator = trained.generator
    dataset = load_dataset(Path(cfg.data.path))
    if len(dataset.heldout.codes) == 0:
        from scigan.core.errors import InputError

        raise InputError(
            f"the run's data {cfg.data.path} has no held-out windows to compare with",
            "rebuild the data with --holdout-fraction > 0 and train on it",
        )
    n = n or cfg.evaluate.n_samples or len(dataset.heldout.codes)
    seed = seeds(cfg.seed)["evaluate"]
    rng = np.random.default_rng(seed)
    train_codes, heldout_codes = dataset.train.codes, dataset.heldout.codes

    say(f"sampling {n} sequences from step {step}; fitting Markov baselines")
    sets: dict[str, np.ndarray] = {"generated": generate(generator, n, seed, device)}
    sets["heldout_floor"], floor_replaced = pick_rows(rng, heldout_codes, n)
    # random training windows: the metrics' sampling noise alone (the held-out block is
    # another region of the genome, so the held-out floor also holds a shift in composition);
    # its own stream, so that the other sets' draws do not change
    insample_rng = np.random.default_rng([seed, 1])
    sets["insample_floor"], insample_replaced = pick_rows(insample_rng, train_codes, n)
    chains = {}
    for order in cfg.evaluate.markov_orders:
        chains[order] = MarkovChain.fit(train_codes, order, cfg.evaluate.markov_pseudocount)
        sets[f"baseline_markov{order}"] = chains[order].sample(n, dataset.window, rng)
    say(f"metrics for {', '.join(sets)}")
    metrics = evaluate_sets(
        sets,
        train_codes,
        heldout_codes,
        dataset.training_segments(),
        cfg,
        seed,
        device=str(device),
        # the floors' C2ST: training windows against held-out ones, below (for both floors)
        skip_c2st=frozenset({"heldout_floor", "insample_floor"}),
    )
    if cfg.evaluate.c2st:
        from scigan.dna.c2st import c2st_auc_folds

        # The floor's C2ST: held-out vs training windows, both in genome order (an exact copy
        # of the training distribution would score this, not 0.5: the block is another region).
        rows = np.sort(rng.choice(len(train_codes), len(heldout_codes), replace=False))
        folds = c2st_auc_folds(
            heldout_codes, train_codes[rows], seed=seed, device=str(device),
            ordered_a=True, ordered_b=True, gap=dataset.window - 1,
        )  # fmt: skip
        metrics["heldout_floor"]["c2st_auc"] = float(np.mean(folds))
        metrics["heldout_floor"]["c2st_auc_folds"] = folds
    say("the generated set against the validation and test halves of the held-out windows")
    metrics.update(heldout_halves_metrics(sets["generated"], heldout_codes, cfg, seed, str(device)))
    say("held-out log-likelihood of Markov chains")
    loglik = markov_loglik_table(
        train_codes,
        heldout_codes,
        range(cfg.evaluate.loglik_max_order + 1),
        cfg.evaluate.markov_pseudocount,
    )
    result = {
        "n_samples": n,
        "data": {
            k: dataset.meta[k]
            for k in ("accession", "window", "stride", "n_train", "n_heldout", "holdout_block")
        },
        **metrics,
        "markov_heldout_loglik_bits_per_nt": loglik,
        "notes": {
            "kmer_jsd": "Jensen-Shannon divergence (bits) of each set's k-mer spectrum from the "
            "training windows' spectrum",
            "lcs": "longest exact match (nt) of each sequence in the training genome"
            + (" (both strands)" if cfg.evaluate.both_strands else ""),
            "c2st_auc": "AUROC of a 1-D CNN telling the set from held-out windows (0.5 ideal); "
            "for heldout_floor: training windows vs held-out windows",
            "heldout_floor_sampled_with_replacement": floor_replaced,
            "insample_floor": "random training windows, as many as generated: the metrics' "
            "sampling noise without the held-out block's shift (its exact_hit_rate is 1 by "
            "construction; its C2ST is the held-out floor's)",
            "insample_floor_sampled_with_replacement": insample_replaced,
        },
    }
    return Evaluation(
        metrics=result,
        table=metrics_table(result, TABLE_COLUMNS),
        headline=f"step {step}, {n} samples",
        write_figures=lambda directory: figures.write_figures(
            directory, trained.run.log_file, result, sets, train_codes
        ),
    )
