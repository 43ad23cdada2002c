"""Stacks of Ising GANs as a sweep trains them (scigan.sweep.stacks), and what a sweep costs
beyond its training and evaluation.

stack_bench: GAN-steps/s (stacked GANs x steps/s) of the thesis models at batch 64 for one
GAN alone, one point's 41 temperatures, and 41 temperatures x 2 and x 8 critic rates (the
thesis grid's 328 GANs as one stack), each against the fp32 matmul peak and the memory
bandwidth measured in the same run, from the FLOPs and bytes a GAN-step counts
(`step_cost`); and two 41-GAN stacks in two processes of one thread each, which is what
`scigan sweep --max-parallel 2` runs on two cores.

sweep_bench: a shortened one-epoch thesis grid (8 critic rates, 41 temperatures, a few
steps) swept with the local and the Ray backend: each one's wall time, the points' own
training and evaluation time, and the rest (the sweep's machinery: checking the points,
planning, splitting stacks, results.csv, selection.json, figures; for Ray also its start).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

THESIS_RATES = tuple(10 ** (-6 + 0.25 * i) for i in range(8))  # the thesis grid's critic rates


def step_cost(
    L: int = 9,
    batch: int = 64,
    critic_steps: int = 5,
    noise_dim: int = 128,
    channels: int = 128,
    critic_channels: int = 64,
    hidden: int = 100,
    kernel: int = 3,
) -> dict[str, int]:
    """FLOPs and bytes of one GAN's WGAN-GP step with the fused engine (Table 6-7 models).

    FLOPs: the products and the hand-written backward passes (2 per multiply-add); Adam's
    elementwise work is left out (it is bound by memory). Bytes: the streams through memory
    that do not fit in cache: the generator's Dense weights (read by its affine map and by
    the Conv weights' gradient, their gradient written, and Adam reading weights, gradient
    and both moments and writing three: 10 passes of 4 bytes a weight) and the critic's
    im2col per pass (gathered and then put in place: written twice and read twice). The
    conv outputs are computed a few models at a time so that they stay in cache."""
    P, k2, B, n = L * L, kernel * kernel, batch, critic_steps
    Fc, H, nz, C = critic_channels, hidden, noise_dim, channels

    def critic_forward(rows: int) -> int:
        conv = 2 * rows * P * k2 * Fc
        dense = 2 * rows * Fc * H + 2 * rows * H
        backward_to_pool = 2 * rows * H * Fc  # v = u W1^T
        return conv + dense + backward_to_pool

    M = 3 * B  # real, fake and interpolated lattices of a critic update
    score_grads = 2 * M * Fc * k2 + 2 * M * Fc * H
    penalty = 2 * B * Fc * k2 * 3 + 4 * B * Fc * H
    critic = n * (critic_forward(M) + score_grads + penalty)
    affine = 2 * k2 * C * nz * P + k2 * nz * P
    fakes = 2 * (n + 1) * B * nz * P
    generator_pass = critic_forward(B) + 2 * B * Fc * k2
    generator_grads = 2 * nz * B * P + 2 * (2 * C * k2 * nz * P)
    flops = critic + affine + fakes + generator_pass + generator_grads
    dense_weights = C * nz * P
    im2col = 4 * 4 * P * k2 * (n * M + B)
    return {"flops": flops, "bytes": 10 * 4 * dense_weights + im2col}


def memory_bandwidth_gb_s(megabytes: int = 256, repeats: int = 5) -> float:
    """Copy bandwidth (bytes read + written per second) of a large tensor copy, best of
    `repeats`."""
    import torch

    n = megabytes * (1 << 20) // 4
    source, target = torch.ones(n), torch.empty(n)
    target.copy_(source)
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        target.copy_(source)
        best = max(best, 2 * 4 * n / (time.perf_counter() - start))
    return best / 1e9


def _stacked_task(points: int, temperatures: int, L: int = 9):
    """A stack of `points` thesis points (critic rates of the thesis grid) x `temperatures`
    GANs on random lattices."""
    import torch

    from scigan.core.config import resolve, validate
    from scigan.ising.casestudy import IsingCaseStudy
    from scigan.ising.config import IsingGanConfig
    from scigan.ising.task import IsingGanTask

    defaults = IsingCaseStudy().defaults_path()
    configs = [
        validate(IsingGanConfig, resolve(defaults, None, [f"train.lr_critic={rate}"]))
        for rate in THESIS_RATES[:points]
    ]
    rng = np.random.default_rng(0)
    train = np.where(rng.random((temperatures, 2048, L, L)) < 0.5, 1, -1).astype(np.int8)
    temps = np.linspace(0.0, 4.0, temperatures)
    return IsingGanTask(
        configs[0], temps, np.arange(temperatures), train, torch.device("cpu"), configs
    )


def _gan_steps_per_s(points: int, temperatures: int, steps: int, repeats: int) -> float:
    task = _stacked_task(points, temperatures)
    task.train_step()
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            task.train_step()
        best = max(best, steps * points * temperatures / (time.perf_counter() - start))
    return best


_PROCESS = """
import sys, time, torch
torch.set_num_threads(1)
from benchmarks.ising_stacks import _gan_steps_per_s
print(_gan_steps_per_s(1, {temperatures}, {steps}, 1))
"""


def _two_processes(temperatures: int, steps: int) -> float:
    """Aggregate GAN-steps/s of two one-thread processes each training a stack at once."""
    root = Path(__file__).resolve().parent.parent
    code = _PROCESS.format(temperatures=temperatures, steps=steps)
    env = {**os.environ, "PYTHONPATH": str(root)}
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
        for _ in range(2)
    ]
    return sum(float(p.communicate()[0].strip().splitlines()[-1]) for p in procs)


def stack_bench(quick: bool = False) -> dict:
    from benchmarks.bench import matmul_peak_gflops

    temperatures = 4 if quick else 41
    cases = [(1, 1, 30), (1, temperatures, 5), (2, temperatures, 3), (8, temperatures, 2)]
    if quick:
        cases = [(1, 1, 2), (1, temperatures, 2), (2, temperatures, 1)]
    cost = step_cost()
    peak = matmul_peak_gflops()
    bandwidth = memory_bandwidth_gb_s(64 if quick else 256)
    out = {
        "unit": "GAN-steps per second (stacked GANs x WGAN-GP steps/s), thesis models, batch 64",
        "flops_per_gan_step": cost["flops"],
        "bytes_per_gan_step": cost["bytes"],
        "fp32_matmul_peak_gflops": peak,
        "memory_bandwidth_gb_s": bandwidth,
    }
    for points, temps, steps in cases:
        rate = _gan_steps_per_s(points, temps, steps, 1 if quick else 2)
        out[f"{points}x{temps}_gans"] = {
            "gans": points * temps,
            "gan_steps_per_s": rate,
            "share_of_fp32_peak": rate * cost["flops"] / (peak * 1e9),
            "share_of_memory_bandwidth": rate * cost["bytes"] / (bandwidth * 1e9),
        }
    out[f"2_processes_1_thread_each_1x{temperatures}_gans"] = {
        "gans": 2 * temperatures,
        "gan_steps_per_s": _two_processes(temperatures, 1 if quick else 4),
    }
    out["peak_and_bandwidth_after"] = {
        "fp32_matmul_peak_gflops": matmul_peak_gflops(),
        "memory_bandwidth_gb_s": memory_bandwidth_gb_s(64 if quick else 256),
    }
    return out


def _sweep(backend: str, directory: Path, data: Path, steps: int, temperatures: int) -> float:
    args = [
        sys.executable, "-m", "scigan", "sweep", "ising", "--config", "thesis-grid-1epoch",
        "--sweep-dir", str(directory), "--no-progress", "--backend", backend,
        "--set", f"train.steps={steps}", "--set", "train.epochs=null",
        "--set", f"data.path={data}", "--set", "device=cpu",
    ]  # fmt: skip
    if temperatures < 41:
        temps = ",".join(f"{0.1 * i:.1f}" for i in range(0, 41, 41 // temperatures))
        args += ["--set", f"data.temperatures=[{temps}]"]
    start = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, text=True)
    return time.perf_counter() - start


def _point_seconds(directory: Path) -> float:
    state = json.loads((directory / "state.json").read_text())
    return sum(r.get("seconds", 0.0) for r in state.values())


def sweep_bench(quick: bool = False) -> dict:
    """Wall time of the shortened one-epoch grid with each backend, and the machinery's share."""
    from scigan.montecarlo import dataset

    steps, temperatures = (3, 4) if quick else (25, 41)
    out: dict = {"grid": f"8 critic rates x {temperatures} temperatures, {steps} steps each"}
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        protocol = dataset.make_protocol("equilibrium")
        if quick:
            protocol = dataset.make_protocol("equilibrium", samples=640, equilibration=100)
        dataset.generate(protocol, root / "data", show_progress=False, figures=False)
        data = root / "data" / "ising.h5"
        backends = ["local"]
        try:
            import ray  # noqa: F401

            backends.append("ray")
        except ImportError:
            out["ray"] = "not installed (pip install 'scigan[ray]')"
        for backend in backends:
            wall = _sweep(backend, root / backend, data, steps, temperatures)
            points = _point_seconds(root / backend)
            out[backend] = {
                "wall_seconds": wall,
                "points_seconds": points,
                "machinery_share": max(0.0, wall - points) / wall,
            }
    if "ray" in backends:
        out["ray_over_local"] = out["ray"]["wall_seconds"] / out["local"]["wall_seconds"] - 1
    return out
