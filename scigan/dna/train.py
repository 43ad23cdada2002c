"""Training the DNA GAN (thesis §4.1.3): alternate a discriminator step on a merged batch of
real and generated windows (real label 0.9, fake 0) with a generator step through the frozen
discriminator (target 1). One "epoch" of the thesis is one such iteration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from scigan.core.errors import ConfigError
from scigan.core.sampling import noise_batches
from scigan.core.seeds import derive_seeds
from scigan.dna.config import DnaConfig
from scigan.dna.data import DnaDataset, one_hot, write_fasta
from scigan.dna.engines.autograd import AutogradDnaGanStep
from scigan.dna.models import Discriminator, Generator, decode_argmax


def build_models(config: DnaConfig, window: int) -> tuple[Generator, Discriminator]:
    m = config.model
    generator = Generator(window, m.noise_dim, tuple(m.generator_hidden), m.leaky_slope, m.head)
    discriminator = Discriminator(window, tuple(m.discriminator_hidden), m.leaky_slope)
    return generator, discriminator


def seeds(seed: int) -> dict[str, int]:
    """The run's independent random streams, derived from its one seed."""
    return derive_seeds(seed, ("init", "train", "fixed_noise", "sample", "evaluate"))


def make_step(config: DnaConfig, generator: nn.Module, discriminator: nn.Module):
    t = config.train
    adam = dict(
        lr_g=t.lr_generator, lr_d=t.lr_discriminator, betas=tuple(t.adam_betas), eps=t.adam_eps
    )
    if t.loss == "wgan_gp":
        if t.engine != "autograd":
            raise ConfigError(
                f"train.loss wgan_gp runs on the autograd engine, not train.engine {t.engine}",
                "set train.engine=autograd",
            )
        from scigan.dna.engines.autograd import WganGpDnaStep

        return WganGpDnaStep(
            generator, discriminator, **adam, critic_steps=t.critic_steps, gp_weight=t.gp_weight
        )
    kwargs = dict(**adam, real_label=t.real_label, fake_label=t.fake_label)
    if t.engine == "fused":
        from scigan.dna.engines.fused import DnaGanStep

        return DnaGanStep(generator, discriminator, **kwargs)
    return AutogradDnaGanStep(generator, discriminator, **kwargs)


class DnaGanTask:
    """Everything one DNA training run needs between steps; see core.trainer.GANTask."""

    def __init__(self, config: DnaConfig, dataset: DnaDataset, device: torch.device):
        self.config, self.device = config, device
        s = seeds(config.seed)
        torch.manual_seed(s["init"])
        generator, discriminator = build_models(config, dataset.window)
        self.generator, self.discriminator = generator.to(device), discriminator.to(device)
        self.real = torch.from_numpy(one_hot(dataset.train.codes)).to(device)
        self.rng = torch.Generator(device=device).manual_seed(s["train"])
        fixed = torch.Generator(device="cpu").manual_seed(s["fixed_noise"])
        self.fixed_noise = torch.randn(
            config.log.sample_count, config.model.noise_dim, generator=fixed
        ).to(device)
        self.step = make_step(config, self.generator, self.discriminator)

    def train_step(self) -> dict[str, Tensor]:
        b, nz = self.config.train.batch_size, self.config.model.noise_dim
        if self.config.train.loss == "wgan_gp":  # a fresh real batch per critic update
            n, rows = self.config.train.critic_steps, self.real.shape[0]
            idx = torch.randint(0, rows, (n, b), generator=self.rng, device=self.device)
            z = torch.randn(n + 1, b, nz, generator=self.rng, device=self.device)
            eps = torch.rand(n, b, 1, generator=self.rng, device=self.device)
            loss_d, loss_g = self.step(self.real[idx], z, eps)
            return {"loss_d": loss_d, "loss_g": loss_g}
        idx = torch.randint(0, self.real.shape[0], (b,), generator=self.rng, device=self.device)
        z = torch.randn(2, b, nz, generator=self.rng, device=self.device)
        loss_d, loss_g = self.step(self.real[idx], z[0], z[1])
        return {"loss_d": loss_d, "loss_g": loss_g}

    def state_dict(self) -> dict[str, Any]:
        return {
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "step": self.step.state_dict(),
            "rng": self.rng.get_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.step.load_state_dict(state["step"])
        self.rng.set_state(state["rng"])

    @torch.no_grad()
    def write_samples(self, step: int, directory: Path) -> None:
        codes = decode_argmax(self.generator(self.fixed_noise)).cpu().numpy()
        write_fasta(Path(directory) / f"step_{step:07d}.fasta", codes, prefix=f"step{step}")


@torch.no_grad()
def generate(
    generator: Generator, n: int, seed: int, device: torch.device, batch: int = 8192
) -> np.ndarray:
    """n sequences (uint8 codes) from a trained generator, decoded by argmax per position."""
    generator.eval()
    out = [
        decode_argmax(generator(z)).cpu().numpy()
        for z in noise_batches(n, generator.noise_dim, seed, device, batch)
    ]
    return np.concatenate(out) if out else np.zeros((0, generator.window), dtype=np.uint8)
