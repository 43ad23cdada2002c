"""The DNA case study (thesis §4.1): windows of the SARS-CoV-2 genome."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scigan.core.casestudy import CaseStudy, Evaluation, TrainedRun, TrainingUnit
from scigan.core.loop import LoopSettings
from scigan.dna.config import DnaConfig

if TYPE_CHECKING:  # torch only where a command trains, samples or evaluates
    import torch
    import typer

    from scigan.dna.data import DnaDataset

DEFAULT_DATA = Path("data") / "dna" / "windows.h5"


class DnaCaseStudy(CaseStudy):
    name = "dna"
    config_model = DnaConfig
    package = "scigan.dna"
    # Keys that may change when a run is resumed: where and how fast it runs, how long.
    may_differ = frozenset({"device", "num_threads", "train.steps"})
    sample_file = "samples.fasta"  # `scigan sample` writes FASTA
    budget_keys = ("train.steps",)
    sweep_criteria = {  # noqa: RUF012 (a ClassVar of the contract)
        # against the validation half of the held-out windows: the 6-mer spectrum distance,
        # plus how far a classifier is from chance (0.5) at telling generated from real; the
        # choice is judged on the test half (generated_vs_heldout_test)
        "heldout": "generated_vs_heldout_validation.kmer_jsd.6"
        " + abs(generated_vs_heldout_validation.c2st_auc - 0.5)",
    }

    def default_data(self, config: DnaConfig) -> Path:
        """The bundled genome's data set with default windowing, built on first use."""
        if not DEFAULT_DATA.is_file():
            from scigan.dna.data import build_dataset, save_dataset

            save_dataset(build_dataset(), DEFAULT_DATA)
        return DEFAULT_DATA.resolve()

    def load_data(self, config: DnaConfig) -> DnaDataset:
        from scigan.dna.data import load_dataset

        return load_dataset(Path(config.data.path))

    def training_units(
        self, config: DnaConfig, data: DnaDataset, device: torch.device
    ) -> list[TrainingUnit]:
        from scigan.dna.train import DnaGanTask

        settings = LoopSettings(
            steps=config.train.steps,
            log_every=config.log.every,
            checkpoint_every=config.log.checkpoint_every,
            sample_every=config.log.sample_every,
            tensorboard=config.log.tensorboard,
            checkpoint_seconds=config.log.checkpoint_seconds,
        )
        return [TrainingUnit(lambda: DnaGanTask(config, data, device), settings)]

    def build_generator(self, config: DnaConfig, info: dict[str, Any]) -> torch.nn.Module:
        from scigan.dna.train import build_models

        return build_models(config, int(info["data"]["window"]))[0]

    def generate(self, trained: TrainedRun, n: int, seed: int | None) -> Any:
        from scigan.dna.train import generate, seeds

        seed = seeds(trained.config.seed)["sample"] if seed is None else seed
        return generate(trained.generator, n, seed, trained.device)

    def save_samples(self, trained: TrainedRun, samples: Any, out: Path) -> str:
        from scigan.dna.data import write_fasta

        write_fasta(out, samples, prefix=f"scigan_dna_step{trained.step}")
        return (
            f"{out}: {len(samples)} sequences of {samples.shape[1]} nt from {trained.run.path} "
            f"(step {trained.step})"
        )

    def evaluate(
        self, trained: TrainedRun, n: int | None, say: Callable[[str], None]
    ) -> Evaluation:
        from scigan.dna.evaluate import evaluate

        return evaluate(trained, n, say)

    def register_commands(self, data_app: typer.Typer) -> None:
        from scigan.dna.cli import register

        register(data_app)
