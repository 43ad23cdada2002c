"""A step-based GAN training loop shared by all case studies.

The case study supplies a `GANTask` (its models, optimizers, data and RNG); this loop owns
everything around it: resuming from the last checkpoint, logging, periodic checkpoints and
samples, the progress bar, and turning Ctrl-C into "save, then stop".
"""

from __future__ import annotations

import random
import signal
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import Tensor

from scigan.core.checkpoint import load_checkpoint, save_checkpoint
from scigan.core.logs import StepLog
from scigan.core.rundir import RunDir


class GANTask(Protocol):
    def train_step(self) -> dict[str, Tensor]:
        """One generator update (with its discriminator updates); returns 0-dim loss tensors."""

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly: weights, optimizer state, the task's RNG."""

    def load_state_dict(self, state: dict[str, Any]) -> None: ...

    def write_samples(self, step: int, directory: Path) -> None:
        """Write a few samples from the current generator (a visual log of training)."""


@dataclass(frozen=True)
class LoopSettings:
    steps: int
    log_every: int = 50
    checkpoint_every: int = 1000
    sample_every: int = 1000
    tensorboard: bool = True
    progress: bool = True


@dataclass(frozen=True)
class LoopResult:
    step: int
    interrupted: bool
    resumed_from: int


def steps_per_epoch(n_train: int, batch_size: int) -> int:
    """Full batches in one pass over the training set (at least one)."""
    return max(1, n_train // batch_size)


def describe_stop(interrupted: bool, step: int, total: int) -> str:
    """How a training command ended, for its one-line summary."""
    if interrupted:
        return "interrupted; checkpoint saved, run again to resume"
    if step < total:
        return "stopped at --max-steps; run again to continue"
    return "done"


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


class _InterruptFlag:
    """First Ctrl-C asks the loop to stop at the next step boundary; a second one aborts."""

    def __init__(self) -> None:
        self.raised = False
        self._previous: Any = None

    def __enter__(self) -> _InterruptFlag:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.raised:
            raise KeyboardInterrupt
        self.raised = True

    def __exit__(self, *exc: Any) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def run_training(
    task: GANTask, run: RunDir, settings: LoopSettings, max_steps: int | None = None
) -> LoopResult:
    """Train `task` until `settings.steps` (or `max_steps`, if smaller) generator updates."""
    target = settings.steps if max_steps is None else min(settings.steps, max_steps)
    step = 0
    if run.checkpoint_file.is_file():
        state = load_checkpoint(run.checkpoint_file)
        task.load_state_dict(state["task"])
        _set_global_rng_state(state["rng"])
        step = int(state["step"])
    resumed_from = step

    def checkpoint() -> None:
        save_checkpoint(
            run.checkpoint_file,
            {"step": step, "task": task.state_dict(), "rng": _global_rng_state()},
        )

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
        return {k: v for k, v in records[-1].items() if k != "step"}

    progress = None
    if settings.progress:
        import sys

        from tqdm import tqdm

        # Redirected to a file or CI log, a bar redrawn ten times a second is mostly noise.
        interval = 0.1 if sys.stderr.isatty() else 10.0
        progress = tqdm(
            total=target, initial=step, unit="step", dynamic_ncols=True, mininterval=interval
        )
    interrupted = False
    try:
        with _InterruptFlag() as flag:
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
                    task.write_samples(step, run.samples_dir)
                if step % settings.checkpoint_every == 0:
                    flush()
                    checkpoint()
                if flag.raised:
                    interrupted = True
                    break
            flush()
            checkpoint()
    finally:
        if progress is not None:
            progress.close()
        log.close()
    return LoopResult(step=step, interrupted=interrupted, resumed_from=resumed_from)
