"""Device and thread selection: CUDA when present, CPU otherwise, always overridable."""

import ctypes
import ctypes.util
import os
import sys

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
    matters more than anything else; returns the count in effect. Also keeps freed memory in
    the process (`retain_freed_memory`), which every training and benchmark run wants.
    """
    retain_freed_memory()
    if num_threads is None or num_threads <= 0:
        num_threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    if torch.get_num_threads() != num_threads:
        torch.set_num_threads(num_threads)
    return num_threads


def retain_freed_memory() -> bool:
    """Let glibc's malloc keep freed memory for reuse instead of returning it to the OS.

    A training step allocates and frees the same large activation buffers every step. By
    default glibc serves blocks above its mmap threshold with fresh mmaps and unmaps them on
    free, so every step pays a page fault (and zeroing) per 4 KiB of every such buffer: ~25 %
    of a blob DCGAN step on this CPU (64 x 256 x 32 x 32 activations, 67 MB each). With a high
    mmap and trim threshold the buffers are recycled from the heap. Peak memory is unchanged
    (the same buffers are reused); the process just does not give it back until it exits.
    A no-op (returns False) where the C library is not glibc.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # from glibc's malloc.h
    return bool(mallopt(m_mmap_threshold, 1 << 30)) and bool(
        mallopt(m_trim_threshold, (1 << 31) - 1)
    )
