"""The reference engine (train.engine autograd): plain autograd and torch.optim.Adam."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from scigan.core.losses import bce_discriminator_loss, bce_generator_loss
from scigan.core.steps import OptimizerPair, descend, frozen


class AutogradDnaGanStep(OptimizerPair):
    """The reference step: plain autograd and torch.optim.Adam (the "autograd" engine)."""

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        lr_g: float,
        lr_d: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-7,
        real_label: float = 0.9,
        fake_label: float = 0.0,
    ):
        self.generator, self.discriminator = generator, discriminator
        self.real_label, self.fake_label = real_label, fake_label
        self.opt_g = torch.optim.Adam(generator.parameters(), lr=lr_g, betas=betas, eps=eps)
        self.opt_d = torch.optim.Adam(discriminator.parameters(), lr=lr_d, betas=betas, eps=eps)

    def __call__(self, real: Tensor, z_d: Tensor, z_g: Tensor) -> tuple[Tensor, Tensor]:
        g, d = self.generator, self.discriminator
        with torch.no_grad():
            fake = g(z_d)
        logits = d(torch.cat([real, fake]))
        n = real.shape[0]
        loss_d = bce_discriminator_loss(logits[:n], logits[n:], self.real_label, self.fake_label)
        descend(self.opt_d, loss_d)
        with frozen(d):
            loss_g = bce_generator_loss(d(g(z_g)))
            descend(self.opt_g, loss_g)
        return loss_d.detach(), loss_g.detach()
