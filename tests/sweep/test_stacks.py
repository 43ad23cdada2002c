"""Stacks in a sweep (Ising): points differing only in stack keys train as one stacked model,
and each point's run directory, and its shorter budgets', is what training it alone gives."""

from __future__ import annotations

import json

import torch

from scigan.core.logs import read_jsonl
from tests.contract.recipes import _ising_data, assert_same_state
from tests.sweep.test_local import _rows, _run

GRID = ["--grid", "train.lr_critic=1e-3,3e-4", "--grid", "train.steps=2,4", "--seeds", "2"]


def _settings(data: list[str]) -> list[str]:
    out = []
    for item in [*data, "device=cpu", "num_threads=1", "evaluate.n_samples=40"]:
        out += ["--set", item]
    return out


def test_stacked_points_are_the_points_trained_alone(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    base = _settings([s for s in _ising_data(tmp_path) if not s.startswith("train.steps")])
    args = ["sweep", "ising", "--sweep-dir", "sw", "--no-progress", *base, *GRID]
    code, out, err = _run(capsys, *args)
    assert code == 0, err
    assert "8/8 points done" in out
    stacks = sorted((tmp_path / "sw" / "stacks").iterdir())
    assert [s.name.split("-")[1] for s in stacks] == ["4"]  # the four 4-step runs, one stack
    assert len(json.loads((stacks[0] / "run.json").read_text())["stack"]) == 4
    points = tmp_path / "sw" / "points"
    assert not list(points.rglob("step_*.pt"))  # the points were trained in the stack
    rows = _rows(tmp_path / "sw")
    assert len(rows) == 8 * 3 and all(r["status"] == "done" for r in rows)
    chosen = {(r["train.lr_critic"], r["train.steps"], r["seed"]): r["point"] for r in rows}
    for lr, steps, seed in [("0.0003", "4", "1"), ("0.001", "2", "0"), ("0.0003", "2", "1")]:
        run = points / chosen[(lr, steps, seed)]
        alone = tmp_path / f"alone-{lr}-{steps}-{seed}"
        settings = [*base, "--set", f"train.lr_critic={lr}", "--set", f"train.steps={steps}"]
        settings += ["--set", f"seed={seed}"]
        assert _run(capsys, "train", "ising", "--run-dir", str(alone), *settings)[0] == 0
        for group in ("00", "01"):
            mine, theirs = (r / "groups" / group for r in (run, alone))
            a = torch.load(mine / "checkpoints" / "last.pt", weights_only=True)
            b = torch.load(theirs / "checkpoints" / "last.pt", weights_only=True)
            assert a["step"] == b["step"] == int(steps)
            assert_same_state(a["task"], b["task"], f"{run.name} group {group}")
            assert read_jsonl(mine / "log.jsonl") == read_jsonl(theirs / "log.jsonl")
        # an ordinary run: train finds it done, evaluate works on it
        code, out, _ = _run(capsys, "train", "ising", "--run-dir", str(run), *settings)
        assert code == 0 and "done)" in out
        code, _, err = _run(capsys, "evaluate", str(run), "--no-progress")
        assert code == 0, err
        _run(capsys, "evaluate", str(alone), "--no-progress")
        mine, theirs = (json.loads((r / "metrics.json").read_text()) for r in (run, alone))
        for m in (mine, theirs):
            m.pop("seconds"), m.pop("run_dir")
        assert mine == theirs


def test_no_stack_and_max_stack_train_points_apart(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    base = _settings([*_ising_data(tmp_path)])
    grid = ["--grid", "train.lr_critic=1e-3,3e-4,1e-4"]
    code, out, err = _run(capsys, "sweep", "ising", "--sweep-dir", "a", "--no-progress", *base,
                          *grid, "--max-stack", "2")  # fmt: skip
    assert code == 0, err
    assert sorted(s.name.split("-")[1] for s in (tmp_path / "a" / "stacks").iterdir()) == ["2"]
    code, out, err = _run(capsys, "sweep", "ising", "--sweep-dir", "b", "--no-progress", *base,
                          *grid, "--no-stack")  # fmt: skip
    assert code == 0, err
    assert not (tmp_path / "b" / "stacks").exists()
    a, b = (sorted(_rows(tmp_path / s), key=lambda r: (r["point"], r["temperature"])) for s in "ab")
    drop = ("seconds",)
    assert [{k: v for k, v in r.items() if k not in drop} for r in a] == [
        {k: v for k, v in r.items() if k not in drop} for r in b
    ]
