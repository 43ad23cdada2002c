"""The contract, run through the command line for every registered case study (scigan's own
and the toy plug-in): train a few steps -> resume -> sample -> evaluate. A resumed run must
end bitwise where an uninterrupted one does, and metrics.json must follow the shared schema."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scigan.cli import main
from scigan.core.logs import read_jsonl
from scigan.core.metrics import schema_problems
from scigan.core.registry import load_case_study
from tests.contract.recipes import CASES, COMMON, SHORT, assert_same_state, checkpoints


def _cli(capsys, *args: str) -> str:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
        raise SystemExit(0)
    out = capsys.readouterr()
    assert exc.value.code == 0, out.err
    return out.out


@pytest.mark.parametrize("name", CASES)
def test_train_resume_sample_evaluate(name, tmp_path, monkeypatch, capsys, mixture_plugin):
    monkeypatch.chdir(tmp_path)  # default data sets are built under ./data
    case = load_case_study(name)
    overrides = COMMON + SHORT.get(name, lambda folder: [])(tmp_path / "data")
    settings = [x for s in overrides for x in ("--set", s)] + ["--no-progress"]

    straight = _cli(capsys, "train", name, "--run-dir", "straight", *settings)
    assert "(new run; done)" in straight
    stopped = _cli(capsys, "train", name, "--run-dir", "split", "--max-steps", "1", *settings)
    assert "stopped at --max-steps" in stopped
    resumed = _cli(capsys, "train", name, "--run-dir", "split", *settings)
    assert "done)" in resumed and "resumed" in resumed

    a, b = checkpoints(tmp_path / "straight"), checkpoints(tmp_path / "split")
    assert a.keys() == b.keys() and a
    for unit in a:
        assert_same_state(a[unit], b[unit], unit)
        log = Path(unit).parent.parent / "log.jsonl"
        rows = read_jsonl(tmp_path / "split" / log)
        assert [r["step"] for r in rows] == list(range(1, a[unit]["step"] + 1))
        assert rows == read_jsonl(tmp_path / "straight" / log)
    info = json.loads((tmp_path / "split" / "run.json").read_text())
    assert info["case_study"] == name

    out = tmp_path / "out" / "samples.txt"
    sampled = _cli(capsys, "sample", "split", "-n", "6", "--out", str(out))
    assert str(tmp_path / "out") in sampled and list((tmp_path / "out").iterdir())

    def outside_the_run() -> dict[Path, int]:
        split = tmp_path / "split"
        return {
            p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if split not in (p, *p.parents)
        }

    before = outside_the_run()
    _cli(capsys, "evaluate", "split", "-n", "16", "--no-progress")
    assert outside_the_run() == before  # evaluate writes nothing outside its run directory
    metrics = json.loads((tmp_path / "split" / "metrics.json").read_text())
    assert schema_problems(metrics, case.metrics_per) == []
    assert (metrics["case_study"], metrics["run_dir"]) == (name, "split")
    assert metrics["step"] == min(state["step"] for state in a.values())


def test_a_plugin_registers_through_its_entry_point_in_a_fresh_process(tmp_path, mixture_plugin):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in mixture_plugin)}
    args = [sys.executable, "-m", "scigan", "train", "mixture", "--run-dir", "r", "--no-progress"]
    args += [x for s in ["train.steps=3", *COMMON] for x in ("--set", s)]
    done = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("r: step 3/3 (new run; done) on cpu with 1 thread(s)")
