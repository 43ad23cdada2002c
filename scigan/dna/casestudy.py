"""The DNA case study (thesis §4.1): windows of the SARS-CoV-2 genome."""

from __future__ import annotations

from pathlib import Path

import torch

from scigan.core import runs
from scigan.core.config import validate
from scigan.core.device import resolve_device, set_threads
from scigan.core.rundir import RunDir
from scigan.core.runs import resumable_keys, run_info
from scigan.core.trainer import LoopSettings, describe_stop, run_training
from scigan.dna.config import DnaConfig, bundled_config, defaults_path

__all__ = ["bundled_config", "defaults_path", "train", "sample", "evaluate"]

DEFAULT_DATA = Path("data") / "dna" / "windows.h5"
# Keys that may change when a run is resumed: where and how fast it runs, how long, how it logs.
MAY_DIFFER = frozenset({"device", "num_threads", "train.steps"})


def _default_data() -> Path:
    """The bundled genome's data set with default windowing, built on first use."""
    if not DEFAULT_DATA.is_file():
        from scigan.dna.data import build_dataset, save_dataset

        save_dataset(build_dataset(), DEFAULT_DATA)
    return DEFAULT_DATA.resolve()


def train(config: dict, run_dir: Path, max_steps: int | None, progress: bool) -> str:
    from scigan.dna.data import load_dataset
    from scigan.dna.train import DnaGanTask

    cfg = validate(DnaConfig, config)
    if cfg.data.path is None:
        config["data"]["path"] = str(_default_data())
        cfg = validate(DnaConfig, config)
    device = resolve_device(cfg.device)
    threads = set_threads(cfg.num_threads)
    dataset = load_dataset(Path(cfg.data.path))
    run = RunDir(Path(run_dir))
    resuming = run.start(config, run_info("dna", dataset.meta), resumable_keys(config, MAY_DIFFER))
    task = DnaGanTask(cfg, dataset, device)
    settings = LoopSettings(
        steps=cfg.train.steps,
        log_every=cfg.log.every,
        checkpoint_every=cfg.log.checkpoint_every,
        sample_every=cfg.log.sample_every,
        tensorboard=cfg.log.tensorboard,
        progress=progress,
    )
    result = run_training(task, run, settings, max_steps)
    how = f"resumed from step {result.resumed_from}" if resuming else "new run"
    state = describe_stop(result.interrupted, result.step, cfg.train.steps)
    return (
        f"{run.path}: step {result.step}/{cfg.train.steps} ({how}; {state}) on {device} "
        f"with {threads} thread(s); losses in {run.log_file}, checkpoint {run.checkpoint_file}"
    )


def load_generator(run: RunDir, device: torch.device):
    """The trained generator of a run, from its last checkpoint (loaded weights_only)."""
    from scigan.dna.train import build_models

    def build(cfg: DnaConfig, info: dict) -> torch.nn.Module:
        return build_models(cfg, int(info["data"]["window"]))[0]

    return runs.load_generator(run, device, "dna", DnaConfig, build)


def sample(run_dir: Path, n: int, out: Path, seed: int | None) -> str:
    from scigan.dna.data import write_fasta
    from scigan.dna.train import generate, seeds

    run = RunDir(Path(run_dir))
    cfg, generator, step = load_generator(run, resolve_device(run.read_config()["device"]))
    device = next(generator.parameters()).device
    codes = generate(generator, n, seeds(cfg.seed)["sample"] if seed is None else seed, device)
    write_fasta(out, codes, prefix=f"scigan_dna_step{step}")
    return f"{out}: {n} sequences of {codes.shape[1]} nt from {run.path} (step {step})"


def evaluate(run_dir: Path, n: int | None, progress: bool) -> str:
    from scigan.dna.evaluate import evaluate_run

    return evaluate_run(RunDir(Path(run_dir)), n, progress)
