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


class ScriptedTask(CountingTask):
    """A CountingTask that, at given calls, sends a signal, crashes or produces NaN."""

    def __init__(self, signals=(), crash_at=None, nan_loss_at=None, nan_weight_at=None):
        super().__init__()
        self.signals = dict(signals)  # call -> signal number
        self.crash_at, self.nan_loss_at, self.nan_weight_at = crash_at, nan_loss_at, nan_weight_at

    def train_step(self):
        losses = super().train_step()
        if self.calls in self.signals:
            os.kill(os.getpid(), self.signals[self.calls])
        if self.calls == self.crash_at:
            raise RuntimeError("simulated crash (kill -9)")
        if self.nan_weight_at is not None and self.calls >= self.nan_weight_at:
            self.w[0] = float("nan")  # a weight broken, the loss it reports still finite
            return {"loss": torch.tensor(0.0)}
        if self.calls == self.nan_loss_at:
            return {"loss": torch.tensor(float("inf"))}
        return losses


def _saved_step(run: Path) -> int:
    return torch.load(run / "checkpoints" / "last.pt", weights_only=True)["step"]


def test_sigterm_saves_at_the_step_boundary_like_ctrl_c(tmp_path: Path, capsys):
    result = run_training(ScriptedTask({5: signal.SIGTERM}), RunDir(tmp_path), _settings())
    assert (result.step, result.interrupted, _saved_step(tmp_path)) == (5, True, 5)
    assert "SIGTERM: stopping after this step and saving a checkpoint" in capsys.readouterr().err


def test_a_second_signal_aborts_and_the_last_checkpoint_stays(tmp_path: Path, capsys):
    from scigan.core.errors import TrainingAborted

    task = ScriptedTask({5: signal.SIGINT})
    original = task.train_step

    def step_then_second_signal():
        losses = original()
        if task.calls == 5:
            os.kill(os.getpid(), signal.SIGINT)  # a second Ctrl-C before the step ends
        return losses

    task.train_step = step_then_second_signal
    try:
        run_training(task, RunDir(tmp_path), _settings())
        raise AssertionError("not aborted")
    except TrainingAborted as exc:
        assert exc.signal_name == "SIGINT"
    assert _saved_step(tmp_path) == 4  # the periodic checkpoint, intact


def test_a_second_signal_during_the_save_waits_for_it(tmp_path: Path, monkeypatch):
    from scigan.core import trainer
    from scigan.core.errors import TrainingAborted

    real_save = trainer.save_checkpoint

    def save_interrupted(path, state):
        if state["step"] == 6:
            os.kill(os.getpid(), signal.SIGTERM)  # arrives while the checkpoint is written
        real_save(path, state)

    monkeypatch.setattr(trainer, "save_checkpoint", save_interrupted)
    task = ScriptedTask({6: signal.SIGINT})
    try:
        run_training(task, RunDir(tmp_path), _settings())
        raise AssertionError("not aborted")
    except TrainingAborted:
        pass
    state = torch.load(tmp_path / "checkpoints" / "last.pt", weights_only=True)
    assert state["step"] == 6 and torch.equal(state["task"]["w"], task.w)


def test_checkpoints_also_on_time(tmp_path: Path):
    settings = LoopSettings(
        steps=20, log_every=1, checkpoint_every=1000, sample_every=0, tensorboard=False,
        progress=False, checkpoint_seconds=1e-9,
    )  # fmt: skip
    try:
        run_training(ScriptedTask(crash_at=7), RunDir(tmp_path), settings)
    except RuntimeError:
        pass
    assert _saved_step(tmp_path) == 6  # a crash loses only the step in flight


def test_a_nonfinite_loss_stops_training_and_keeps_the_last_good_checkpoint(tmp_path: Path):
    import pytest

    from scigan.core.errors import TrainingDiverged

    settings = LoopSettings(20, log_every=1, checkpoint_every=4, sample_every=0, tensorboard=False,
                            progress=False)  # fmt: skip
    with pytest.raises(TrainingDiverged, match=r"diverged at step 7: loss = inf; the last good "
                       r"checkpoint \(step 4\) is kept"):  # fmt: skip
        run_training(ScriptedTask(nan_loss_at=7), RunDir(tmp_path / "loss"), settings)
    assert _saved_step(tmp_path / "loss") == 4
    with pytest.raises(TrainingDiverged, match=r"diverged at step 8: w holds NaN or inf"):
        run_training(ScriptedTask(nan_weight_at=6), RunDir(tmp_path / "w"), settings)
    assert _saved_step(tmp_path / "w") == 4


def test_samples_of_lost_steps_are_removed_and_a_restart_leaves_none(tmp_path: Path):
    settings = LoopSettings(20, log_every=1, checkpoint_every=4, sample_every=3, tensorboard=False,
                            progress=False)  # fmt: skip
    run = RunDir(tmp_path)
    try:
        run_training(ScriptedTask(crash_at=7), run, settings)  # samples 3, 6; checkpoint 4
    except RuntimeError:
        pass
    assert sorted(p.name for p in run.samples_dir.iterdir()) == ["3.txt", "6.txt"]
    run_training(CountingTask(), run, settings, max_steps=5)  # resumed at 4: step 6 was lost
    assert sorted(p.name for p in run.samples_dir.iterdir()) == ["3.txt"]
    run.checkpoint_file.unlink()  # start over from scratch in the same directory
    (run.samples_dir / "stray.txt").write_text("from an earlier attempt")
    run_training(CountingTask(), run, settings, max_steps=4)
    assert sorted(p.name for p in run.samples_dir.iterdir()) == ["3.txt"]


def test_tensorboard_holds_each_step_once_after_a_resume(tmp_path: Path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    settings = LoopSettings(12, log_every=1, checkpoint_every=4, sample_every=0, tensorboard=True,
                            progress=False)  # fmt: skip
    run = RunDir(tmp_path)
    try:
        run_training(ScriptedTask(crash_at=7), run, settings)  # logged 1-6, checkpoint 4
    except RuntimeError:
        pass
    run_training(CountingTask(), run, settings)
    events = EventAccumulator(str(run.tensorboard_dir))
    events.Reload()
    steps = [e.step for e in events.Scalars("loss")]
    assert steps == list(range(1, 13))
