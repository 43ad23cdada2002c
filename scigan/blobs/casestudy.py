"""The Gaussian-blob image case study (thesis §4.2): a DCGAN on sums of 2-D Gaussians."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scigan.blobs.config import BlobsConfig
from scigan.core.casestudy import CaseStudy, Evaluation, TrainedRun, TrainingUnit
from scigan.core.errors import InputError
from scigan.core.loop import LoopSettings, steps_per_epoch

if TYPE_CHECKING:  # numpy and torch only where a command trains, samples or evaluates
    import numpy as np
    import torch
    import typer

    from scigan.blobs.data import BlobDataset
    from scigan.core.rundir import RunDir

DEFAULT_DATA_DIR = Path("data") / "blobs"


def default_data_path(n_train: int, n_heldout: int) -> Path:
    """The thesis data set of the given sizes (data seed 0), built on first use."""
    path = DEFAULT_DATA_DIR / f"thesis-{n_train}-{n_heldout}.h5"
    if not path.is_file():
        from scigan.blobs.data import build_dataset
        from scigan.blobs.storage import save_dataset

        save_dataset(build_dataset(n_train, n_heldout, seed=0), path)
    return path.resolve()


class BlobsCaseStudy(CaseStudy):
    name = "blobs"
    config_model = BlobsConfig
    package = "scigan.blobs"
    # Keys that may change when a run is resumed: where and how fast it runs, how long, how
    # it logs and how it is evaluated.
    may_differ = frozenset({"device", "num_threads", "train.epochs"})
    resumable_sections = ("log", "evaluate")
    sample_file = "samples.npy"  # `scigan sample` writes a .npy array (and a .png grid)
    budget_keys = ("train.epochs",)
    sweep_criteria = {  # noqa: RUF012 (a ClassVar of the contract)
        # against the validation half of the held-out images: Frechet distance on the
        # encoder's features, less precision and recall; the choice is judged on the test
        # half (generated_vs_heldout_test)
        "heldout": "generated_vs_heldout_validation.fd"
        " - generated_vs_heldout_validation.precision"
        " - generated_vs_heldout_validation.recall",
    }

    def default_data(self, config: BlobsConfig) -> Path:
        return default_data_path(config.data.n_train, config.data.n_heldout)

    def load_data(self, config: BlobsConfig) -> BlobDataset:
        from scigan.blobs.storage import load_dataset

        dataset = load_dataset(Path(config.data.path))
        if len(dataset.train) < config.train.batch_size:
            raise InputError(
                f"the data set has {len(dataset.train)} training images, fewer than one batch "
                f"({config.train.batch_size})",
                "use more images or a smaller --set train.batch_size",
            )
        return dataset

    def training_units(
        self, config: BlobsConfig, data: BlobDataset, device: torch.device
    ) -> list[TrainingUnit]:
        from scigan.blobs.train import BlobGanTask

        spe = steps_per_epoch(len(data.train), config.train.batch_size)
        settings = LoopSettings(
            steps=config.train.epochs * spe,
            log_every=config.log.every,
            checkpoint_every=config.log.checkpoint_every_epochs * spe,
            sample_every=config.log.grid_every_epochs * spe,
            tensorboard=config.log.tensorboard,
            checkpoint_seconds=config.log.checkpoint_seconds,
        )
        return [TrainingUnit(lambda: BlobGanTask(config, data.train, device), settings)]

    def describe_progress(self, config: BlobsConfig, data: Any, step: int, total: int) -> str:
        spe = steps_per_epoch(len(data.train), config.train.batch_size)
        return (
            f"step {step}/{total} = epoch {step / spe:.2f}/{config.train.epochs} at {spe} steps "
            "per epoch"
        )

    def after_training(self, run: RunDir, config: BlobsConfig) -> str:
        from scigan.blobs.train import write_gif

        gif = write_gif(run.samples_dir, run.samples_dir / "evolution.gif")
        return f", per-epoch grids in {run.samples_dir} ({gif.name})" if gif else ""

    def build_generator(self, config: BlobsConfig, info: dict[str, Any]) -> torch.nn.Module:
        from scigan.blobs.train import build_models

        return build_models(config, int(info["data"]["size"]))[0]

    def generate(self, trained: TrainedRun, n: int, seed: int | None) -> np.ndarray:
        from scigan.blobs.train import generate, seeds

        seed = seeds(trained.config.seed)["sample"] if seed is None else seed
        return generate(trained.generator, n, seed, trained.device)

    def sample_paths(self, out: Path) -> list[Path]:
        """OUT.npy (the images; another suffix becomes .npy) and OUT.png (a grid of 64)."""
        npy = Path(out).with_suffix(".npy")
        return [npy, npy.with_suffix(".png")]

    def save_samples(self, trained: TrainedRun, samples: np.ndarray, out: Path) -> str:
        import numpy as np

        from scigan.blobs.storage import save_grid

        out, grid = self.sample_paths(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        np.save(out, samples)
        save_grid(grid, samples[:64], title=f"{trained.run.path.name}, step {trained.step}")
        size = f"{samples.shape[1]}x{samples.shape[2]}"
        return (
            f"{out}: {len(samples)} images {size} from {trained.run.path} (step {trained.step}); "
            f"grid {grid}"
        )

    def evaluate(
        self, trained: TrainedRun, n: int | None, say: Callable[[str], None]
    ) -> Evaluation:
        from scigan.blobs.evaluate import evaluate

        return evaluate(trained, n, say)

    def register_commands(self, data_app: typer.Typer) -> None:
        from scigan.blobs.cli import register

        register(data_app)
