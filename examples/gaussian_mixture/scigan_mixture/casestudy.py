"""The mixture case study: everything scigan needs to train, sample and evaluate a GAN on
1-D samples of a mixture of three Gaussians. See scigan's docs/extending.md."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import Field, PositiveInt
from torch import nn

from scigan.core.casestudy import CaseStudy, Evaluation, TrainingUnit
from scigan.core.config import RunConfig, StepLogConfig, StrictModel
from scigan.core.errors import InputError
from scigan.core.loop import LoopSettings
from scigan.core.losses import bce_discriminator_loss, bce_generator_loss
from scigan.core.metrics import metrics_table, pick_rows, wasserstein_1d
from scigan.core.sampling import noise_batches
from scigan.core.seeds import derive_seeds
from scigan.core.steps import descend, frozen

MEANS, SIGMAS = np.array([-2.0, 0.0, 3.0]), np.array([0.5, 0.3, 0.8])


class DataSection(StrictModel):
    path: str | None
    n_train: PositiveInt
    n_heldout: PositiveInt


class ModelSection(StrictModel):
    noise_dim: PositiveInt
    hidden: PositiveInt


class TrainSection(StrictModel):
    steps: PositiveInt
    batch_size: PositiveInt
    lr: float = Field(gt=0)


class EvaluateSection(StrictModel):
    n_samples: PositiveInt | None


class MixtureConfig(RunConfig):
    data: DataSection
    model: ModelSection
    train: TrainSection
    log: StepLogConfig
    evaluate: EvaluateSection


def seeds(seed: int) -> dict[str, int]:
    return derive_seeds(seed, ("data", "init", "train", "sample", "evaluate"))


def mlp(n_in: int, hidden: int, n_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(n_in, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden),
        nn.LeakyReLU(0.2), nn.Linear(hidden, n_out),
    )  # fmt: skip


class MixtureTask:
    """A GANTask: one discriminator and one generator update per step."""

    def __init__(self, cfg: MixtureConfig, train: np.ndarray, device: torch.device):
        s = seeds(cfg.seed)
        torch.manual_seed(s["init"])
        self.cfg, self.device = cfg, device
        self.G = mlp(cfg.model.noise_dim, cfg.model.hidden, 1).to(device)
        self.D = mlp(1, cfg.model.hidden, 1).to(device)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=cfg.train.lr, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=cfg.train.lr, betas=(0.5, 0.999))
        self.real = torch.as_tensor(train, dtype=torch.float32, device=device)[:, None]
        self.rng = torch.Generator(device=device).manual_seed(s["train"])
        fixed = torch.Generator().manual_seed(s["sample"])
        self.fixed_noise = torch.randn(cfg.log.sample_count, cfg.model.noise_dim, generator=fixed)

    def train_step(self) -> dict[str, torch.Tensor]:
        b, nz = self.cfg.train.batch_size, self.cfg.model.noise_dim
        idx = torch.randint(0, len(self.real), (b,), generator=self.rng, device=self.device)
        z = torch.randn(2, b, nz, generator=self.rng, device=self.device)
        loss_d = bce_discriminator_loss(self.D(self.real[idx]), self.D(self.G(z[0]).detach()))
        descend(self.opt_d, loss_d)
        with frozen(self.D):
            loss_g = bce_generator_loss(self.D(self.G(z[1])))
            descend(self.opt_g, loss_g)
        return {"loss_d": loss_d.detach(), "loss_g": loss_g.detach()}

    def state_dict(self) -> dict[str, Any]:
        return {
            "generator": self.G.state_dict(), "discriminator": self.D.state_dict(),
            "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
            "rng": self.rng.get_state(),
        }  # fmt: skip

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.G.load_state_dict(state["generator"])
        self.D.load_state_dict(state["discriminator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.rng.set_state(state["rng"])

    def write_samples(self, step: int, directory: Path) -> None:
        with torch.no_grad():
            x = self.G(self.fixed_noise.to(self.device))[:, 0].cpu().numpy()
        directory.mkdir(parents=True, exist_ok=True)
        np.save(directory / f"step_{step:07d}.npy", x)


def summary(x: np.ndarray, train: np.ndarray) -> dict[str, float | None]:
    """The metrics of one set of points: moments and the distance to the training points."""
    return {"n": len(x), "mean": float(x.mean()), "std": float(x.std()),
            "w1_train": wasserstein_1d(x, train)}  # fmt: skip


class MixtureCaseStudy(CaseStudy):
    name = "mixture"
    config_model = MixtureConfig
    package = "scigan_mixture"
    may_differ = frozenset({"device", "num_threads", "train.steps"})
    sample_file = "samples.txt"  # `scigan sample` writes one number a line (numpy.savetxt)
    budget_keys = ("train.steps",)  # a sweep over it trains the longest budget once

    def default_data(self, cfg: MixtureConfig) -> Path:
        path = Path("data") / "mixture" / "mixture.npz"
        if not path.is_file():
            rng = np.random.default_rng(seeds(cfg.seed)["data"])
            n = cfg.data.n_train + cfg.data.n_heldout
            k = rng.integers(len(MEANS), size=n)
            x = rng.normal(MEANS[k], SIGMAS[k])
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(path, train=x[: cfg.data.n_train], heldout=x[cfg.data.n_train :])
        return path.resolve()

    def load_data(self, cfg: MixtureConfig) -> dict[str, Any]:
        try:
            with np.load(cfg.data.path) as f:
                data = {"train": f["train"], "heldout": f["heldout"]}
        except (OSError, KeyError, ValueError) as exc:
            raise InputError(
                f"{cfg.data.path} is not a mixture data set ({exc})",
                "give an .npz with 1-D arrays 'train' and 'heldout'",
            ) from None
        digest = hashlib.sha256(data["train"].tobytes() + data["heldout"].tobytes()).hexdigest()
        data["meta"] = {
            "n_train": len(data["train"]), "n_heldout": len(data["heldout"]), "sha256": digest,
        }  # fmt: skip
        return data

    def data_record(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"data": data["meta"]}

    def training_units(self, cfg: MixtureConfig, data, device) -> list[TrainingUnit]:
        log = cfg.log
        settings = LoopSettings(
            cfg.train.steps, log.every, log.checkpoint_every, log.sample_every, log.tensorboard,
            checkpoint_seconds=log.checkpoint_seconds,
        )  # fmt: skip
        return [TrainingUnit(lambda: MixtureTask(cfg, data["train"], device), settings)]

    def build_generator(self, cfg: MixtureConfig, info: dict[str, Any]) -> nn.Module:
        return mlp(cfg.model.noise_dim, cfg.model.hidden, 1)

    @torch.no_grad()
    def generate(self, trained, n: int, seed: int | None) -> np.ndarray:
        seed = seeds(trained.config.seed)["sample"] if seed is None else seed
        nz = trained.config.model.noise_dim
        batches = noise_batches(n, nz, seed, trained.device, 4096)
        return np.concatenate([trained.generator(z)[:, 0].cpu().numpy() for z in batches])

    def save_samples(self, trained, samples: np.ndarray, out: Path) -> str:
        out.parent.mkdir(parents=True, exist_ok=True)
        np.savetxt(out, samples)
        return f"{out}: {len(samples)} points from {trained.run.path} (step {trained.step})"

    def evaluate(self, trained, n: int | None, say) -> Evaluation:
        data = self.load_data(trained.config)
        train, heldout = data["train"], data["heldout"]
        n = n or trained.config.evaluate.n_samples or len(heldout)
        rng = np.random.default_rng(seeds(trained.config.seed)["evaluate"])
        floor, _ = pick_rows(rng, heldout, n)
        say(f"sampling {n} points")
        sets = {
            "generated": self.generate(trained, n, seeds(trained.config.seed)["evaluate"]),
            "heldout_floor": floor,
            # a single Gaussian with the training data's moments: what one mode scores
            "baseline_gaussian": rng.normal(train.mean(), train.std(), n),
        }
        metrics = {"n_samples": n, **{k: summary(x, train) for k, x in sets.items()}}
        table = metrics_table(metrics, ("mean", "std", "w1_train"))
        return Evaluation(metrics, table, f"step {trained.step}, {n} samples")
