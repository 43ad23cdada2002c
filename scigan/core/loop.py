"""The torch-free pieces of the training loop (scigan.core.trainer): its settings, its result
and the step arithmetic. Case studies build their `LoopSettings` when they are loaded for any
command, `scigan --help` included, so this module must not import torch."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LoopSettings:
    steps: int
    log_every: int = 50
    checkpoint_every: int = 1000
    sample_every: int = 1000
    tensorboard: bool = True
    progress: bool = True
    checkpoint_seconds: float = 60.0  # also checkpoint when this long has passed since the last
    # steps whose checkpoint is also kept as checkpoints/step_NNNNNNN.pt (a sweep's shorter
    # budgets are served by a longer run's checkpoints: kept_checkpoint_name)
    keep_at: tuple[int, ...] = ()


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


def kept_checkpoint_name(step: int) -> str:
    """The file name of the checkpoint kept at `step` (LoopSettings.keep_at)."""
    return f"step_{step:07d}.pt"
