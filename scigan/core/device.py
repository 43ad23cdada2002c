"""Device and thread selection: CUDA when present, CPU otherwise, always overridable."""

import os

import torch

from scigan.core.errors import ConfigError


def resolve_device(name: str = "auto") -> torch.device:
    """Map "auto" | "cpu" | "cuda" | "cuda:N" to a torch.device, checking that it exists."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise ConfigError(f"unknown device {name!r}", "use auto, cpu, cuda or cuda:N") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            f"device {name!r} was asked for but CUDA is not available on this machine",
            "use --set device=cpu (or device=auto)",
        )
    return device


def set_threads(num_threads: int | None) -> int:
    """Set the intra-op thread count (default: all cores this process may use).

    Tiny models are overhead-bound, so one thread per physical core and no oversubscription
    matters more than anything else; returns the count in effect.
    """
    if num_threads is None or num_threads <= 0:
        num_threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    if torch.get_num_threads() != num_threads:
        torch.set_num_threads(num_threads)
    return num_threads
