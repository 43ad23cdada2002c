"""The Ising case study (thesis §4.3): WGAN-GP on Monte Carlo lattices, one GAN per temperature
(or one conditional GAN for all), judged by the physics of the generated lattices.

Run directory: config.yaml, run.json, and one sub-run per group of temperatures trained
together, groups/NN/ (its own checkpoints/last.pt, log.jsonl, tb/, samples/), so each group
resumes on its own; metrics.json and figures/ from `scigan evaluate`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scigan.core.casestudy import CaseStudy, Evaluation, TrainedRun, TrainingUnit
from scigan.core.loop import LoopSettings
from scigan.ising.config import IsingGanConfig

if TYPE_CHECKING:  # numpy and torch only where a command trains, samples or evaluates
    import numpy as np
    import torch
    import typer

    from scigan.core.rundir import RunDir
    from scigan.ising.data import IsingData
    from scigan.ising.groups import TrainedGroup

DEFAULT_DATA = Path("data") / "ising" / "ising.h5"


class IsingCaseStudy(CaseStudy):
    name = "ising"
    config_model = IsingGanConfig
    package = "scigan.ising"
    # Keys that may change when a run is resumed: where and how fast it runs, how long, and
    # the generator average (it never feeds back into training; switched on at a resume, it
    # starts from the generator's weights there).
    may_differ = frozenset(
        {"device", "num_threads", "train.steps", "train.epochs", "train.generator_average"}
    )
    metrics_per = "per_temperature"
    sample_file = "samples.npz"  # `scigan sample` writes NumPy .npz arrays
    sweep_group_by = "temperature"
    budget_keys = ("train.epochs", "train.steps")
    # points differing only in these train as one stack (IsingGanTask's members): every
    # temperature's GAN of every point side by side, each with its own streams and settings
    stack_keys = (
        "seed",
        "train.lr_generator",
        "train.lr_critic",
        "train.adam_betas",
        "train.adam_eps",
        "train.gp_weight",
    )
    sweep_criteria = {  # noqa: RUF012 (a ClassVar of the contract)
        # thesis §4.3.5: per temperature, the smallest sum of the final critic and generator
        # losses (each averaged over the last evaluate.loss_window logged steps)
        "thesis": "losses.critic_total + losses.generator",
        # the physics bar against the validation half of the held-out Monte Carlo lattices:
        # the largest error of <|m|>, e, c and chi in units of its allowance (evaluate.compare);
        # the choices are then judged on the test half (generated_vs_mc_test)
        "heldout": "generated_vs_mc_validation.bar_error",
    }

    def default_data(self, config: IsingGanConfig) -> Path:
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

    def load_data(self, config: IsingGanConfig) -> IsingData:
        from scigan.ising.data import load_data

        d = config.data
        return load_data(Path(d.path), d.heldout_fraction, d.temperatures)

    def data_record(self, data: IsingData) -> dict[str, Any]:
        return {"data": data.meta, "temperatures": [float(t) for t in data.temperatures]}

    def training_units(
        self, config: IsingGanConfig, data: IsingData, device: torch.device
    ) -> list[TrainingUnit]:
        return self.stacked_training_units([config], data, device)

    def stacked_training_units(
        self, configs: list[IsingGanConfig], data: IsingData, device: torch.device
    ) -> list[TrainingUnit]:
        """One unit per group of temperatures (train.group_size); a stack of points trains
        each group's GANs of every point together."""
        from scigan.ising.groups import group_subdir, plan
        from scigan.ising.task import IsingGanTask, total_steps

        config = configs[0]
        steps = total_steps(config, data.meta["n_train"])
        settings = LoopSettings(
            steps=steps,
            log_every=config.log.every,
            checkpoint_every=config.log.checkpoint_every,
            sample_every=config.log.sample_every,
            tensorboard=config.log.tensorboard,
            checkpoint_seconds=config.log.checkpoint_seconds,
        )
        groups = plan(config, len(data.temperatures))
        points = "" if len(configs) == 1 else f" x {len(configs)} points"
        units = []
        for g, members in enumerate(groups):
            temps = data.temperatures[members]
            what = "conditional GAN" if config.model.conditional else f"{len(members)} GAN(s)"

            def build(members: list[int] = members) -> IsingGanTask:
                t = data.temperatures[members]
                return IsingGanTask(
                    config, t, data.indices[members], data.train[members], device, configs
                )

            label = (
                f"group {g + 1}/{len(groups)}: {what}{points}, T = {temps[0]:g}..{temps[-1]:g}, "
                f"{steps} steps each"
            )
            models = (1 if config.model.conditional else len(members)) * len(configs)
            units.append(
                TrainingUnit(build, settings, group_subdir(g), f"group {g}", label, models)
            )
        return units

    def stack_member_state(
        self, task_state: dict[str, Any], member: int, members: int, config: IsingGanConfig
    ) -> dict[str, Any]:
        from scigan.ising.task import stack_member_state

        return stack_member_state(task_state, member, members, config)

    def stack_model_bytes(self, config: IsingGanConfig, data: IsingData) -> int:
        from scigan.ising.task import stack_bytes

        return stack_bytes(config, int(data.train.shape[-1]), len(data.temperatures))

    def load_generator(
        self, run: RunDir, config: IsingGanConfig, device: torch.device
    ) -> tuple[list[TrainedGroup], int]:
        """The run's trained groups; a run is as far as its least trained group."""
        from scigan.ising.groups import load_generators

        groups = load_generators(run, config, device)
        return groups, min(g.step for g in groups)

    def generate(
        self, trained: TrainedRun, n: int, seed: int | None
    ) -> tuple[np.ndarray, np.ndarray]:
        from scigan.ising.groups import generate_lattices

        return generate_lattices(trained.config, trained.generator, n, seed)

    def save_samples(
        self, trained: TrainedRun, samples: tuple[np.ndarray, np.ndarray], out: Path
    ) -> str:
        import numpy as np

        temps, lattices = samples
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "wb") as handle:  # a file object: numpy keeps the name as given
            np.savez_compressed(handle, spins=lattices, temperatures=temps)
        return (
            f"{out}: {lattices.shape[1]} lattices (±1 spins, int8) at each of {len(temps)} "
            "temperatures, NumPy .npz arrays 'spins' (T, n, L, L) and 'temperatures'"
        )

    def evaluate(
        self, trained: TrainedRun, n: int | None, say: Callable[[str], None]
    ) -> Evaluation:
        from scigan.ising.evaluate import evaluate

        return evaluate(trained, n, say)

    def nested_budget_problem(self, config: IsingGanConfig) -> str | None:
        if config.train.lr_schedule != "constant":
            return (
                f"train.lr_schedule {config.train.lr_schedule} decays the rates over the run's "
                "whole length, so a shorter budget is not a longer run's earlier checkpoint"
            )
        return None

    def register_commands(self, data_app: typer.Typer) -> None:
        from scigan.montecarlo.cli import register

        register(data_app)
