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
