"""`scigan sweep` end to end on the toy mixture case study: points are ordinary runs equal
to the same config trained alone; re-runs resume and train only new grid values; a failed
point is recorded and the others go on; bad sweeps fail before anything trains."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch

from scigan.cli import main
from tests.contract.recipes import assert_same_state

BASE = ["--set", "train.steps=30", "--set", "device=cpu", "--set", "log.checkpoint_every=10"]


def _run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def _rows(sweep: Path) -> list[dict[str, str]]:
    with (sweep / "results.csv").open() as f:
        return list(csv.DictReader(f))


def test_a_sweep_trains_evaluates_tabulates_selects_and_resumes(
    tmp_path, monkeypatch, capsys, mixture_plugin
):
    monkeypatch.chdir(tmp_path)
    sweep = ["sweep", "mixture", "--sweep-dir", "sw", "--no-progress", *BASE]
    grid = ["--grid", "train.lr=0.002,0.0005", "--seeds", "2"]
    select = ["--select", "generated.w1_train", "--select", "max:generated.std"]
    code, out, err = _run(capsys, *sweep, *grid, *select)
    assert code == 0, err
    assert out.splitlines()[-1] == (
        "sw: 4/4 points done, 0 failed; 4 rows in sw/results.csv, selection in sw/selection.json"
    )
    assert [line.split(" (")[1].split(", ")[1] for line in out.splitlines()[:4]] == [
        "30 GAN-steps at " + line.rsplit(" at ", 1)[1] for line in out.splitlines()[:4]
    ]  # one GAN, 30 steps per point
    rows = _rows(tmp_path / "sw")
    assert [(r["train.lr"], r["seed"], r["status"]) for r in rows] == [
        ("0.002", "0", "done"), ("0.002", "1", "done"),
        ("0.0005", "0", "done"), ("0.0005", "1", "done"),
    ]  # fmt: skip
    assert all(float(r["generated.w1_train"]) > 0 and r["step"] == "30" for r in rows)
    best = min(rows, key=lambda r: float(r["generated.w1_train"]))
    selection = json.loads((tmp_path / "sw" / "selection.json").read_text())
    assert selection["criteria"]["generated.w1_train"]["chosen"] == [
        {
            "point": best["point"],
            "value": float(best["generated.w1_train"]),
            "config": {"train.lr": float(best["train.lr"]), "seed": int(best["seed"])},
        }
    ]
    assert sorted(p.name for p in (tmp_path / "sw" / "figures").iterdir()) == ["criteria.png"]
    widest = max(rows, key=lambda r: float(r["generated.std"]))
    assert selection["criteria"]["max:generated.std"]["chosen"][0]["point"] == widest["point"]

    # a point is an ordinary run: the same config trained alone ends bitwise the same
    point = tmp_path / "sw" / "points" / rows[1]["point"]
    alone = [*BASE, "--set", "train.lr=0.002", "--set", "seed=1", "--no-progress"]
    assert _run(capsys, "train", "mixture", "--run-dir", "alone", *alone)[0] == 0
    assert_same_state(
        torch.load(point / "checkpoints" / "last.pt", weights_only=True),
        torch.load(tmp_path / "alone" / "checkpoints" / "last.pt", weights_only=True),
        "point vs alone",
    )
    assert _run(capsys, "evaluate", str(point), "--no-progress")[0] == 0

    # re-run: nothing to train; a grid with one more value trains only its points
    mtimes = {p: p.stat().st_mtime_ns for p in (tmp_path / "sw" / "points").rglob("last.pt")}
    code, out, _ = _run(capsys, *sweep, *grid, *select)
    assert code == 0 and "4/4 points done" in out and "done (" not in out
    extended = ["--grid", "train.lr=0.002,0.0005,0.001", "--seeds", "2"]
    code, out, _ = _run(capsys, *sweep, *extended, *select)
    assert code == 0 and "6/6 points done" in out
    assert out.count(": done (") == 2 and "train.lr=0.001" in out
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes


def test_a_failed_point_is_recorded_and_the_others_go_on(
    tmp_path, monkeypatch, capsys, mixture_plugin
):
    monkeypatch.chdir(tmp_path)
    args = ["sweep", "mixture", "--sweep-dir", "sw", "--no-progress", *BASE]
    # a learning rate this large drives the weights to inf: training diverges
    grid = ["--grid", "train.lr=1e30,0.002", "--select", "generated.w1_train"]
    code, out, err = _run(capsys, *args, *grid)
    assert code == 0, err
    assert "1/2 points done, 1 failed" in out
    failed, done = _rows(tmp_path / "sw")
    assert (failed["status"], done["status"]) == ("failed", "done")
    assert failed["error"].startswith("training diverged at step ")
    chosen = json.loads((tmp_path / "sw" / "selection.json").read_text())
    assert [c["point"] for c in chosen["criteria"]["generated.w1_train"]["chosen"]] == [
        done["point"]
    ]


@pytest.mark.parametrize(
    ("grid", "problem"),
    [
        (["--grid", "train.nope=1,2"], "error: grid key 'train.nope' is not a config key"),
        ([], "error: the sweep has an empty grid"),
        (["--grid", "train.lr=fast,0.1"], "error: grid point train.lr=fast"),
        (["--grid", "train.lr=0.1", "--select", "bogus"],
         "error: unknown selection criterion 'bogus' for mixture"),
        (["--grid", "train.lr=0.1", "--select", "a +"], "error: selection criterion 'a +'"),
    ],
)  # fmt: skip
def test_a_bad_sweep_is_one_error_before_anything_trains(
    tmp_path, monkeypatch, capsys, mixture_plugin, grid, problem
):
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(capsys, "sweep", "mixture", "--sweep-dir", "sw", *BASE, *grid)
    assert code == 2, err
    assert err.startswith(problem) and "\n  fix: " in err
    assert not (tmp_path / "sw" / "points").exists()


def test_a_sweep_directory_keeps_its_base_config(tmp_path, monkeypatch, capsys, mixture_plugin):
    monkeypatch.chdir(tmp_path)
    args = ["sweep", "mixture", "--sweep-dir", "sw", "--no-progress", "--grid", "train.lr=0.002"]
    assert _run(capsys, *args, *BASE, "--select", "generated.w1_train")[0] == 0
    code, _, err = _run(capsys, *args, *BASE, "--set", "model.hidden=8")
    assert code == 2 and "holds a sweep with another set" in err


def test_parallel_workers_give_the_points_of_a_sequential_sweep(
    tmp_path, monkeypatch, capsys, mixture_plugin
):
    monkeypatch.chdir(tmp_path)
    args = ["sweep", "mixture", "--no-progress", *BASE, "--grid", "train.lr=0.002,0.001"]
    args += ["--select", "generated.w1_train"]
    assert _run(capsys, *args, "--sweep-dir", "one")[0] == 0
    code, out, err = _run(capsys, *args, "--sweep-dir", "two", "--max-parallel", "2")
    assert code == 0, err
    assert "2/2 points done" in out
    for point in (tmp_path / "one" / "points").iterdir():
        assert_same_state(
            torch.load(point / "checkpoints" / "last.pt", weights_only=True),
            torch.load(tmp_path / "two" / "points" / point.name / "checkpoints" / "last.pt",
                       weights_only=True),
            point.name,
        )  # fmt: skip


def test_sigterm_stops_the_sweep_with_the_points_checkpoint_saved(tmp_path, mixture_plugin):
    import signal
    import time

    from tests.conftest import scigan_process

    args = ["sweep", "mixture", "--sweep-dir", "sw", "--no-progress", "--set", "device=cpu"]
    args += ["--grid", "train.steps=10000000,20000000", "--select", "generated.w1_train"]
    process = scigan_process(args, tmp_path, mixture_plugin)
    deadline = time.monotonic() + 60
    while not list((tmp_path / "sw" / "points").glob("*/log.jsonl")):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 3, err
    assert "0/2 points done, 0 failed; interrupted, run again to continue" in out
    (point,) = (tmp_path / "sw" / "points").iterdir()
    assert torch.load(point / "checkpoints" / "last.pt", weights_only=True)["step"] > 0
    assert not (tmp_path / "sw" / "state.json").exists()  # no point finished or failed


def test_sigterm_to_a_parallel_sweep_stops_its_workers_with_checkpoints(tmp_path, mixture_plugin):
    import signal
    import time

    from scigan.core.rundir import exclusive_lock
    from tests.conftest import scigan_process

    args = ["sweep", "mixture", "--sweep-dir", "sw", "--no-progress", "--set", "device=cpu"]
    args += ["--set", "train.steps=10000000", "--grid", "train.lr=0.001,0.002,0.003"]
    args += ["--select", "generated.w1_train", "--max-parallel", "2"]
    process = scigan_process(args, tmp_path, mixture_plugin)
    deadline = time.monotonic() + 90
    while len(list((tmp_path / "sw" / "points").glob("*/log.jsonl"))) < 2:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(process.communicate())
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=90)
    assert process.returncode == 3, err
    assert "0/3 points done, 0 failed; interrupted, run again to continue" in out
    points = sorted((tmp_path / "sw" / "points").iterdir())
    assert len(points) == 2  # the third never started
    for point in points:
        assert torch.load(point / "checkpoints" / "last.pt", weights_only=True)["step"] > 0
        with exclusive_lock(point / ".lock", str(point)):  # no worker is left holding it
            pass
