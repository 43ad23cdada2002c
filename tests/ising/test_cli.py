"""`scigan train ising` and `scigan evaluate` from the command line, and user errors."""

from pathlib import Path

import pytest

from scigan.cli import main


def _run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
        raise SystemExit(0)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_train_and_evaluate_from_the_command_line(small_ising, tmp_path: Path, capsys):
    run = str(tmp_path / "run")
    args = ["--data", str(small_ising), "--run-dir", run, "--no-progress"]
    sets = ["--set", "train.batch_size=8", "--set", "num_threads=1", "--set", "train.steps=3"]
    code, out, _ = _run(capsys, "train", "ising", *args, *sets, "--max-steps", "2")
    assert code == 0 and "group 0: step 2/3" in out
    code, out, _ = _run(capsys, "train", "ising", *args, *sets)
    assert code == 0 and "group 0: step 3/3 (resumed; done)" in out
    code, out, _ = _run(capsys, "evaluate", run, "--no-progress")
    assert code == 0 and "metrics.json" in out


def test_sample_without_out_writes_samples_npz(small_ising, tmp_path: Path, capsys, monkeypatch):
    import numpy as np

    run = str(tmp_path / "run")
    args = ["--data", str(small_ising), "--run-dir", run, "--no-progress"]
    sets = ["--set", "train.batch_size=8", "--set", "num_threads=1", "--set", "train.steps=1"]
    assert _run(capsys, "train", "ising", *args, *sets)[0] == 0
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    code, out, _ = _run(capsys, "sample", run, "-n", "4")
    assert code == 0 and out.startswith("samples.npz: 4 lattices")
    assert sorted(p.name for p in here.iterdir()) == ["samples.npz"]
    with np.load(here / "samples.npz") as saved:
        assert saved["spins"].shape == (3, 4, 4, 4)
        assert saved["temperatures"].tolist() == [1.0, 2.0, 3.0]


def test_user_errors(small_ising, tmp_path: Path, capsys):
    missing = str(tmp_path / "none.h5")
    code, _, err = _run(capsys, "train", "ising", "--data", missing, "--run-dir", str(tmp_path))
    assert code == 2 and "does not exist" in err and "fix:" in err
    code, _, err = _run(
        capsys, "train", "ising", "--data", str(small_ising), "--set", "data.temperatures=[9.9]",
        "--run-dir", str(tmp_path / "r"),
    )  # fmt: skip
    assert code == 2 and "not in the data set's grid" in err
    code, _, err = _run(
        capsys, "train", "ising", "--data", str(small_ising), "--set", "data.augment=[mirror]",
        "--run-dir", str(tmp_path / "r2"),
    )  # fmt: skip
    assert code == 2 and "data.augment" in err
