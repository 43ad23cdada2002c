"""What the GAN tests share: a short run's config, its task and its checkpoints."""

from pathlib import Path

import torch

from scigan.core.config import validate
from scigan.core.registry import load_case_study, resolve_case_config
from scigan.ising.config import IsingGanConfig
from scigan.ising.data import load_data
from scigan.ising.task import IsingGanTask


def gan_config(data: Path, *extra: str) -> dict:
    sets = [
        f"data.path={data}",
        "train.steps=4",
        "train.batch_size=8",
        "train.critic_steps=2",
        "log.every=2",
        "log.checkpoint_every=3",
        "num_threads=1",
        *extra,
    ]
    return resolve_case_config(load_case_study("ising"), None, sets)


def group_checkpoint(run: Path, group: int = 0) -> dict:
    return torch.load(
        run / "groups" / f"{group:02d}" / "checkpoints" / "last.pt", weights_only=True
    )


def gan_task(data: Path, engine: str, *extra: str) -> IsingGanTask:
    cfg = validate(
        IsingGanConfig,
        gan_config(
            data, f"train.engine={engine}", "train.lr_critic=1e-3", "train.adam_eps=1.0", *extra
        ),
    )
    d = load_data(data, cfg.data.heldout_fraction, None)
    return IsingGanTask(cfg, d.temperatures, d.indices, d.train, torch.device("cpu"))


def trained_groups(run: Path) -> tuple[IsingGanConfig, list]:
    """A trained run's config and its groups, opened as `scigan sample` opens them."""
    from scigan.core.workflow import open_trained_run

    trained = open_trained_run(load_case_study("ising"), run)
    return trained.config, trained.generator


def draw_lattices(run: Path, n: int, **options):
    """(temperatures, lattices) drawn from a trained run."""
    from scigan.ising.groups import generate_lattices

    cfg, groups = trained_groups(run)
    return generate_lattices(cfg, groups, n, **options)
