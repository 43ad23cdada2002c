"""The reference engine (train.engine autograd): plain autograd and torch.optim.Adam."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from scigan.core.losses import (
    bce_discriminator_loss,
    bce_generator_loss,
    gradient_penalty,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)
from scigan.core.steps import OptimizerPair, descend, frozen


def adam_pair(generator, discriminator, lr_g, lr_d, betas, eps) -> tuple:
    """The two networks' torch.optim.Adam optimizers (the autograd engine's steps)."""
    opt_g = torch.optim.Adam(generator.parameters(), lr=lr_g, betas=betas, eps=eps)
    return opt_g, torch.optim.Adam(discriminator.parameters(), lr=lr_d, betas=betas, eps=eps)


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
        self.opt_g, self.opt_d = adam_pair(generator, discriminator, lr_g, lr_d, betas, eps)

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


class WganGpDnaStep(OptimizerPair):
    """WGAN-GP (train.loss wgan_gp; not the thesis): critic_steps critic updates on
    E[D(fake)] - E[D(real)] + gp_weight * penalty, then one generator update on -E[D(fake)].
    The discriminator's output is the critic's score."""

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        lr_g: float,
        lr_d: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-7,
        critic_steps: int = 5,
        gp_weight: float = 10.0,
    ):
        self.generator, self.discriminator = generator, discriminator
        self.critic_steps, self.gp_weight = critic_steps, gp_weight
        self.opt_g, self.opt_d = adam_pair(generator, discriminator, lr_g, lr_d, betas, eps)

    def __call__(self, real: Tensor, z: Tensor, epsilon: Tensor) -> tuple[Tensor, Tensor]:
        """real (n, b, window*4) one batch per critic update; z (n + 1, b, noise_dim); epsilon
        (n, b, 1) the interpolation weights. Returns the last critic loss and the generator's."""
        g, d, n = self.generator, self.discriminator, self.critic_steps
        b = real.shape[1]
        with torch.no_grad():
            fakes = g(z[:n].flatten(0, 1)).unflatten(0, (n, b))

        def score(x: Tensor) -> Tensor:
            return d(x).squeeze(-1)

        for j in range(n):
            scores = score(torch.cat([real[j], fakes[j]]))
            penalty = gradient_penalty(score, real[j], fakes[j], epsilon[j], sample_dims=1)
            loss_d = wasserstein_critic_loss(scores[:b], scores[b:]) + self.gp_weight * penalty
            descend(self.opt_d, loss_d)
        with frozen(d):
            loss_g = wasserstein_generator_loss(score(g(z[n])))
            descend(self.opt_g, loss_g)
        return loss_d.detach(), loss_g.detach()
