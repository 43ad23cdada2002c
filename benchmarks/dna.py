"""DNA benchmarks: training steps/s, sampling rate, achieved GFLOP/s, evaluation time."""

from __future__ import annotations

import time
from functools import partial

import numpy as np
import torch

from benchmarks.bench import (
    matmul_peak_gflops,
    measured_between_peaks,
    training_steps_per_s,
    versus_keras,
)
from scigan.core.config import validate
from scigan.core.device import set_threads
from scigan.core.registry import load_case_study, resolve_case_config
from scigan.dna.config import DnaConfig
from scigan.dna.data import build_dataset
from scigan.dna.models import Generator

# A straightforward Keras implementation of the same models, batch 64, on 2 cores.
KERAS_REFERENCE_STEPS_PER_S = 185


def _linear_shapes(model: torch.nn.Module) -> list[tuple[int, int]]:
    return [
        (m.in_features, m.out_features) for m in model.modules() if isinstance(m, torch.nn.Linear)
    ]


def step_flops(batch: int, generator: torch.nn.Module, discriminator: torch.nn.Module) -> int:
    """Multiply-add FLOPs (2 per MAC) of one thesis iteration, counting only needed work:

    D step: G forward (B), D forward on 2B, D weight grads (2B), D input grads except layer 1.
    G step: G forward (B), D forward (B), D input grads (all layers, no weight grads),
            G weight grads, G input grads except layer 1.
    """
    g = sum(i * o for i, o in _linear_shapes(generator))
    d = sum(i * o for i, o in _linear_shapes(discriminator))
    g_first = _linear_shapes(generator)[0]
    d_first = _linear_shapes(discriminator)[0]
    macs = (
        batch * g
        + 2 * batch * d * 2
        + 2 * batch * (d - d_first[0] * d_first[1])
        + batch * g
        + batch * d * 2
        + batch * g
        + batch * (g - g_first[0] * g_first[1])
    )
    return 2 * macs


def _task(engine: str, batch: int, device: str):
    """A training task of the thesis recipe on the bundled genome."""
    from scigan.dna.train import DnaGanTask

    overrides = [f"train.batch_size={batch}", f"train.engine={engine}", "data.path=x"]
    cfg = validate(DnaConfig, resolve_case_config(load_case_study("dna"), None, overrides))
    return DnaGanTask(cfg, build_dataset(), torch.device(device))


def _measure(
    engine: str, batch: int, steps: int, device: str, threads: int
) -> tuple[float, int, float]:
    """Steady-state steps/s of one engine and batch size, the FLOPs of one step and the matmul
    peak measured around it."""
    set_threads(threads)
    task = _task(engine, batch, device)
    warmup_s = 0.0 if steps < 100 else 5.0
    rate, peak = measured_between_peaks(
        partial(training_steps_per_s, task, steps, warmup_s=warmup_s), device
    )
    return rate, step_flops(batch, task.generator, task.discriminator), peak


def _measure_isolated(
    engine: str, batch: int, steps: int, device: str, quick: bool
) -> tuple[float, int, float]:
    """`_measure` in a fresh process (full runs): a training run holds one task, but in one
    process the tasks measured before leave allocator and cache state behind that slowed the
    next one by up to 30 % here, so each configuration starts clean."""
    args = (engine, batch, steps, device, torch.get_num_threads())
    if quick or device != "cpu":
        return _measure(*args)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_measure, *args).result()


def run_bench(quick: bool = False) -> dict:
    from scigan.dna.evaluate import evaluate_sets
    from scigan.dna.train import generate

    dataset = build_dataset()
    case = load_case_study("dna")
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    # (each training configuration below is measured in its own process)
    peak_gflops = matmul_peak_gflops(device=device.type)
    results: dict = {
        "device": str(device),
        "threads": torch.get_num_threads(),
        "fp32_matmul_peak_gflops": round(peak_gflops, 1),
        "training": [],
    }
    for engine in ("fused", "autograd"):
        for batch in (64, 1024):
            steps = (20 if quick else 400) if batch == 64 else (5 if quick else 40)
            rate, flops, peak_now = _measure_isolated(engine, batch, steps, device.type, quick)
            entry = {
                "engine": engine,
                "batch_size": batch,
                "steps_per_s": round(rate, 1),
                "samples_per_s": round(rate * batch, 1),
                "mflop_per_step": round(flops / 1e6, 1),
                "gflops": round(rate * flops / 1e9, 1),
                "fp32_matmul_peak_gflops_around": round(peak_now, 1),
                "fraction_of_peak": round(rate * flops / 1e9 / peak_now, 3),
            }
            if batch == 64:
                entry.update(versus_keras(rate, KERAS_REFERENCE_STEPS_PER_S, peak_now))
            results["training"].append(entry)

    generator = Generator().to(device)
    n = 10_000 if quick else 100_000
    generate(generator, 1000, 0, device)
    start = time.perf_counter()
    generate(generator, n, 0, device)
    results["sampling_sequences_per_s"] = round(n / (time.perf_counter() - start), 1)

    cfg = validate(DnaConfig, resolve_case_config(case, None, ["data.path=x"]))
    n_eval = 1000 if quick else 10_000
    sets = {
        "generated": generate(generator, n_eval, 0, device),
        "heldout_floor": dataset.heldout.codes[
            np.random.default_rng(0).choice(len(dataset.heldout.codes), n_eval)
        ],
    }
    start = time.perf_counter()
    evaluate_sets(
        sets,
        dataset.train.codes,
        dataset.heldout.codes,
        dataset.training_segments(),
        cfg,
        seed=0,
        device=str(device),
    )
    per_set = (time.perf_counter() - start) / len(sets)
    results["evaluation"] = {
        "samples": n_eval,
        "seconds_per_set": round(per_set, 2),
        "note": "all metrics incl. C2ST for one set; `scigan evaluate` runs 4 sets "
        "(generated, floor, Markov 3 and 5) plus Markov fits and log-likelihoods",
    }
    results["keras_reference_steps_per_s_batch64"] = KERAS_REFERENCE_STEPS_PER_S
    results["keras_reference_note"] = (
        "measured where the fp32 matmul peak was ~175 GFLOP/s; vs_keras_at_this_peak "
        "scales it to the peak measured around each configuration"
    )
    return results


def keras_comparison(keras_python, quick: bool = False) -> dict:
    """The fused step against the Keras implementation (`benchmarks/dna_keras.py`, every
    training style in it) timed here, alternating round by round, at batch 64 on the CPU."""
    from benchmarks import dna_keras
    from benchmarks.keras_reference import compare_with_keras

    return compare_with_keras(
        keras_python,
        dna_keras,
        _task("fused", 64, "cpu"),
        ours_label="fused engine",
        unit="steps_per_s",
        target=1.5,
        quick=quick,
    )
