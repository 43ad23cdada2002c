"""The trained groups of an Ising run: one sub-run per group of temperatures trained together,
groups/NN/ (its own checkpoints/last.pt, log.jsonl, tb/, samples/), or a single group holding
the one conditional GAN; and lattices drawn from them."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from scigan.core.errors import InputError
from scigan.core.rundir import RunDir
from scigan.ising.config import IsingGanConfig


class TrainedGroup(NamedTuple):
    """One trained group of a run, as sampling and evaluation use it."""

    temperatures: np.ndarray
    indices: np.ndarray  # the temperatures' indices in the data set
    generator: torch.nn.Module
    step: int
    averaged: bool  # the generator holds the run's weight average (train.generator_average)


def groups_of(n: int, size: int) -> list[list[int]]:
    return [list(range(i, min(i + size, n))) for i in range(0, n, size)]


def plan(cfg: IsingGanConfig, n_temperatures: int) -> list[list[int]]:
    """The temperatures (indices) of each group: all in one for a conditional GAN."""
    if cfg.model.conditional:
        return [list(range(n_temperatures))]
    return groups_of(n_temperatures, cfg.train.group_size)


def group_subdir(index: int) -> str:
    return f"groups/{index:02d}"


def group_dir(run: RunDir, index: int) -> RunDir:
    return RunDir(run.path / group_subdir(index))


def load_generators(run: RunDir, cfg: IsingGanConfig, device: torch.device) -> list[TrainedGroup]:
    """The run's trained groups, from their last checkpoints (loaded weights_only)."""
    from scigan.ising.task import build_models

    info = run.read_info()
    temperatures = np.array(info["temperatures"])
    indices = np.array(info["data"].get("indices", range(len(temperatures))))
    L = int(info["data"]["parameters"]["L"])
    out = []
    for g, members in enumerate(plan(cfg, len(temperatures))):
        state = group_dir(run, g).load_last_checkpoint(
            device, f"scigan train ising --run-dir {run.path}"
        )
        generator, _ = build_models(cfg, 1 if cfg.model.conditional else len(members), L)
        # the averaged weights when the run keeps them (train.generator_average)
        averaged = "generator_average" in state["task"]
        generator.load_state_dict(state["task"]["generator_average" if averaged else "generator"])
        step = int(state["step"])
        out.append(
            TrainedGroup(
                temperatures[members], indices[members], generator.to(device), step, averaged
            )
        )
    return out


def generate_lattices(
    cfg: IsingGanConfig,
    groups: list[TrainedGroup],
    n: int,
    seed: int | None = None,
    temperatures: list[float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(temperatures, lattices (T, n, L, L) int8) from a run's trained groups. Per-temperature
    runs give their grid; a conditional run any temperatures (default: its grid)."""
    from scigan.ising.task import CONDITIONAL_INDEX, generate, stream_seeds

    base, fold = (cfg.seed if seed is None else seed), cfg.model.sign_fold
    if cfg.model.conditional:
        generator = groups[0].generator
        temps = temperatures if temperatures is not None else groups[0].temperatures
        temps = np.asarray(temps, dtype=float)
        device = next(generator.parameters()).device
        lattices = []
        for k, t in enumerate(temps):
            s = stream_seeds(base, CONDITIONAL_INDEX + 1 + k)["sample"]
            tt = torch.full((1, n), float(t))
            lattices.append(generate(generator, n, [s], device, tt, sign_fold=fold)[0])
        return temps, np.stack(lattices)
    if temperatures is not None:
        raise InputError(
            "a per-temperature run generates at its training temperatures only",
            "train a conditional run (--config conditional) for other temperatures",
        )
    all_t, all_x = [], []
    for group in groups:
        device = next(group.generator.parameters()).device
        seeds = [stream_seeds(base, int(i))["sample"] for i in group.indices]
        all_x.append(generate(group.generator, n, seeds, device, sign_fold=fold))
        all_t.append(group.temperatures)
    return np.concatenate(all_t), np.concatenate(all_x)
