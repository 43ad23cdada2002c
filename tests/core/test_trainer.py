import os
import signal
from pathlib import Path

import torch

from scigan.core.logs import read_jsonl
from scigan.core.rundir import RunDir
from scigan.core.trainer import LoopSettings, run_training


class CountingTask:
    """A toy task: a parameter that random-walks with the task's own RNG."""

    def __init__(self, interrupt_at: int | None = None):
        self.w = torch.zeros(3)
        self.rng = torch.Generator().manual_seed(0)
        self.calls = 0
        self.interrupt_at = interrupt_at

    def train_step(self):
        self.calls += 1
        self.w += torch.randn(3, generator=self.rng)
        if self.calls == self.interrupt_at:
            os.kill(os.getpid(), signal.SIGINT)
        return {"loss": self.w.sum()}

    def state_dict(self):
        return {"w": self.w.clone(), "rng": self.rng.get_state()}

    def load_state_dict(self, state):
        self.w = state["w"].clone()
        self.rng.set_state(state["rng"])

    def write_samples(self, step: int, directory: Path):
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"{step}.txt").write_text(str(self.w.tolist()))


def _settings(steps=20):
    return LoopSettings(
        steps=steps,
        log_every=3,
        checkpoint_every=4,
        sample_every=10,
        tensorboard=False,
        progress=False,
    )


def test_resume_continues_exactly_and_log_matches(tmp_path: Path):
    straight = CountingTask()
    run_training(straight, RunDir(tmp_path / "a"), _settings())

    first = CountingTask()
    result = run_training(first, RunDir(tmp_path / "b"), _settings(), max_steps=7)
    assert (result.step, result.resumed_from) == (7, 0)
    second = CountingTask()
    result = run_training(second, RunDir(tmp_path / "b"), _settings())
    assert (result.step, result.resumed_from) == (20, 7)
    assert torch.equal(second.w, straight.w)
    assert read_jsonl(tmp_path / "b" / "log.jsonl") == read_jsonl(tmp_path / "a" / "log.jsonl")
    assert [r["step"] for r in read_jsonl(tmp_path / "b" / "log.jsonl")] == list(range(1, 21))
    assert sorted(p.name for p in (tmp_path / "b" / "samples").iterdir()) == ["10.txt", "20.txt"]


def test_ctrl_c_saves_a_checkpoint_at_the_step_boundary(tmp_path: Path):
    task = CountingTask(interrupt_at=6)
    result = run_training(task, RunDir(tmp_path), _settings())
    assert (result.step, result.interrupted) == (6, True)
    state = torch.load(tmp_path / "checkpoints" / "last.pt", weights_only=True)
    assert state["step"] == 6
    assert torch.equal(state["task"]["w"], task.w)
    resumed = CountingTask()
    run_training(resumed, RunDir(tmp_path), _settings())
    straight = CountingTask()
    run_training(straight, RunDir(tmp_path / "s"), _settings())
    assert torch.equal(resumed.w, straight.w)


def test_log_entries_after_the_checkpoint_are_dropped_on_resume(tmp_path: Path):
    run = RunDir(tmp_path)
    run_training(CountingTask(), run, _settings(), max_steps=8)
    # Simulate a crash after step 8's checkpoint: log lines for steps 9-10 without a checkpoint.
    with run.log_file.open("a") as f:
        f.write('{"step": 9, "loss": 1.0}\n{"step": 10, "loss": 2.0}\n')
    run_training(CountingTask(), run, _settings())
    steps = [r["step"] for r in read_jsonl(run.log_file)]
    assert steps == list(range(1, 21))


def test_describe_stop_names_how_a_run_ended():
    from scigan.core.trainer import describe_stop

    assert describe_stop(True, 5, 10) == "interrupted; checkpoint saved, run again to resume"
    assert describe_stop(False, 5, 10) == "stopped at --max-steps; run again to continue"
    assert describe_stop(False, 10, 10) == "done"
