"""Fault injection: `scigan train` killed with SIGKILL at random moments (mid-step, mid-log
line, mid-checkpoint), then resumed, ends bitwise where an uninterrupted run ends, with each
step in log.jsonl exactly once and no temporary files left behind.

The moments are drawn from a seeded generator (SCIGAN_FAULT_SEED changes the seed); a failure
names the seed and the kill points, so that it can be replayed."""

from __future__ import annotations

import os
import random
import signal
import time
import zlib
from pathlib import Path

import pytest

from scigan.cli import main
from scigan.core.logs import read_jsonl
from tests.conftest import scigan_process
from tests.contract.recipes import CASES, COMMON, SHORT, assert_same_state, checkpoints

# Per case study: overrides that make training long enough to be killed KILLS times (each
# kill comes at most 1/(2 KILLS) of the way further), and checkpoints frequent, both on steps
# (every 5, so that they fall between log lines of other steps) and on time. 11 kills in all
# take about a minute here, most of it the start of each process.
LONGER = {
    "dna": ["train.steps=150", "log.checkpoint_every=5"],
    "blobs": ["train.epochs=6", "log.checkpoint_every_epochs=1"],  # 4 steps per epoch
    "ising": ["train.steps=60", "log.checkpoint_every=5"],
    "mixture": ["train.steps=400", "log.checkpoint_every=5"],
}
FAULTY = ["log.checkpoint_seconds=0.25"]
KILLS = {"dna": 3, "blobs": 2, "ising": 3, "mixture": 3}  # blobs' steps are the slowest


def _log_lines(run: Path) -> int:
    """Lines written so far to every log.jsonl of the run (a multi-unit run has several)."""
    return sum(p.read_bytes().count(b"\n") for p in run.rglob("log.jsonl"))


@pytest.mark.parametrize("name", CASES)
def test_kill_9_at_random_moments_then_resume_ends_bitwise_as_a_straight_run(
    name, tmp_path, monkeypatch, capsys, mixture_plugin
):
    monkeypatch.chdir(tmp_path)
    overrides = COMMON + SHORT[name](tmp_path / "data") + LONGER[name] + FAULTY
    settings = [x for s in overrides for x in ("--set", s)] + ["--no-progress"]
    # the uninterrupted run, in process; it also builds the default data under ./data
    with pytest.raises(SystemExit) as done:
        main(["train", name, "--run-dir", "straight", *settings])
    assert done.value.code == 0, capsys.readouterr().err
    steps = _log_lines(tmp_path / "straight")

    seed = int(os.environ.get("SCIGAN_FAULT_SEED", "0")) ^ zlib.crc32(name.encode())
    rng = random.Random(seed)
    args = ["train", name, "--run-dir", "faulty", *settings]
    killed_at: list[tuple[int, float]] = []  # (log lines awaited, extra delay in s)
    for _ in range(KILLS[name]):
        process = scigan_process(args, tmp_path, mixture_plugin)
        lines, delay = rng.randint(1, steps // (2 * KILLS[name])), rng.uniform(0.0, 0.05)
        target = _log_lines(tmp_path / "faulty") + lines
        deadline = time.monotonic() + 60
        while process.poll() is None and _log_lines(tmp_path / "faulty") < target:
            assert time.monotonic() < deadline, f"seed {seed}: no progress"
            time.sleep(0.002)
        time.sleep(delay)
        assert process.poll() is None, f"seed {seed}: finished before kill {killed_at}"
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
        killed_at.append((lines, round(delay, 4)))
    final = scigan_process(args, tmp_path, mixture_plugin)
    out, err = final.communicate(timeout=120)
    where = f"seed {seed}, kills after (lines, delay) {killed_at}"
    assert final.returncode == 0, f"{where}: {err}"
    assert "resumed" in out and "done)" in out, where

    straight, faulty = checkpoints(tmp_path / "straight"), checkpoints(tmp_path / "faulty")
    assert straight.keys() == faulty.keys() and straight, where
    for unit in straight:
        assert_same_state(straight[unit], faulty[unit], f"{where}: {unit}")
        log = Path(unit).parent.parent / "log.jsonl"
        rows = read_jsonl(tmp_path / "faulty" / log)
        assert [r["step"] for r in rows] == list(range(1, straight[unit]["step"] + 1)), where
        assert rows == read_jsonl(tmp_path / "straight" / log), where
        assert (tmp_path / "faulty" / log).read_text().endswith("\n"), where
        manifest = Path(unit).parent.parent / "samples.jsonl"
        assert read_jsonl(tmp_path / "faulty" / manifest) == read_jsonl(
            tmp_path / "straight" / manifest
        ), where
    assert sorted(p.name for p in (tmp_path / "faulty").rglob("*.tmp")) == [], where
    assert not list((tmp_path / "faulty").rglob(".*.tmp")), where
