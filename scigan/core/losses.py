"""GAN losses as small pure functions. Argument order is always (real, fake)."""

import torch
import torch.nn.functional as F
from torch import Tensor


def bce_discriminator_loss(
    real_logits: Tensor, fake_logits: Tensor, real_label: float = 1.0, fake_label: float = 0.0
) -> Tensor:
    """Binary cross-entropy of the discriminator on a merged batch of real and fake samples.

    Mean over all samples of the merged batch, as Keras's `train_on_batch` on the concatenation
    (the thesis); `real_label` < 1 is one-sided label smoothing (thesis DNA: 0.9).
    """
    logits = torch.cat([real_logits.reshape(-1), fake_logits.reshape(-1)])
    targets = torch.cat(
        [
            torch.full_like(real_logits.reshape(-1), real_label),
            torch.full_like(fake_logits.reshape(-1), fake_label),
        ]
    )
    return F.binary_cross_entropy_with_logits(logits, targets)


def bce_generator_loss(fake_logits: Tensor, target: float = 1.0) -> Tensor:
    """Non-saturating generator loss: BCE of D(G(z)) against the "real" label."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.full_like(fake_logits, target))


def wasserstein_critic_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """The critic's Wasserstein term of eq. 3.8, E[D(G(z))] - E[D(x)], over the last axis.

    Scores may carry leading axes (e.g. one per stacked model); the mean is over the last one.
    """
    return fake_scores.mean(dim=-1) - real_scores.mean(dim=-1)


def wasserstein_generator_loss(fake_scores: Tensor) -> Tensor:
    """-E[D(G(z))] over the last axis: the generator raises the critic's score of its samples."""
    return -fake_scores.mean(dim=-1)


def gradient_penalty(
    critic, real: Tensor, fake: Tensor, epsilon: Tensor, sample_dims: int
) -> Tensor:
    """WGAN-GP penalty (eq. 3.7-3.8) without its weight: E[(||grad_x D(x_hat)||_2 - 1)^2].

    x_hat = epsilon * real + (1 - epsilon) * fake; `epsilon` broadcasts against the samples
    (one U(0,1) draw per sample). `sample_dims` trailing axes form one sample (the norm is
    taken over them); the mean is over the axis before them, leading axes are kept (e.g. one
    penalty per stacked model). `critic` maps x_hat to one score per sample; since samples
    do not interact in the critic, the gradient of the summed scores is each sample's own.
    """
    x_hat = (epsilon * real + (1 - epsilon) * fake.detach()).requires_grad_(True)
    scores = critic(x_hat)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    norms = grad.flatten(start_dim=grad.dim() - sample_dims).norm(dim=-1)
    return ((norms - 1) ** 2).mean(dim=-1)
