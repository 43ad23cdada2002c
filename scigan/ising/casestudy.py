"""The Ising case study (thesis §4.3): WGAN-GP on Monte Carlo lattices, one GAN per temperature
(or one conditional GAN for all), judged by the physics of the generated lattices.

Run directory: config.yaml, run.json, and one sub-run per group of temperatures trained
together, groups/NN/ (its own checkpoints/last.pt, log.jsonl, tb/, samples/), so each group
resumes on its own; metrics.json and figures/ from `scigan evaluate`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from scigan.core.config import validate
from scigan.core.device import resolve_device, set_threads
from scigan.core.errors import InputError
from scigan.core.rundir import RunDir
from scigan.core.runs import resumable_keys, run_info
from scigan.core.trainer import LoopSettings, describe_stop, run_training
from scigan.ising.config import IsingGanConfig, bundled_config, defaults_path

__all__ = ["bundled_config", "defaults_path", "train", "sample", "evaluate"]

DEFAULT_DATA = Path("data") / "ising" / "ising.h5"
# Keys that may change when a run is resumed: where and how fast it runs, how long, how it logs,
# and the generator average (it never feeds back into training; switched on at a resume, it
# starts from the generator's weights there).
MAY_DIFFER = frozenset(
    {"device", "num_threads", "train.steps", "train.epochs", "train.generator_average"}
)


def _default_data() -> Path:
    """The default Monte Carlo data set (`scigan data ising` defaults), built on first use."""
    if not DEFAULT_DATA.is_file():
        from scigan.montecarlo import dataset

        print(
            f"building the default Monte Carlo data set in {DEFAULT_DATA.parent} (~20 s)",
            file=sys.stderr,
        )
        dataset.generate(
            dataset.make_protocol("equilibrium"),
            DEFAULT_DATA.parent,
            show_progress=True,
            figures=True,
        )
    return DEFAULT_DATA.resolve()


def groups_of(n: int, size: int) -> list[list[int]]:
    return [list(range(i, min(i + size, n))) for i in range(0, n, size)]


def group_dir(run: RunDir, index: int) -> RunDir:
    return RunDir(run.path / "groups" / f"{index:02d}")


def resolve_config(config: dict) -> IsingGanConfig:
    cfg = validate(IsingGanConfig, config)
    if cfg.data.path is None:
        config["data"]["path"] = str(_default_data())
        cfg = validate(IsingGanConfig, config)
    return cfg


def train(config: dict, run_dir: Path, max_steps: int | None, progress: bool) -> str:
    from scigan.ising.train import IsingGanTask, load_data, total_steps

    cfg = resolve_config(config)
    device = resolve_device(cfg.device)
    threads = set_threads(cfg.num_threads)
    data = load_data(Path(cfg.data.path), cfg.data.heldout_fraction, cfg.data.temperatures)
    run = RunDir(Path(run_dir))
    info = run_info("ising", data.meta, temperatures=[float(t) for t in data.temperatures])
    resuming = run.start(config, info, resumable_keys(config, MAY_DIFFER))
    steps = total_steps(cfg, data.meta["n_train"])
    settings = LoopSettings(
        steps=steps,
        log_every=cfg.log.every,
        checkpoint_every=cfg.log.checkpoint_every,
        sample_every=cfg.log.sample_every,
        tensorboard=cfg.log.tensorboard,
        progress=progress,
    )
    if cfg.model.conditional:
        plan = [list(range(len(data.temperatures)))]
    else:
        plan = groups_of(len(data.temperatures), cfg.train.group_size)
    lines, interrupted, finished = [], False, [steps]
    for g, members in enumerate(plan):
        temps = data.temperatures[members]
        what = "conditional GAN" if cfg.model.conditional else f"{len(members)} GAN(s)"
        if progress:
            print(
                f"group {g + 1}/{len(plan)}: {what}, T = {temps[0]:g}..{temps[-1]:g}, "
                f"{steps} steps each",
                file=sys.stderr,
                flush=True,
            )
        task = IsingGanTask(cfg, temps, data.indices[members], data.train[members], device)
        result = run_training(task, group_dir(run, g), settings, max_steps)
        lines.append(f"group {g}: step {result.step}/{steps}")
        finished.append(result.step)
        if result.interrupted:
            interrupted = True
            break
    how = "resumed" if resuming else "new run"
    state = describe_stop(interrupted, min(finished), steps)
    return (
        f"{run.path}: {'; '.join(lines)} ({how}; {state}) on {device} with {threads} "
        f"thread(s); losses in {run.path}/groups/*/log.jsonl"
    )


class TrainedGroup(NamedTuple):
    """One trained group of a run, as sampling and evaluation use it."""

    temperatures: np.ndarray
    indices: np.ndarray  # the temperatures' indices in the data set
    generator: torch.nn.Module
    step: int
    averaged: bool  # the generator holds the run's weight average (train.generator_average)


def load_generators(run: RunDir, device: torch.device) -> tuple[IsingGanConfig, list[TrainedGroup]]:
    """The run's config and its trained groups, from their last checkpoints."""
    from scigan.ising.train import build_models

    cfg = validate(IsingGanConfig, run.read_config())
    info = run.read_info()
    temperatures = np.array(info["temperatures"])
    indices = np.array(info["data"].get("indices", range(len(temperatures))))
    if cfg.model.conditional:
        plan = [list(range(len(temperatures)))]
    else:
        plan = groups_of(len(temperatures), cfg.train.group_size)
    L = int(info["data"]["parameters"]["L"])
    out = []
    for g, members in enumerate(plan):
        sub = group_dir(run, g)
        state = sub.load_last_checkpoint(device, f"scigan train ising --run-dir {run.path}")
        K = 1 if cfg.model.conditional else len(members)
        generator, _ = build_models(cfg, K, L)
        # the averaged weights when the run keeps them (train.generator_average)
        averaged = "generator_average" in state["task"]
        generator.load_state_dict(state["task"]["generator_average" if averaged else "generator"])
        generator = generator.to(device)
        step = int(state["step"])
        out.append(TrainedGroup(temperatures[members], indices[members], generator, step, averaged))
    return cfg, out


def generate_lattices(
    run: RunDir,
    n: int,
    seed: int | None = None,
    temperatures: list[float] | None = None,
    loaded: tuple[IsingGanConfig, list[TrainedGroup]] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(temperatures, lattices (T, n, L, L) int8) from a trained run (or from its `loaded`
    generators). Per-temperature runs give their grid; a conditional run any temperatures
    (default: its grid)."""
    from scigan.ising.train import CONDITIONAL_INDEX, generate, stream_seeds

    if loaded is None:
        loaded = load_generators(run, resolve_device(run.read_config()["device"]))
    cfg, groups = loaded
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


def sample(run_dir: Path, n: int, out: Path, seed: int | None) -> str:
    run = RunDir(Path(run_dir))
    temps, lattices = generate_lattices(run, n, seed)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as handle:  # a file object: numpy keeps the name as given
        np.savez_compressed(handle, spins=lattices, temperatures=temps)
    return (
        f"{out}: {n} lattices (±1 spins, int8) at each of {len(temps)} temperatures, "
        f"NumPy .npz arrays 'spins' (T, n, L, L) and 'temperatures'"
    )


def evaluate(run_dir: Path, n: int | None, progress: bool) -> str:
    from scigan.ising.evaluate import evaluate_run

    return evaluate_run(RunDir(Path(run_dir)), n, progress)
