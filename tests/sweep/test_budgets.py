"""Nested budgets: a grid over a budget key trains the longest budget once; each shorter one
is its checkpoint kept at that step, an ordinary run equal to training it alone."""

from __future__ import annotations

import json

import pytest
import torch

from scigan.core.errors import ConfigError
from scigan.core.logs import read_jsonl
from scigan.core.registry import load_case_study
from scigan.sweep.budgets import plan_runs
from scigan.sweep.spec import Point
from tests.contract.recipes import assert_same_state
from tests.sweep.test_local import BASE, _rows, _run

GRID = ["--grid", "train.steps=10,30,20", "--grid", "train.lr=0.002,0.001"]


def test_shorter_budgets_are_the_longest_runs_checkpoints_and_equal_training_alone(
    tmp_path, monkeypatch, capsys, mixture_plugin
):
    monkeypatch.chdir(tmp_path)
    args = ["sweep", "mixture", "--sweep-dir", "sw", "--no-progress", *BASE, *GRID]
    code, out, err = _run(capsys, *args, "--select", "generated.w1_train")
    assert code == 0, err
    assert "6/6 points done" in out and out.count("from the checkpoints of") == 4
    points = tmp_path / "sw" / "points"
    trained = sorted({p.parent.parent.name for p in points.rglob("step_*.pt")})
    assert [len(list((points / t / "checkpoints").glob("step_*.pt"))) for t in trained] == [2, 2]
    assert all(name.startswith("train.steps=30,") for name in trained)
    rows = {(r["train.steps"], r["train.lr"]): r for r in _rows(tmp_path / "sw")}
    assert sorted(rows) == sorted((s, lr) for s in ("10", "20", "30") for lr in ("0.002", "0.001"))
    for (steps, lr), row in rows.items():
        assert (row["status"], row["step"]) == ("done", steps)
        run = points / row["point"]
        assert [r["step"] for r in read_jsonl(run / "log.jsonl")][-1] == int(steps)
        if steps == "30":
            continue
        alone = tmp_path / f"alone-{steps}-{lr}"
        settings = [*BASE, "--set", f"train.steps={steps}", "--set", f"train.lr={lr}"]
        assert _run(capsys, "train", "mixture", "--run-dir", str(alone), *settings)[0] == 0
        assert_same_state(
            torch.load(run / "checkpoints" / "last.pt", weights_only=True),
            torch.load(alone / "checkpoints" / "last.pt", weights_only=True),
            row["point"],
        )
        assert read_jsonl(run / "log.jsonl") == read_jsonl(alone / "log.jsonl")
        # an ordinary run: train finds it done, evaluate and sample work
        code, out, _ = _run(capsys, "train", "mixture", "--run-dir", str(run), *settings)
        assert code == 0 and f"step {steps}/{steps}" in out and "done)" in out
        metrics = json.loads((run / "metrics.json").read_text())
        assert metrics["step"] == int(steps)


def test_a_schedule_over_the_whole_length_refuses_nested_budgets():
    ising = load_case_study("ising")
    from scigan.core.config import read_yaml, validate
    from scigan.ising.config import IsingGanConfig  # noqa: F401 (the case study's model)

    config = read_yaml(ising.defaults_path())
    config["train"]["lr_schedule"] = "linear"
    cfg = validate(ising.config_model, config)
    assert ising.nested_budget_problem(cfg) == (
        "train.lr_schedule linear decays the rates over the run's whole length, so a shorter "
        "budget is not a longer run's earlier checkpoint"
    )
    points = [Point({"train.epochs": e}, f"e{e}") for e in (1, 2)]
    resolved = []
    for point in points:
        c = json.loads(json.dumps(config))
        c["train"]["epochs"] = point.overrides["train.epochs"]
        resolved.append((point, c))
    with pytest.raises(ConfigError) as error:
        plan_runs(ising, ["train.epochs"], resolved)
    assert error.value.problem.startswith(
        "the grid over train.epochs cannot share training runs: train.lr_schedule linear"
    )
