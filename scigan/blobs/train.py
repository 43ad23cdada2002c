"""Training the blob DCGAN (thesis §4.2.3), as the Keras DCGAN example the thesis follows:

    D step: generate a batch, then one update of D on real and generated images merged, labels
            real 1 and fake 0, each plus 0.05 * U(0, 1) ("label smoothing" of the thesis);
    G step: a fresh noise batch through G and the frozen D, target 1 (no noise).

Binary cross-entropy, Adam 1e-4 for both networks. One epoch is one pass over the training images
in a fresh random order (full batches only); the core loop counts steps, so a run of E epochs is
E * (n_train // batch) steps, and the fixed-noise grid is drawn at every epoch boundary.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from scigan.blobs.config import BlobsConfig
from scigan.blobs.models import Discriminator, Generator
from scigan.core.loop import steps_per_epoch
from scigan.core.losses import bce_generator_loss
from scigan.core.sampling import noise_batches
from scigan.core.seeds import derive_seeds
from scigan.core.steps import OptimizerPair, descend, frozen, fused_adam


def build_models(config: BlobsConfig, image_size: int = 32) -> tuple[Generator, Discriminator]:
    m = config.model
    generator = Generator(m.noise_dim, m.leaky_slope, image_size)
    discriminator = Discriminator(m.leaky_slope, m.dropout, image_size)
    return generator, discriminator


def seeds(seed: int) -> dict[str, int]:
    """The run's independent random streams, derived from its one seed."""
    return derive_seeds(seed, ("init", "train", "fixed_noise", "sample", "evaluate", "encoder"))


def noisy_bce_discriminator_loss(
    real_logits: Tensor, fake_logits: Tensor, real_targets: Tensor, fake_targets: Tensor
) -> Tensor:
    """BCE on the merged batch with per-sample targets (mean over all 2B samples)."""
    logits = torch.cat([real_logits.reshape(-1), fake_logits.reshape(-1)]).float()
    targets = torch.cat([real_targets.reshape(-1), fake_targets.reshape(-1)]).float()
    return F.binary_cross_entropy_with_logits(logits, targets)


def epoch_order(train_seed: int, epoch: int, n: int) -> np.ndarray:
    """The order of the training images in one epoch (a function of seed and epoch only, so a
    resumed run draws exactly the batches it would have drawn)."""
    return np.random.default_rng([train_seed, epoch]).permutation(n)


class BlobGanStep(OptimizerPair):
    """One thesis iteration with plain autograd and torch.optim.Adam."""

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        config: BlobsConfig,
        device: torch.device,
    ):
        t = config.train
        self.generator, self.discriminator, self.t = generator, discriminator, t
        betas, eps = tuple(t.adam_betas), t.adam_eps
        self.opt_g = fused_adam(generator.parameters(), t.lr_generator, betas, eps)
        self.opt_d = fused_adam(discriminator.parameters(), t.lr_discriminator, betas, eps)
        self.device = device
        self.memory_format = (
            torch.channels_last
            if t.channels_last and device.type == "cpu"
            else torch.contiguous_format
        )

    def autocast(self):
        if self.t.precision == "bf16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def __call__(
        self, real: Tensor, z_d: Tensor, z_g: Tensor, label_u: Tensor
    ) -> tuple[Tensor, Tensor]:
        g, d, t = self.generator, self.discriminator, self.t
        n = real.shape[0]
        with self.autocast():
            with torch.no_grad():
                fake = g(z_d)
            merged = torch.cat([real.to(fake.dtype), fake]).contiguous(
                memory_format=self.memory_format
            )
            logits = d(merged)
        targets = label_u * t.label_noise
        loss_d = noisy_bce_discriminator_loss(
            logits[:n], logits[n:], t.real_label + targets[:n], t.fake_label + targets[n:]
        )
        descend(self.opt_d, loss_d)
        with frozen(d):
            with self.autocast():
                fake_logits = d(g(z_g))
            loss_g = bce_generator_loss(fake_logits.float())
            descend(self.opt_g, loss_g)
        return loss_d.detach(), loss_g.detach()


class BlobGanTask:
    """Everything one blob training run needs between steps; see core.trainer.GANTask."""

    def __init__(self, config: BlobsConfig, train_images: np.ndarray, device: torch.device):
        self.config, self.device = config, device
        s = seeds(config.seed)
        self.train_seed = s["train"]
        torch.manual_seed(s["init"])
        size = int(train_images.shape[-1])
        generator, discriminator = build_models(config, size)
        self.step_fn_format = (
            torch.channels_last
            if (config.train.channels_last and device.type == "cpu")
            else torch.contiguous_format
        )
        self.generator = generator.to(device).to(memory_format=self.step_fn_format)
        self.discriminator = discriminator.to(device).to(memory_format=self.step_fn_format)
        self.real = (
            torch.from_numpy(np.ascontiguousarray(train_images, dtype=np.float32))
            .unsqueeze(1)
            .to(device)
        )
        self.steps_per_epoch = steps_per_epoch(len(train_images), config.train.batch_size)
        self.rng = torch.Generator(device=device).manual_seed(s["train"])
        fixed = torch.Generator(device="cpu").manual_seed(s["fixed_noise"])
        self.fixed_noise = torch.randn(
            config.log.grid_count, config.model.noise_dim, generator=fixed
        ).to(device)
        self.step = BlobGanStep(self.generator, self.discriminator, config, device)
        self.count = 0
        self._order: Tensor | None = None
        self._order_epoch = -1

    def _batch(self) -> Tensor:
        epoch, k = divmod(self.count, self.steps_per_epoch)
        if epoch != self._order_epoch:
            order = epoch_order(self.train_seed, epoch, self.real.shape[0])
            self._order = torch.from_numpy(order).to(self.device)
            self._order_epoch = epoch
        b = self.config.train.batch_size
        return self.real[self._order[k * b : (k + 1) * b]]

    def train_step(self) -> dict[str, Tensor]:
        b, nz = self.config.train.batch_size, self.config.model.noise_dim
        real = self._batch()
        z = torch.randn(2, b, nz, generator=self.rng, device=self.device)
        label_u = torch.rand(2 * b, generator=self.rng, device=self.device)
        loss_d, loss_g = self.step(real, z[0], z[1], label_u)
        self.count += 1
        return {"loss_d": loss_d, "loss_g": loss_g}

    def state_dict(self) -> dict[str, Any]:
        return {
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "step": self.step.state_dict(),
            "rng": self.rng.get_state(),
            "count": self.count,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.step.load_state_dict(state["step"])
        self.rng.set_state(state["rng"])
        self.count = int(state["count"])

    @torch.no_grad()
    def write_samples(self, step: int, directory: Path) -> None:
        from scigan.blobs.storage import save_grid

        self.generator.eval()
        images = self.generator(self.fixed_noise)[:, 0].float().cpu().numpy()
        self.generator.train()
        epoch = step // self.steps_per_epoch
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        np.save(directory / f"epoch_{epoch:04d}.npy", images)
        save_grid(
            directory / f"epoch_{epoch:04d}.png", images, title=f"epoch {epoch} (step {step})"
        )


def write_gif(directory: Path, out: Path, duration_ms: int = 200) -> Path | None:
    """One animated GIF of the per-epoch grids (thesis Fig. 5), in epoch order."""
    from PIL import Image

    frames = sorted(Path(directory).glob("epoch_*.png"))
    if not frames:
        return None
    images = [Image.open(f).convert("P", palette=Image.Palette.ADAPTIVE) for f in frames]
    tmp = out.with_name(f".{out.name}.tmp.gif")
    images[0].save(tmp, save_all=True, append_images=images[1:], duration=duration_ms, loop=0)
    tmp.replace(out)
    return out


@torch.no_grad()
def generate(
    generator: Generator, n: int, seed: int, device: torch.device, batch: int = 1024
) -> np.ndarray:
    """n images (n, size, size) float32 in [0, 1] from a trained generator (eval mode)."""
    generator.eval()
    out = [
        generator(z)[:, 0].float().cpu().numpy()
        for z in noise_batches(n, generator.noise_dim, seed, device, batch)
    ]
    size = generator.image_size
    return np.concatenate(out) if out else np.zeros((0, size, size), dtype=np.float32)
