"""What every case study does around a run directory: record how a run was made, decide which
settings a resume may change, and reopen a trained run for sampling and evaluation."""

from __future__ import annotations

import platform
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import torch
from pydantic import BaseModel
from torch import nn

from scigan.core.config import flatten, validate
from scigan.core.device import resolve_device, set_threads
from scigan.core.rundir import RunDir

ConfigT = TypeVar("ConfigT", bound=BaseModel)


def run_info(case_study: str, data_meta: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """run.json's record of a run: its case study, the versions that made it, its data."""
    import scigan

    return {
        "case_study": case_study,
        "scigan": scigan.__version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "data": data_meta,
        **extra,
    }


def resumable_keys(
    config: dict[str, Any], keys: Iterable[str], sections: tuple[str, ...] = ("log",)
) -> frozenset[str]:
    """The dotted keys a resume may change: `keys` and every key under `sections` (settings
    that do not change what is trained, e.g. how often it logs)."""
    prefixes = tuple(f"{s}." for s in sections)
    return frozenset(keys) | {k for k in flatten(config) if k.startswith(prefixes)}


def open_run(run: RunDir, config_model: type[ConfigT]) -> tuple[ConfigT, torch.device]:
    """A trained run's validated config and its device, with the run's thread count set."""
    cfg = validate(config_model, run.read_config())
    set_threads(cfg.num_threads)
    return cfg, resolve_device(cfg.device)


def load_generator(
    run: RunDir,
    device: torch.device,
    case_study: str,
    config_model: type[ConfigT],
    build: Callable[[ConfigT, dict[str, Any]], nn.Module],
) -> tuple[ConfigT, nn.Module, int]:
    """(config, generator, step) from a run's last checkpoint (loaded weights_only).
    `build(config, run_info)` makes the untrained generator the weights go into."""
    cfg = validate(config_model, run.read_config())
    state = run.load_last_checkpoint(device, f"scigan train {case_study} --run-dir {run.path}")
    generator = build(cfg, run.read_info())
    generator.load_state_dict(state["task"]["generator"])
    return cfg, generator.to(device), int(state["step"])
