"""`python -m benchmarks`: each case study's benchmark module (`benchmarks/<case>.py`, a
`run_bench(quick) -> dict`) plus machine facts.

Benchmarks are for numbers in a JSON file, never for pass/fail in tests.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import torch

from scigan.core.checkpoint import atomic_write_json
from scigan.core.device import set_threads

T = TypeVar("T")
# The fp32 matmul peak of the 2-core machine where the reported Keras reference rates were taken.
REFERENCE_PEAK_GFLOPS = 175.0


def _bench_modules() -> list[str]:
    from scigan.core.registry import case_study_names

    here = Path(__file__).resolve().parent
    # Every registered case study with a module of its name here has a benchmark; the shared
    # modules (this one, the Keras harness) and the Keras references (<case>_keras.py) are not.
    return [name for name in case_study_names() if (here / f"{name}.py").is_file()]


def training_steps_per_s(
    task, steps: int, repeats: int = 3, warmup_steps: int | None = None, warmup_s: float = 0.0
) -> float:
    """Best of `repeats` rounds of `steps` training steps of a GANTask, after a warm-up of
    `warmup_steps` steps (default: a tenth of `steps`, at least 5) lasting at least `warmup_s`
    seconds (a fresh process here takes a few seconds to reach its steady rate)."""
    warmup_steps = max(5, steps // 10) if warmup_steps is None else warmup_steps
    start = time.perf_counter()
    done = 0
    while done < warmup_steps or time.perf_counter() - start < warmup_s:
        task.train_step()
        done += 1
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            losses = task.train_step()
        float(next(iter(losses.values())))  # wait for the device
        best = max(best, steps / (time.perf_counter() - start))
    return best


def sliced_rate(
    task, warmup_seconds: float = 3.0, clock: Callable[[], float] = time.perf_counter
) -> Callable[[float], float]:
    """Warm a GANTask up for `warmup_seconds`, then return ``rate(seconds)``: its training
    steps/s over the next `seconds` (at least two steps), waiting for the device at the end."""

    def rate(seconds: float) -> float:
        start = clock()
        done = 0
        while done < 2 or clock() - start < seconds:
            losses = task.train_step()
            done += 1
        float(next(iter(losses.values())))
        return done / (clock() - start)

    rate(warmup_seconds)
    return rate


def matmul_peak_gflops(
    n: int = 2048, repeats: int = 5, device: str = "cpu", dtype: torch.dtype = torch.float32
) -> float:
    """Best-of-`repeats` rate of one large square matmul: the machine's practical peak."""
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        if device != "cpu":
            torch.cuda.synchronize()
        start = time.perf_counter()
        torch.mm(a, b)
        if device != "cpu":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def measured_between_peaks(measure: Callable[[], T], device: str = "cpu") -> tuple[T, float]:
    """`measure()` with the machine's matmul peak taken right before and right after it; returns
    its result and the higher of the two peaks. A virtual machine's speed can drift by 2x over
    minutes, so a rate is only comparable to the peak measured around it."""
    before = matmul_peak_gflops(device=device)
    result = measure()
    return result, max(before, matmul_peak_gflops(device=device))


def scaled_reference(rate: float, peak_gflops: float) -> float:
    """A reported reference rate (measured where the fp32 matmul peak was
    REFERENCE_PEAK_GFLOPS) scaled to a machine running at `peak_gflops` now."""
    return rate * peak_gflops / REFERENCE_PEAK_GFLOPS


def versus_keras(rate: float, keras_rate: float, peak_gflops: float) -> dict[str, float]:
    """A rate against a reported Keras reference, as measured and scaled to the peak now."""
    return {
        "vs_keras": round(rate / keras_rate, 3),
        "vs_keras_at_this_peak": round(rate / scaled_reference(keras_rate, peak_gflops), 3),
    }


def machine_info() -> dict:
    info = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "fp32_matmul_peak_gflops": round(matmul_peak_gflops(), 1),
    }
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in open("/proc/cpuinfo")
            if line.startswith("model name")
        )
        info["cpu_model"] = model
    except (OSError, StopIteration):
        pass
    if torch.cuda.is_available():
        info["cuda_fp32_matmul_peak_gflops"] = round(matmul_peak_gflops(8192, device="cuda"), 1)
    return info


def run_benchmarks(
    out: Path, cases: list[str] | None, quick: bool, keras_python: Path | None = None
) -> str:
    """Each case study's `run_bench`; with `keras_python` (an interpreter with TensorFlow), also
    each case's `keras_comparison` where it has one (`benchmarks.keras_reference`)."""
    set_threads(None)
    names = cases or _bench_modules()
    if keras_python is not None:
        from benchmarks.keras_reference import check_keras_python

        check_keras_python(keras_python)  # fail before the long benchmarks, not after
    results = {"machine": machine_info(), "quick": quick}
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        results[name] = module.run_bench(quick=quick)
        if keras_python is not None and hasattr(module, "keras_comparison"):
            results[name]["keras_measured_here"] = module.keras_comparison(keras_python, quick)
    atomic_write_json(out, results)
    return json.dumps(results, indent=2) + f"\nwritten to {out}"
