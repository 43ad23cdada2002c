"""How `scigan train` ends, as a scheduler or a shell sees it: exit codes, signals, locks,
non-finite settings and weights."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch

from scigan.cli import main
from tests.conftest import scigan_process

FAST = ["--set", "num_threads=1", "--set", "device=cpu", "--no-progress"]


def _run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
        raise SystemExit(0)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


_scigan = scigan_process


def _wait_for(path: Path, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while not path.is_file():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_saves_and_exits_3_and_the_run_resumes(tmp_path, mixture_plugin, signum):
    args = ["train", "mixture", "--run-dir", "r", "--set", "train.steps=10000000", *FAST]
    process = _scigan(args, tmp_path, mixture_plugin)
    _wait_for(tmp_path / "r" / "log.jsonl", process)
    process.send_signal(signum)
    out, err = process.communicate(timeout=60)
    name = signal.Signals(signum).name
    assert process.returncode == 3, err
    assert f"scigan: {name}: stopping after this step and saving a checkpoint" in err
    assert "(resumed" not in out and "interrupted; checkpoint saved, run again to resume" in out
    saved = torch.load(tmp_path / "r" / "checkpoints" / "last.pt", weights_only=True)["step"]
    assert saved > 0 and f"step {saved}/10000000" in out


def test_a_second_process_on_the_same_run_fails_naming_the_first(tmp_path, mixture_plugin):
    args = ["train", "mixture", "--run-dir", "r", "--set", "train.steps=10000000", *FAST]
    first = _scigan(args, tmp_path, mixture_plugin)
    try:
        _wait_for(tmp_path / "r" / "log.jsonl", first)
        second = _scigan(args, tmp_path, mixture_plugin)
        out, err = second.communicate(timeout=60)
        assert second.returncode == 2
        assert f"error: run directory r is in use by process {first.pid} on " in err
        assert "Traceback" not in err
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=60)
    assert first.returncode == 3


def test_nonfinite_settings_are_refused(tmp_path, capsys):
    for value in ("inf", "nan", "-.inf"):
        code, _, err = _run(
            capsys, "train", "dna", "--run-dir", str(tmp_path / "r"),
            "--set", f"train.lr_generator={value}",
        )  # fmt: skip
        assert code == 2 and "train.lr_generator: Input should be a finite number" in err
    code, _, err = _run(capsys, "train", "dna", "--run-dir", str(tmp_path / "r"),
                        "--set", "train.adam_betas=[0.9, 1.5]")  # fmt: skip
    assert code == 2 and "train.adam_betas.1: Input should be less than 1" in err
    assert not (tmp_path / "r").exists()


def test_diverged_training_exits_4_and_keeps_the_last_good_checkpoint(
    tmp_path, capsys, monkeypatch, mixture_plugin
):
    from scigan_mixture import casestudy

    real_step = casestudy.MixtureTask.train_step
    calls = []

    def diverging(self):
        losses = real_step(self)
        calls.append(1)
        if len(calls) >= 7:  # from step 7 on the discriminator's loss is NaN
            return {**losses, "loss_d": losses["loss_d"] * float("nan")}
        return losses

    monkeypatch.setattr(casestudy.MixtureTask, "train_step", diverging)
    monkeypatch.chdir(tmp_path)
    settings = [
        "--set",
        "train.steps=20",
        "--set",
        "log.every=1",
        "--set",
        "log.checkpoint_every=5",
    ]
    code, _, err = _run(capsys, "train", "mixture", "--run-dir", "r", *settings, *FAST)
    assert code == 4
    assert (
        "error: training diverged at step 7: loss_d = nan; the last good checkpoint (step 5)" in err
    )
    assert torch.load(tmp_path / "r" / "checkpoints" / "last.pt", weights_only=True)["step"] == 5


def test_sample_and_evaluate_refuse_nonfinite_weights(
    tmp_path, capsys, monkeypatch, mixture_plugin
):
    monkeypatch.chdir(tmp_path)
    code, _, _ = _run(capsys, "train", "mixture", "--run-dir", "r", "--set", "train.steps=3", *FAST)
    assert code == 0
    checkpoint = tmp_path / "r" / "checkpoints" / "last.pt"
    state = torch.load(checkpoint, weights_only=True)
    state["task"]["generator"]["0.weight"][0, 0] = float("nan")
    torch.save(state, checkpoint)
    for command in (["sample", "r", "--out", "s.txt"], ["evaluate", "r", "--no-progress"]):
        code, _, err = _run(capsys, *command)
        assert code == 2
        assert "error: the checkpoint of r (step 3) holds NaN or infinite weights (0.weight)" in err
    assert not (tmp_path / "s.txt").exists() and not (tmp_path / "r" / "metrics.json").exists()


def test_exit_codes_of_the_outcomes(capsys, monkeypatch):
    from scigan.core import workflow
    from scigan.core.errors import TrainingAborted

    def aborted(*args, **kwargs):
        raise TrainingAborted("SIGINT")

    monkeypatch.setattr(workflow, "train", aborted)
    code, _, err = _run(capsys, "train", "dna", "--run-dir", "x")
    assert code == 130
    assert "aborted by a second SIGINT: stopped without saving; the run keeps its last" in err


def test_resuming_on_a_changed_data_file_needs_allow_data_change(tmp_path, capsys, mixture_plugin):
    import json

    import numpy as np

    data = tmp_path / "points.npz"
    np.savez(data, train=np.zeros(100), heldout=np.ones(20))
    args = ["train", "mixture", "--data", str(data), "--run-dir", str(tmp_path / "r"), *FAST]
    assert _run(capsys, *args, "--max-steps", "2")[0] == 0
    np.savez(data, train=np.zeros(150), heldout=np.ones(20))  # the file was replaced
    code, _, err = _run(capsys, *args, "--max-steps", "3")
    assert code == 2
    assert "changed since it was trained (n_train: 100 -> 150; sha256: '" in err
    assert "--allow-data-change" in err
    code, out, _ = _run(capsys, *args, "--max-steps", "3", "--allow-data-change")
    assert code == 0 and "step 3/300 (resumed from step 2" in out
    info = json.loads((tmp_path / "r" / "run.json").read_text())
    assert (info["data"]["n_train"], info["data_changes"][0]["before"]["n_train"]) == (150, 100)
    assert len(info["data_changes"]) == 1
