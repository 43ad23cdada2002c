import json
from pathlib import Path

import numpy as np
import pytest

from scigan.blobs.config import BlobsConfig
from scigan.blobs.data import build_dataset
from scigan.blobs.encoder import EncoderSpec, encode, load_or_train_encoder, weights_hash
from scigan.blobs.evaluate import TABLE_COLUMNS, Reference, baseline_sets, evaluate_sets
from scigan.cli import main
from scigan.core import workflow
from scigan.core.config import validate
from scigan.core.metrics import metrics_table
from scigan.core.registry import load_case_study, resolve_case_config

ENCODER = ["evaluate.encoder.n_images=64", "evaluate.encoder.epochs=1"]


def _cfg(*sets: str) -> BlobsConfig:
    case = load_case_study("blobs")
    return validate(BlobsConfig, resolve_case_config(case, None, ["data.path=x", *sets]))


def test_encoder_is_deterministic_and_reused(tmp_path: Path):
    d = build_dataset(64, 8, size=16, seed=0)
    spec = EncoderSpec(features=8, epochs=1, n_images=64, batch_size=32, lr=1e-3, seed=0)
    a, info_a = load_or_train_encoder(tmp_path / "a", d.meta["sha256"], d.train, spec)
    b, info_b = load_or_train_encoder(tmp_path / "b", d.meta["sha256"], d.train, spec)
    c, info_c = load_or_train_encoder(tmp_path / "a", d.meta["sha256"], d.train, spec)
    assert weights_hash(a) == weights_hash(b) == weights_hash(c) == info_a["weights_sha256"]
    assert (info_a["loaded_from_cache"], info_c["loaded_from_cache"]) == (False, True)
    assert info_a["key"] == info_c["key"]
    assert encode(a, d.heldout).shape == (8, 8)


def test_sets_of_real_images_copies_and_baselines(tmp_path: Path):
    d = build_dataset(300, 300, size=16, seed=0)
    cfg = _cfg(*ENCODER, "evaluate.kd_subset_size=100")
    spec = EncoderSpec(features=16, epochs=1, n_images=64, batch_size=32, lr=1e-3, seed=0)
    encoder, _ = load_or_train_encoder(tmp_path, d.meta["sha256"], d.train, spec)
    rng = np.random.default_rng(0)
    ref = Reference(d.train, d.heldout, 300, cfg, rng, encoder)
    sets = {"train": d.train, "heldout": d.heldout, **baseline_sets(d, 300, rng)}
    r = evaluate_sets(sets, ref, seed=0)
    t = r["train"]  # the training set itself scores perfect where a metric allows it
    assert (t["w1_peak_count"], t["w1_total_intensity"], t["w1_width"]) == (0.0, 0.0, 0.0)
    assert (t["spectrum_distance"], t["copy_rate"], t["nn_train_median"]) == (0.0, 1.0, 0.0)
    np.testing.assert_allclose(t["fd"], 0.0, atol=1e-6)
    assert t["mode_collapse"] is False
    assert r["heldout"]["mode_collapse"] is False
    assert r["baseline_wrong_params"]["mode_collapse"] is False
    one = r["baseline_one_image"]
    assert (one["mode_collapse"], one["diversity_ratio"], one["duplicate_rate"]) == (True, 0.0, 1.0)
    assert one["copy_rate"] == 1.0
    assert one["peak_count_hist"] == {str(int(one["peak_count_mean"])): 300}


def test_train_sample_evaluate_end_to_end(tmp_path: Path, capsys):
    data = tmp_path / "d"
    with pytest.raises(SystemExit):
        main(["data", "blobs", "--n", "48", "--heldout", "40", "--size", "16", "--out", str(data)])
    run = tmp_path / "run"
    args = ["train", "blobs", "--data", str(data / "blobs.h5"), "--run-dir", str(run)]
    sets = ["num_threads=1", "train.batch_size=16", "train.epochs=2", "log.tensorboard=false"]
    sets += ENCODER + ["evaluate.kd_subset_size=20"]
    with pytest.raises(SystemExit) as exc:
        main(args + [x for s in sets for x in ("--set", s)] + ["--no-progress"])
    assert exc.value.code == 0
    with pytest.raises(SystemExit) as exc:
        main(["sample", str(run), "-n", "10", "--out", str(tmp_path / "s.npy")])
    assert exc.value.code == 0
    samples = np.load(tmp_path / "s.npy")
    assert samples.shape == (10, 16, 16) and (tmp_path / "s.png").is_file()
    assert float(samples.min()) >= 0.0 and float(samples.max()) <= 1.0
    # --out s.txt writes s.npy and s.png: both exist now, so both are checked first
    (tmp_path / "s.npy").unlink()
    grid = (tmp_path / "s.png").read_bytes()
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(["sample", str(run), "-n", "10", "--out", str(tmp_path / "s.txt")])
    assert exc.value.code == 2 and capsys.readouterr().err == (
        f"error: {tmp_path / 's.png'} exists\n"
        "  fix: pass --overwrite to replace it, or choose another --out\n"
    )
    assert not (tmp_path / "s.npy").exists() and (tmp_path / "s.png").read_bytes() == grid
    outside = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if run not in (p, *p.parents)}
    with pytest.raises(SystemExit) as exc:
        main(["evaluate", str(run), "--no-progress"])
    assert exc.value.code == 0
    # evaluate writes nothing outside its run directory (its encoder goes to the run's cache/)
    after = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if run not in (p, *p.parents)}
    assert after == outside
    out = capsys.readouterr().out
    metrics = json.loads((run / "metrics.json").read_text())
    assert (metrics["step"], metrics["epoch"], metrics["n_samples"]) == (6, 2.0, 40)
    names = ("generated", "heldout_floor", "baseline_wrong_params", "baseline_one_image")
    for name in names:
        assert metrics[name]["n"] == 40
        assert 0.0 <= metrics[name]["coverage"] <= 1.0
    assert metrics["baseline_one_image"]["mode_collapse"] is True
    assert len(metrics["encoder"]["weights_sha256"]) == 64
    assert Path(metrics["encoder"]["path"]).parent == run / "cache"
    assert {p.name for p in (run / "figures").iterdir()} == {
        "losses.png",
        "generated_vs_real.png",
        "blob_statistics.png",
    }
    assert (
        metrics_table(metrics, TABLE_COLUMNS).count("\n") == 5 and "| baseline_one_image |" in out
    )


def test_users_images_train_and_evaluate(tmp_path: Path):
    from scigan.blobs.data import dataset_from_images

    rng = np.random.default_rng(0)
    images = build_dataset(60, 1, size=16, seed=1).train * rng.uniform(0.5, 1.0, (60, 1, 1))
    np.save(tmp_path / "mine.npy", images.astype(np.float32))
    with pytest.raises(SystemExit) as exc:
        main(
            ["data", "blobs", "--images", str(tmp_path / "mine.npy"), "--out", str(tmp_path / "d")]
        )
    assert exc.value.code == 0
    from scigan.blobs.storage import load_dataset, read_user_images

    d = load_dataset(tmp_path / "d" / "blobs.h5")
    assert (len(d.train), len(d.heldout), d.train_params, d.meta["source"]) == (
        48,
        12,
        None,
        str(tmp_path / "mine.npy"),
    )
    expected = dataset_from_images(read_user_images(tmp_path / "mine.npy"), 0.2, 0)
    np.testing.assert_array_equal(d.train, expected.train)
    case = load_case_study("blobs")
    config = resolve_case_config(
        case,
        None,
        [f"data.path={tmp_path / 'd' / 'blobs.h5'}", "num_threads=1", "train.batch_size=16",
         "train.epochs=1", "log.tensorboard=false", *ENCODER],
    )  # fmt: skip
    workflow.train(case, config, tmp_path / "run", None, False)
    workflow.evaluate(case, tmp_path / "run", None, False)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert [
        k for k in metrics if k in ("generated", "heldout_floor") or k.startswith("baseline")
    ] == [
        "generated",
        "heldout_floor",
        "baseline_one_image",
    ]
    assert metrics["peak_detector_on_heldout"] is None and metrics["n_samples"] == 12


def test_heldout_halves_give_validation_and_test_scores(tmp_path: Path):
    from scigan.blobs import metrics as m
    from scigan.blobs.evaluate import heldout_halves_metrics

    d = build_dataset(64, 60, size=16, seed=0)
    spec = EncoderSpec(features=8, epochs=1, n_images=64, batch_size=32, lr=1e-3, seed=0)
    encoder, _ = load_or_train_encoder(tmp_path, d.meta["sha256"], d.train, spec)
    cfg = _cfg(*ENCODER)
    # the validation half itself as the generated set: perfect against it, and against the
    # test half exactly what the two halves' features give
    out = heldout_halves_metrics(d.heldout[:30], d.heldout, encoder, cfg)
    validation, test = out["generated_vs_heldout_validation"], out["generated_vs_heldout_test"]
    assert (validation["n_reference"], test["n_reference"]) == (30, 30)
    np.testing.assert_allclose(validation["fd"], 0.0, atol=1e-6)
    assert (validation["precision"], validation["recall"], validation["coverage"]) == (1, 1, 1)
    a, b = encode(encoder, d.heldout[:30]), encode(encoder, d.heldout[30:])
    assert test == {"n_reference": 30, "fd": m.frechet_distance(a, b), **m.prdc(b, a, 5)}
