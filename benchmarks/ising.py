"""Ising benchmark: spin-flip attempts per second of each Monte Carlo engine, and WGAN-GP
training steps per second of the thesis GAN.

Monte Carlo cases: the thesis-style Python loop (short); each engine on the thesis protocol,
41 temperatures x L = 9; each engine on L = 256 at Tc; the wall time of the default data set.
Wolff counts flipped spins, not attempts (each cluster flip replaces many attempts).

GAN cases: one WGAN-GP step = 5 critic updates + 1 generator update (Tables 6-7, L = 9),
at batch 64 and 1024, for one GAN and for 41 stacked GANs (one per temperature), with the
fused engine and with plain autograd.
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.ising_stacks import stack_bench, sweep_bench
from scigan.montecarlo import dataset, mc

THESIS_TEMPERATURES = tuple(round(0.1 * k, 1) for k in range(41))
# A straightforward Keras implementation of the same WGAN-GP step on 2 cores, batch 64 .
KERAS_REFERENCE_STEPS_PER_S = 30


def _rate(step, repeats: int) -> float:
    """Best of `repeats` timings of step() -> (work, seconds); the machine is shared."""
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        work = step()
        best = max(best, work / (time.perf_counter() - start))
    return best


def _python_loop_rate(attempts: int) -> float:
    rng = np.random.default_rng(0)
    lattice = rng.choice(np.array([-1, 1], dtype=np.int8), size=(9, 9))
    start = time.perf_counter()
    mc.metropolis_python(lattice, 2.3, attempts, rng)
    return attempts / (time.perf_counter() - start)


def _engine_rates(L: int, temperatures, chains: int, sweeps: int, repeats: int) -> dict:
    rates = {}
    for algorithm in mc.ALGORITHMS:
        batch = mc.make_chains(
            L, temperatures, chains, 0, range(len(temperatures)), algorithm, "cold"
        )
        batch.equilibrate(max(2, sweeps // 2))  # compiles, and sets Wolff's cluster count
        rates[algorithm] = _rate(lambda b=batch: b.sweep(sweeps), repeats)
    try:
        import torch

        from scigan.montecarlo.torch_mc import TorchChains, resolve_device

        device = resolve_device("auto")
        per_chain = np.repeat(np.asarray(temperatures, dtype=np.float64), chains)
        batch = TorchChains(L, per_chain, 0, list(range(len(temperatures))), "cold", device)
        batch.sweep(1)
        if device.startswith("cuda"):

            def step():
                work = batch.sweep(max(1, sweeps // 10))
                torch.cuda.synchronize()
                return work
        else:

            def step():
                return batch.sweep(max(1, sweeps // 10))

        rates[f"torch_{device}_sublattice"] = _rate(step, repeats)
    except ImportError:
        pass
    return rates


def _gan_task(models: int, batch: int, engine: str, device):
    """`models` stacked thesis GANs on random lattices."""
    from scigan.core.config import resolve, validate
    from scigan.ising.casestudy import IsingCaseStudy
    from scigan.ising.config import IsingGanConfig
    from scigan.ising.task import IsingGanTask

    cfg = validate(
        IsingGanConfig,
        resolve(
            IsingCaseStudy().defaults_path(),
            None,
            [f"train.batch_size={batch}", f"train.engine={engine}"],
        ),
    )
    rng = np.random.default_rng(0)
    train = np.where(rng.random((models, 2048, 9, 9)) < 0.5, 1, -1).astype(np.int8)
    return IsingGanTask(cfg, np.linspace(0.0, 4.0, models), np.arange(models), train, device)


def _gan_rate(models: int, batch: int, engine: str, steps: int, repeats: int) -> tuple:
    """WGAN-GP steps per second of `models` stacked GANs (each step: every GAN's step), and
    the fp32 matmul peak around the measurement."""
    import torch

    from benchmarks.bench import measured_between_peaks
    from scigan.core.device import resolve_device

    device = resolve_device("auto")
    task = _gan_task(models, batch, engine, device)
    task.train_step()

    def step():
        for _ in range(steps):
            task.train_step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return steps

    return measured_between_peaks(lambda: _rate(step, repeats), device.type)


def gan_bench(quick: bool = False) -> dict:
    """WGAN-GP steps/s per case, with the matmul peak measured around it; `aggregate` =
    GAN-steps/s (stacked models x steps/s). At batch 64 the rates are also given against a
    reported Keras reference rate, as measured and scaled to the peak now (bench.versus_keras)."""
    from benchmarks.bench import versus_keras

    out = {
        "unit": "WGAN-GP steps per second (5 critic + 1 generator update)",
        "keras_reference_steps_per_s": KERAS_REFERENCE_STEPS_PER_S,
    }
    # (engine, models, batch, steps per timing)
    cases = [
        ("fused", 1, 64, 30),
        ("fused", 1, 1024, 3),
        ("fused", 8, 64, 5),
        ("fused", 41, 64, 2),
        ("autograd", 1, 64, 10),
        ("autograd", 1, 1024, 1),
    ]
    if quick:
        cases = [("fused", 1, 64, 2), ("fused", 1, 1024, 1), ("autograd", 1, 64, 1)]
    for engine, models, batch, steps in cases:
        rate, peak = _gan_rate(models, batch, engine, steps, 1 if quick else 5)
        entry = {"steps_per_s": rate, "fp32_matmul_peak_gflops_around": peak}
        per_gan = rate * models
        if models > 1:
            entry["aggregate_gan_steps_per_s"] = per_gan
        if batch == 64:
            entry.update(versus_keras(per_gan, KERAS_REFERENCE_STEPS_PER_S, peak))
        out[f"{engine}_{models}gan_batch{batch}"] = entry
    return out


def run_bench(quick: bool = False) -> dict:
    """Attempts per second of every engine, and the default data set's wall time: the Monte
    Carlo alone, and the whole command (with HDF5, exact values and the summary table)."""
    repeats = 2 if quick else 3
    results = {
        "unit": "spin-flip attempts per second (Wolff: spins flipped per second)",
        "machine": {
            "cpus": os.cpu_count(),
            "processor": platform.processor(),
            "python": platform.python_version(),
            "numpy": np.__version__,
        },
        "python_loop_thesis_L9": _python_loop_rate(2_000 if quick else 20_000),
        "thesis_protocol_41T_L9_64chains": _engine_rates(
            9, THESIS_TEMPERATURES, 64, 20 if quick else 200, repeats
        ),
        "L256_Tc_128chains": _engine_rates(
            256, [2.269], 128 if not quick else 64, 2 if quick else 10, repeats
        ),
        "gan": gan_bench(quick),
        "sweep_stacks": stack_bench(quick),
        "sweep_machinery": sweep_bench(quick),
    }
    try:
        import numba

        results["machine"]["numba"] = numba.__version__
        results["machine"]["numba_threads"] = numba.get_num_threads()
    except ImportError:
        pass
    protocol = dataset.make_protocol("equilibrium")
    if quick:
        protocol = dataset.make_protocol("equilibrium", samples=640, equilibration=100)
    start = time.perf_counter()
    n_t = len(protocol.temperatures)
    for first in range(0, n_t, dataset.GROUP_SIZE):
        group = list(range(first, min(first + dataset.GROUP_SIZE, n_t)))
        dataset.simulate_temperatures(protocol, group)
    results["default_dataset_mc_seconds"] = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as scratch:
        start = time.perf_counter()
        dataset.generate(protocol, Path(scratch), show_progress=False, figures=False)
        results["default_dataset_seconds"] = time.perf_counter() - start
        results["default_dataset"] = {
            "L": protocol.L,
            "temperatures": len(protocol.temperatures),
            "samples": protocol.samples,
            "interval": protocol.interval,
            "algorithm": protocol.algorithm,
        }
    return results


def keras_comparison(keras_python, quick: bool = False) -> dict:
    """One GAN's fused WGAN-GP step against the Keras implementation
    (`benchmarks/ising_keras.py`, each training style in it) timed here, alternating
    round by round, at batch 64 on the CPU."""
    import torch

    from benchmarks import ising_keras
    from benchmarks.keras_reference import compare_with_keras

    return compare_with_keras(
        keras_python,
        ising_keras,
        _gan_task(1, 64, "fused", torch.device("cpu")),
        ours_label="fused engine, one GAN",
        unit="steps_per_s (5 critic + 1 generator update)",
        target=2.0,
        quick=quick,
    )


if __name__ == "__main__":
    import json

    print(json.dumps(run_bench(), indent=1))
