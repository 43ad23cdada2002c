import json
from pathlib import Path

import numpy as np
import pytest

from scigan.core import workflow
from scigan.core.config import validate
from scigan.core.metrics import metrics_table
from scigan.core.registry import load_case_study, resolve_case_config
from scigan.dna.config import DnaConfig
from scigan.dna.data import build_dataset, save_dataset
from scigan.dna.evaluate import TABLE_COLUMNS, evaluate_sets


@pytest.fixture(scope="module")
def dataset():
    return build_dataset()


def _cfg(*sets: str) -> DnaConfig:
    return validate(
        DnaConfig, resolve_case_config(load_case_study("dna"), None, ["data.path=x", *sets])
    )


def test_planted_training_windows_are_flagged_as_memorized(dataset):
    rng = np.random.default_rng(0)
    copies = dataset.train.codes[rng.choice(len(dataset.train.codes), 300, replace=False)]
    result = evaluate_sets(
        {"copies": copies},
        dataset.train.codes,
        dataset.heldout.codes,
        dataset.training_segments(),
        _cfg("evaluate.c2st=false"),
        seed=0,
    )["copies"]
    assert result["exact_hit_rate"] == 1.0
    assert (result["lcs_median"], result["lcs_p95"]) == (60, 60)
    assert result["c2st_auc"] is None
    assert result["n"] == 300


def test_the_training_set_itself_has_zero_divergence(dataset):
    result = evaluate_sets(
        {"train": dataset.train.codes},
        dataset.train.codes,
        dataset.heldout.codes,
        dataset.training_segments(),
        _cfg("evaluate.c2st=false"),
        seed=0,
    )["train"]
    assert result["kmer_jsd"] == {str(k): 0.0 for k in range(1, 7)}


def test_evaluate_run_writes_metrics_and_figures(tmp_path: Path, dataset):
    save_dataset(dataset, tmp_path / "windows.h5")
    case = load_case_study("dna")
    config = resolve_case_config(
        case,
        None,
        [
            f"data.path={tmp_path / 'windows.h5'}",
            "train.steps=20",
            "log.tensorboard=false",
            "evaluate.loglik_max_order=4",
            "train.engine=autograd",
        ],
    )
    workflow.train(case, config, tmp_path / "run", None, False)
    summary = workflow.evaluate(case, tmp_path / "run", 400, False)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["step"] == 20 and metrics["n_samples"] == 400
    for name in ("generated", "heldout_floor", "baseline_markov3", "baseline_markov5"):
        assert metrics[name]["n"] == 400
        assert sorted(metrics[name]["kmer_jsd"], key=int) == [str(k) for k in range(1, 7)]
        assert 0.0 <= metrics[name]["c2st_auc"] <= 1.0
        np.testing.assert_allclose(
            metrics[name]["c2st_auc"], np.mean(metrics[name]["c2st_auc_folds"])
        )
    assert sorted(metrics["markov_heldout_loglik_bits_per_nt"], key=int) == [
        "0",
        "1",
        "2",
        "3",
        "4",
    ]
    assert metrics["notes"]["heldout_floor_sampled_with_replacement"] is False
    # random training windows: the sampling noise alone; each one is in the training genome
    insample = metrics["insample_floor"]
    assert (insample["n"], insample["exact_hit_rate"], insample["c2st_auc"]) == (400, 1.0, None)
    assert metrics["notes"]["insample_floor_sampled_with_replacement"] is False
    assert {p.name for p in (tmp_path / "run" / "figures").iterdir()} == {
        "losses.png",
        "kmer_spectrum.png",
    }
    assert "| generated |" in summary and "| baseline_markov5 |" in summary
    assert metrics_table(metrics, TABLE_COLUMNS).count("\n") == 6


def test_heldout_halves_give_validation_and_test_scores(dataset):
    from scigan.dna.evaluate import heldout_halves, heldout_halves_metrics
    from scigan.dna.metrics import kmer_counts, kmer_jsd

    heldout = dataset.heldout.codes
    validation, test = heldout_halves(heldout)
    assert len(validation) == len(heldout) // 2 and len(validation) + len(test) == len(heldout)
    assert np.array_equal(np.concatenate([validation, test]), heldout)
    cfg = _cfg("evaluate.c2st=false")
    out = heldout_halves_metrics(validation, heldout, cfg, seed=0, device="cpu")
    ks = cfg.evaluate.kmer_sizes
    assert out["generated_vs_heldout_validation"] == {
        "n_reference": len(validation),
        "kmer_jsd": {str(k): 0.0 for k in ks},
    }
    assert out["generated_vs_heldout_test"] == {
        "n_reference": len(test),
        "kmer_jsd": kmer_jsd(validation, {k: kmer_counts(test, k) for k in ks}, ks),
    }
