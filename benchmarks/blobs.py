"""Blob DCGAN benchmarks: training samples/s and achieved GFLOP/s at batch 64, fp32 (plain eager
and scigan's default layout) and bfloat16 autocast, against the machine's matmul peaks."""

from __future__ import annotations

from functools import partial

import torch
from torch import nn

from benchmarks.bench import (
    matmul_peak_gflops,
    measured_between_peaks,
    training_steps_per_s,
    versus_keras,
)
from scigan.core.config import validate
from scigan.core.registry import load_case_study, resolve_case_config

# A straightforward Keras implementation of the same models on 2 cores.
KERAS_REFERENCE_SAMPLES_PER_S = 100


def layer_macs(model: nn.Module, x: torch.Tensor) -> list[tuple[str, int]]:
    """(layer, multiply-adds per sample) of each weighted layer, from its shapes."""
    from scigan.blobs.models import layer_shapes

    out = []
    modules = [
        m for m in model.modules() if isinstance(m, nn.Linear | nn.Conv2d | nn.ConvTranspose2d)
    ]
    for m, (kind, shape_in, shape_out) in zip(modules, layer_shapes(model, x), strict=True):
        if isinstance(m, nn.Linear):
            macs = m.in_features * m.out_features
        elif isinstance(m, nn.ConvTranspose2d):  # every input pixel meets the whole kernel
            macs = (
                shape_in[2] * shape_in[3] * m.in_channels * m.out_channels * m.weight[0, 0].numel()
            )
        else:  # every output pixel meets the whole kernel
            macs = (
                shape_out[2]
                * shape_out[3]
                * m.in_channels
                * m.out_channels
                * m.weight[0, 0].numel()
            )
        out.append((kind, macs))
    return out


def step_flops(batch: int, generator: nn.Module, discriminator: nn.Module, size: int = 32) -> int:
    """FLOPs (2 per multiply-add) of one thesis iteration, counting only the work it needs:

    D step: G forward (B), D forward on 2B, D weight grads (2B), D input grads but layer 1 (2B).
    G step: G forward (B), D forward (B), D input grads, all layers (B; no D weight grads),
            G weight grads (B), G input grads but layer 1 (B).
    Activations, losses and Adam are left out (they are below 1 % here).
    """
    with torch.no_grad():
        g_layers = layer_macs(generator, torch.zeros(1, generator.noise_dim))
        d_layers = layer_macs(discriminator.eval(), torch.zeros(1, 1, size, size))
    discriminator.train()
    g = sum(m for _, m in g_layers)
    d = sum(m for _, m in d_layers)
    g1, d1 = g_layers[0][1], d_layers[0][1]
    per_sample = g + 2 * d + 2 * d + 2 * (d - d1) + g + d + d + g + (g - g1)
    return 2 * batch * per_sample


def _task(images, device: torch.device, precision: str, channels_last: bool, fast: bool):
    """A batch-64 training task of the thesis recipe; `fast` False = stock convolutions."""
    from scigan.blobs.config import BlobsConfig
    from scigan.blobs.layers import OneChannelConv2d, Stride2ConvTranspose2d
    from scigan.blobs.train import BlobGanTask

    sets = [
        "data.path=x",
        "train.batch_size=64",
        f"train.precision={precision}",
        f"train.channels_last={str(channels_last).lower()}",
    ]
    cfg = validate(BlobsConfig, resolve_case_config(load_case_study("blobs"), None, sets))
    task = BlobGanTask(cfg, images, device)
    for m in task.generator.modules():
        if isinstance(m, OneChannelConv2d | Stride2ConvTranspose2d):
            m.fast = fast
    return task


def run_bench(quick: bool = False) -> dict:
    from scigan.blobs.data import build_dataset

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    images = build_dataset(640, 1, seed=0).train
    peak = matmul_peak_gflops(device=device.type)
    # bf16 GEMMs without hardware support can be orders of magnitude slower: a small size.
    bf16_n = 2048 if device.type == "cuda" else 256
    peak_bf16 = matmul_peak_gflops(bf16_n, repeats=2, device=device.type, dtype=torch.bfloat16)
    results: dict = {
        "device": str(device),
        "threads": torch.get_num_threads(),
        "fp32_matmul_peak_gflops": round(peak, 1),
        "bf16_matmul_peak_gflops": round(peak_bf16, 1),
        "bf16_matmul_size": bf16_n,
        "keras_reference_samples_per_s": KERAS_REFERENCE_SAMPLES_PER_S,
        "keras_reference_note": "measured where the fp32 matmul peak was ~175 GFLOP/s; "
        "vs_keras_at_this_peak scales it to the peak measured around each variant",
        "training": [],
    }
    variants = [
        ("fp32 eager (NCHW, stock convolutions)", "fp32", False, False),
        (
            "fp32 scigan default (channels_last, GEMM 1-channel conv, split transposed-conv "
            "backward)",
            "fp32",
            True,
            True,
        ),
        ("bf16 autocast (channels_last)", "bf16", True, True),
    ]
    for name, precision, channels_last, fast in variants:
        task = _task(images, device, precision, channels_last, fast)
        slow = precision == "bf16" and device.type == "cpu"
        if quick:
            steps, warmup, repeats = 1, 1, 1
        elif slow:
            steps, warmup, repeats = 2, 1, 1
        else:
            steps, warmup, repeats = 8, 2, 2
        rate, peak_now = measured_between_peaks(
            partial(training_steps_per_s, task, steps, repeats, warmup_steps=warmup), device.type
        )
        flops = step_flops(64, task.generator, task.discriminator)
        gflops = rate * flops / 1e9
        results["training"].append(
            {
                "variant": name,
                "batch_size": 64,
                "steps_per_s": round(rate, 3),
                "samples_per_s": round(rate * 64, 2),
                "gflop_per_step": round(flops / 1e9, 2),
                "gflops": round(gflops, 1),
                "fp32_matmul_peak_gflops_around": round(peak_now, 1),
                "fraction_of_fp32_peak": round(gflops / peak_now, 3),
                **versus_keras(rate * 64, KERAS_REFERENCE_SAMPLES_PER_S, peak_now),
            }
        )
    return results


def keras_comparison(keras_python, quick: bool = False) -> dict:
    """scigan's default fp32 step against the Keras implementation
    (`benchmarks/blobs_keras.py`, each training style in it) timed here, alternating
    round by round, at batch 64 on the CPU."""
    from benchmarks import blobs_keras
    from benchmarks.keras_reference import compare_with_keras
    from scigan.blobs.data import build_dataset

    return compare_with_keras(
        keras_python,
        blobs_keras,
        _task(build_dataset(640, 1, seed=0).train, torch.device("cpu"), "fp32", True, True),
        ours_label="fp32 scigan default",
        unit="samples_per_s",
        target=1.0,
        quick=quick,
        per_step=64,
        seconds=4.0,  # a step takes ~0.7 s: slices of 4 s hold a handful
        warmup_seconds=4.0,
    )
