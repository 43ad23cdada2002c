"""The reference engine (train.engine autograd): the WGAN-GP step through autograd."""

from __future__ import annotations

import torch
from torch import Tensor

from scigan.core.losses import (
    gradient_penalty,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)
from scigan.core.steps import AdamBlock, OptimizerPair, descend, frozen, fused_adam
from scigan.ising.augmentation import fold_sign
from scigan.ising.config import IsingGanConfig
from scigan.ising.critic import StackedCritic
from scigan.ising.generators import Generator


def gp_weights(members: list[IsingGanConfig], models: int) -> float | list[float]:
    """The gradient-penalty weight: one number, or one per model where a stack's members
    (block-major, models // len(members) each) differ."""
    weights = [m.train.gp_weight for m in members]
    if len(set(weights)) == 1:
        return weights[0]
    per = models // len(members)
    return [w for w in weights for _ in range(per)]


def adam_blocks(members: list[IsingGanConfig], rate: str) -> list[AdamBlock] | None:
    """Per-member Adam settings of a stack (`rate`: lr_generator or lr_critic); None for one
    member. A stack updates member by member even where the settings agree: the kernel's
    vectorised loop and its scalar tail round differently, so a member's weights must be
    one call's whole tensor, as they are when the member trains alone."""
    if len(members) == 1:
        return None
    return [
        AdamBlock(getattr(m.train, rate), tuple(m.train.adam_betas), m.train.adam_eps)
        for m in members
    ]


def scale(
    weight: float | list[float], values: Tensor, times: float = 1.0, over: float = 1.0
) -> Tensor:
    """weight * times / over * values for values (K, ...), the coefficient in double as
    Python computes it; a per-model weight list multiplies model k's values by float32 of
    weight[k] * times / over: the same number as the scalar gives, so bitwise the same."""
    if isinstance(weight, float | int):
        return (weight * times / over) * values
    w = torch.tensor([v * times / over for v in weight], dtype=values.dtype, device=values.device)
    return w.reshape(-1, *([1] * (values.dim() - 1))) * values


class WganGpStep(OptimizerPair):
    """One WGAN-GP step of K stacked GANs: critic_steps critic updates, one generator update.

    `members`: the configs of a stack of points (a sweep), models block-major, one block per
    member; they may differ in the rates, Adam betas and eps and the penalty weight only."""

    def __init__(
        self,
        generator: Generator,
        critic: StackedCritic,
        cfg: IsingGanConfig,
        members: list[IsingGanConfig] | None = None,
    ):
        t = cfg.train
        members = members or [cfg]
        self.generator, self.critic = generator, critic
        self.critic_steps = t.critic_steps
        self.gp_weight = gp_weights(members, critic.models)
        self.sign_fold = cfg.model.sign_fold
        betas, eps = tuple(t.adam_betas), t.adam_eps
        self.opt_g = fused_adam(generator.parameters(), t.lr_generator, betas, eps)
        self.opt_d = fused_adam(critic.parameters(), t.lr_critic, betas, eps)
        self.blocks_g = adam_blocks(members, "lr_generator")
        self.blocks_d = adam_blocks(members, "lr_critic")

    def fold(self, lattices: Tensor) -> Tensor:
        """What the critic sees of any lattice, real or generated: folded to m >= 0 with
        model.sign_fold, as it is otherwise."""
        return fold_sign(lattices) if self.sign_fold else lattices

    def __call__(
        self, real: Tensor, z: Tensor, epsilon: Tensor, t_real: Tensor | None = None
    ) -> dict[str, Tensor]:
        """real (K, draws, B, L, L) with draws 1 or critic_steps; z (K, (critic_steps+1) B, nz);
        epsilon (K, critic_steps, B); t_real (K, draws, B) temperatures for conditional models.
        Returns per-model losses (K,): the last critic update's terms and the generator's."""
        G, D, n = self.generator, self.critic, self.critic_steps
        B = real.shape[2]
        draws = real.shape[1]
        with torch.no_grad():
            t_fake = None if t_real is None else t_real[:, torch.arange(n) % draws].flatten(1, 2)
            fakes = self.fold(G(z[:, : n * B], t_fake))
        for j in range(n):
            x = real[:, j % draws]
            tj = None if t_real is None else t_real[:, j % draws]
            fake = fakes[:, j * B : (j + 1) * B]
            scores = D(torch.cat([x, fake], dim=1), None if tj is None else torch.cat([tj, tj], 1))
            wasserstein = wasserstein_critic_loss(scores[:, :B], scores[:, B:])
            penalty = scale(
                self.gp_weight,
                gradient_penalty(
                    lambda h, tj=tj: D(h, tj), x, fake, epsilon[:, j, :, None, None], sample_dims=2
                ),
            )
            total = wasserstein + penalty
            descend(self.opt_d, total, self.blocks_d)
        with frozen(D):
            tg = None if t_real is None else t_real[:, 0]
            loss_g = wasserstein_generator_loss(D(self.fold(G(z[:, n * B :], tg)), tg))
            descend(self.opt_g, loss_g, self.blocks_g)
        return {
            "critic_wasserstein": wasserstein.detach(),
            "critic_gp": penalty.detach(),
            "critic_total": total.detach(),
            "generator": loss_g.detach(),
        }
