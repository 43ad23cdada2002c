"""A step-based GAN training loop shared by all case studies.

The case study supplies a `GANTask` (its models, optimizers, data and RNG); this loop owns
everything around it: resuming from the last checkpoint, logging, periodic checkpoints and
samples, the progress bar, and turning Ctrl-C or SIGTERM into "save, then stop".

Its torch-free pieces (LoopSettings, LoopResult, steps_per_epoch, describe_stop) live in
scigan.core.loop, which case studies import when they are loaded; they are re-exported here.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import Tensor

from scigan.core.checkpoint import atomic_write_text, load_checkpoint, save_checkpoint
from scigan.core.errors import TrainingAborted, TrainingDiverged
from scigan.core.logs import StepLog, read_jsonl
from scigan.core.loop import LoopResult, LoopSettings, kept_checkpoint_name
from scigan.core.loop import describe_stop as describe_stop  # re-exported
from scigan.core.loop import steps_per_epoch as steps_per_epoch  # re-exported
from scigan.core.rundir import RunDir


class GANTask(Protocol):
    def train_step(self) -> dict[str, Tensor]:
        """One generator update (with its discriminator updates); returns 0-dim loss tensors."""

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly: weights, optimizer state, the task's RNG."""

    def load_state_dict(self, state: dict[str, Any]) -> None: ...

    def write_samples(self, step: int, directory: Path) -> None:
        """Write a few samples from the current generator (a visual log of training)."""


def _global_rng_state() -> dict[str, Any]:
    # Case studies draw from their own generators; the global states are saved as well so
    # that any library code that touches them cannot make a resumed run diverge.
    np_state = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *np_state[2:]],
        "python": list(random.getstate()[1]),
        "python_version": random.getstate()[0],
        "python_gauss": random.getstate()[2],
    }


def _set_global_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    kind, keys, *rest = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), *rest))
    random.setstate((state["python_version"], tuple(state["python"]), state["python_gauss"]))


class _StopSignals:
    """SIGINT (Ctrl-C) and SIGTERM (how Slurm, Kubernetes and Ray stop a job): the first asks
    the loop to stop after the current step and save; a second one aborts at once, except
    while a checkpoint is being written, which it never interrupts (the run keeps its last
    good checkpoint either way: checkpoints replace the old file atomically)."""

    def __init__(self) -> None:
        self.received: str | None = None  # the name of the first signal
        self.saving = False
        self.abort_after_save = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _StopSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        name = signal.Signals(signum).name
        if self.received is None:
            self.received = name
            _say(f"{name}: stopping after this step and saving a checkpoint (again: abort)")
        elif self.saving:
            self.abort_after_save = True
            _say(f"{name}: a checkpoint is being written; stopping as soon as it is safe")
        else:
            raise TrainingAborted(name)

    def __exit__(self, *exc: Any) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)

    @contextmanager
    def shielded(self) -> Iterator[None]:
        """A block that a second signal does not interrupt."""
        self.saving = True
        try:
            yield
        finally:
            self.saving = False
        if self.abort_after_save:
            raise TrainingAborted(self.received or "signal")


def _say(message: str) -> None:
    print(f"scigan: {message}", file=sys.stderr, flush=True)


def _nonfinite(state: Any, where: str = "") -> str | None:
    """The first entry of a (nested) state dict holding NaN or inf, or None."""
    if isinstance(state, Tensor):
        if state.is_floating_point() and not bool(torch.isfinite(state).all()):
            return where or "tensor"
    elif isinstance(state, float):
        if not math.isfinite(state):
            return where or "value"
    elif isinstance(state, dict | list | tuple):
        items = state.items() if isinstance(state, dict) else enumerate(state)
        for key, value in items:
            found = _nonfinite(value, f"{where}.{key}" if where else str(key))
            if found:
                return found
    return None


class _SampleManifest:
    """Which files `write_samples` wrote at which step (the run's samples.jsonl), so that a
    resumed run drops the samples of steps it lost and a restart from scratch leaves none."""

    def __init__(self, directory: Path, index: Path):
        self.directory, self.file = directory, index

    def _records(self) -> list[dict[str, Any]]:
        return read_jsonl(self.file) if self.file.is_file() else []

    def drop_after(self, step: int) -> None:
        if step == 0:  # nothing written before can belong to a run at step 0
            if self.directory.is_dir():
                shutil.rmtree(self.directory)
            self.file.unlink(missing_ok=True)
            return
        records = self._records()
        if not any(r["step"] > step for r in records):
            return
        for record in records:
            if record["step"] > step:
                for name in record["files"]:
                    (self.directory / name).unlink(missing_ok=True)
        kept = [r for r in records if r["step"] <= step]
        atomic_write_text(self.file, "".join(json.dumps(r) + "\n" for r in kept))

    def write(self, task: GANTask, step: int) -> None:
        before = self._listing()
        task.write_samples(step, self.directory)
        after = self._listing()
        changed = sorted(name for name, stamp in after.items() if before.get(name) != stamp)
        with self.file.open("a") as handle:
            handle.write(json.dumps({"step": step, "files": changed}) + "\n")

    def _listing(self) -> dict[str, tuple[int, int]]:
        if not self.directory.is_dir():
            return {}
        return {
            str(p.relative_to(self.directory)): (p.stat().st_mtime_ns, p.stat().st_size)
            for p in self.directory.rglob("*")
            if p.is_file()
        }


def run_training(
    task: GANTask, run: RunDir, settings: LoopSettings, max_steps: int | None = None
) -> LoopResult:
    """Train `task` until `settings.steps` (or `max_steps`, if smaller) generator updates.

    Checkpoints are written every `checkpoint_every` steps and at least every
    `checkpoint_seconds`, atomically, and only with finite weights: a NaN or inf in a loss or a
    weight stops training with TrainingDiverged, keeping the last good checkpoint."""
    target = settings.steps if max_steps is None else min(settings.steps, max_steps)
    step = 0
    if run.checkpoint_file.is_file():
        state = load_checkpoint(run.checkpoint_file)
        task.load_state_dict(state["task"])
        _set_global_rng_state(state["rng"])
        step = int(state["step"])
    resumed_from = saved_step = step
    samples = _SampleManifest(run.samples_dir, run.samples_index)
    samples.drop_after(step)

    log = StepLog(run.log_file, run.tensorboard_dir if settings.tensorboard else None, step)
    pending: list[tuple[int, dict[str, Tensor]]] = []

    def flush() -> dict[str, float]:
        if not pending:
            return {}
        keys = list(pending[0][1])
        # One device->host transfer per flush, not one per step and loss.
        values = torch.stack([torch.stack([losses[k] for k in keys]) for _, losses in pending])
        rows = values.float().cpu().tolist()
        records = [
            {"step": s, **dict(zip(keys, row, strict=True))}
            for (s, _), row in zip(pending, rows, strict=True)
        ]
        log.write(records)
        pending.clear()
        for record in records:
            bad = [k for k, v in record.items() if not math.isfinite(v)]
            if bad:
                raise TrainingDiverged(record["step"], f"{bad[0]} = {record[bad[0]]}", saved_step)
        return {k: v for k, v in records[-1].items() if k != "step"}

    def checkpoint() -> None:
        nonlocal saved_step, saved_at
        state = task.state_dict()
        bad = _nonfinite(state)
        if bad is not None:
            raise TrainingDiverged(step, f"{bad} holds NaN or inf", saved_step)
        with signals.shielded():
            payload = {"step": step, "task": state, "rng": _global_rng_state()}
            if step in settings.keep_at:  # before last.pt: a kill between the two redoes both
                kept = run.checkpoint_file.parent / kept_checkpoint_name(step)
                save_checkpoint(kept, payload)
            save_checkpoint(run.checkpoint_file, payload)
        saved_step, saved_at = step, time.monotonic()

    progress = None
    if settings.progress:
        from tqdm import tqdm

        # Redirected to a file or CI log, a bar redrawn ten times a second is mostly noise.
        interval = 0.1 if sys.stderr.isatty() else 10.0
        progress = tqdm(
            total=target, initial=step, unit="step", dynamic_ncols=True, mininterval=interval
        )
    interrupted = False
    saved_at = time.monotonic()
    try:
        with _StopSignals() as signals:
            while step < target:
                losses = task.train_step()
                step += 1
                pending.append((step, losses))
                if step % settings.log_every == 0 or step == target:
                    last = flush()
                    if progress is not None:
                        # at most 4 losses: a case study may log many (one per model)
                        shown = list(last.items())[:4]
                        progress.set_postfix({k: f"{v:.3f}" for k, v in shown}, refresh=False)
                if progress is not None:
                    progress.update(1)
                if settings.sample_every and step % settings.sample_every == 0:
                    samples.write(task, step)
                due = time.monotonic() - saved_at >= settings.checkpoint_seconds
                if step % settings.checkpoint_every == 0 or due or step in settings.keep_at:
                    flush()
                    checkpoint()
                if signals.received is not None:
                    interrupted = True
                    break
            flush()
            if step != saved_step or not run.checkpoint_file.is_file():
                checkpoint()
    finally:
        if progress is not None:
            progress.close()
        log.close()
    return LoopResult(step=step, interrupted=interrupted, resumed_from=resumed_from)
