"""The Gaussian-blob image case study (thesis §4.2): a DCGAN on sums of 2-D Gaussians."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from scigan.blobs.config import BlobsConfig, bundled_config, defaults_path
from scigan.core import runs
from scigan.core.config import validate
from scigan.core.device import resolve_device, set_threads
from scigan.core.errors import InputError
from scigan.core.rundir import RunDir
from scigan.core.runs import resumable_keys, run_info
from scigan.core.trainer import LoopSettings, describe_stop, run_training

__all__ = ["bundled_config", "defaults_path", "train", "sample", "evaluate"]

DEFAULT_DATA_DIR = Path("data") / "blobs"
# Keys that may change when a run is resumed: where and how fast it runs, how long, how it logs.
MAY_DIFFER = frozenset({"device", "num_threads", "train.epochs"})


def default_data_path(n_train: int, n_heldout: int) -> Path:
    """The thesis data set of the given sizes (data seed 0), built on first use."""
    path = DEFAULT_DATA_DIR / f"thesis-{n_train}-{n_heldout}.h5"
    if not path.is_file():
        from scigan.blobs.data import build_dataset, save_dataset

        save_dataset(build_dataset(n_train, n_heldout, seed=0), path)
    return path.resolve()


def train(config: dict, run_dir: Path, max_steps: int | None, progress: bool) -> str:
    from scigan.blobs.data import load_dataset
    from scigan.blobs.train import BlobGanTask, write_gif

    cfg = validate(BlobsConfig, config)
    if cfg.data.path is None:
        config["data"]["path"] = str(default_data_path(cfg.data.n_train, cfg.data.n_heldout))
        cfg = validate(BlobsConfig, config)
    device = resolve_device(cfg.device)
    threads = set_threads(cfg.num_threads)
    dataset = load_dataset(Path(cfg.data.path))
    if len(dataset.train) < cfg.train.batch_size:
        raise InputError(
            f"the data set has {len(dataset.train)} training images, fewer than one batch "
            f"({cfg.train.batch_size})",
            "use more images or a smaller --set train.batch_size",
        )
    run = RunDir(Path(run_dir))
    may_differ = resumable_keys(config, MAY_DIFFER, ("log", "evaluate"))
    resuming = run.start(config, run_info("blobs", dataset.meta), may_differ)
    task = BlobGanTask(cfg, dataset.train, device)
    spe = task.steps_per_epoch
    settings = LoopSettings(
        steps=cfg.train.epochs * spe,
        log_every=cfg.log.every,
        checkpoint_every=cfg.log.checkpoint_every_epochs * spe,
        sample_every=cfg.log.grid_every_epochs * spe,
        tensorboard=cfg.log.tensorboard,
        progress=progress,
    )
    result = run_training(task, run, settings, max_steps)
    gif = write_gif(run.samples_dir, run.samples_dir / "evolution.gif")
    how = f"resumed from step {result.resumed_from}" if resuming else "new run"
    state = describe_stop(result.interrupted, result.step, settings.steps)
    return (
        f"{run.path}: step {result.step}/{settings.steps} = epoch {result.step / spe:.2f}/"
        f"{cfg.train.epochs} ({spe} steps per epoch; {how}; {state}) on {device} with {threads} "
        f"thread(s); losses in {run.log_file}, checkpoint {run.checkpoint_file}"
        + (f", per-epoch grids in {run.samples_dir} ({gif.name})" if gif else "")
    )


def load_generator(run: RunDir, device: torch.device):
    """The trained generator of a run, from its last checkpoint (loaded weights_only)."""
    from scigan.blobs.train import build_models

    def build(cfg: BlobsConfig, info: dict) -> torch.nn.Module:
        return build_models(cfg, int(info["data"]["size"]))[0]

    return runs.load_generator(run, device, "blobs", BlobsConfig, build)


def sample(run_dir: Path, n: int, out: Path, seed: int | None) -> str:
    from scigan.blobs.data import save_grid
    from scigan.blobs.train import generate, seeds

    run = RunDir(Path(run_dir))
    cfg, generator, step = load_generator(run, resolve_device(run.read_config()["device"]))
    device = next(generator.parameters()).device
    images = generate(generator, n, seeds(cfg.seed)["sample"] if seed is None else seed, device)
    out = Path(out)
    if out.suffix != ".npy":
        out = out.with_suffix(".npy")
    out.parent.mkdir(parents=True, exist_ok=True)
    np.save(out, images)
    grid = out.with_suffix(".png")
    save_grid(grid, images[:64], title=f"{run.path.name}, step {step}")
    size = f"{images.shape[1]}x{images.shape[2]}"
    return f"{out}: {n} images {size} from {run.path} (step {step}); grid {grid}"


def evaluate(run_dir: Path, n: int | None, progress: bool) -> str:
    from scigan.blobs.evaluate import evaluate_run

    return evaluate_run(RunDir(Path(run_dir)), n, progress)
