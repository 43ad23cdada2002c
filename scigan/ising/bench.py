"""Ising engine benchmark: spin-flip attempts per second of each engine.

Cases: the thesis-style Python loop (short); each engine on the thesis protocol, 41
temperatures x L = 9; each engine on L = 256 at Tc; the wall time of the default data set.
Wolff counts flipped spins, not attempts (each cluster flip replaces many attempts).
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from scigan.ising import dataset, mc

THESIS_TEMPERATURES = tuple(round(0.1 * k, 1) for k in range(41))


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
        batch = mc.make_chains(L, temperatures, chains, 0, range(len(temperatures)), algorithm,
                               "cold")
        batch.equilibrate(max(2, sweeps // 2))  # compiles, and sets Wolff's cluster count
        rates[algorithm] = _rate(lambda b=batch: b.sweep(sweeps), repeats)
    try:
        import torch

        from scigan.ising.torch_mc import TorchChains, resolve_device

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


def run_bench(quick: bool = False) -> dict:
    """Attempts per second of every engine, and the default data set's wall time: the Monte
    Carlo alone, and the whole command (with HDF5, exact values and the summary table)."""
    repeats = 2 if quick else 3
    results = {
        "unit": "spin-flip attempts per second (Wolff: spins flipped per second)",
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor(),
                    "python": platform.python_version(), "numpy": np.__version__},
        "python_loop_thesis_L9": _python_loop_rate(2_000 if quick else 20_000),
        "thesis_protocol_41T_L9_64chains": _engine_rates(
            9, THESIS_TEMPERATURES, 64, 20 if quick else 200, repeats),
        "L256_Tc_128chains": _engine_rates(
            256, [2.269], 128 if not quick else 64, 2 if quick else 10, repeats),
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
        results["default_dataset"] = {"L": protocol.L, "temperatures": len(protocol.temperatures),
                                      "samples": protocol.samples,
                                      "interval": protocol.interval,
                                      "algorithm": protocol.algorithm}
    return results


if __name__ == "__main__":
    import json

    print(json.dumps(run_bench(), indent=1))
