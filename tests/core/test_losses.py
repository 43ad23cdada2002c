import math

import torch

from scigan.core.losses import bce_discriminator_loss, bce_generator_loss


def _bce(p: float, y: float) -> float:
    return -(y * math.log(p) + (1 - y) * math.log(1 - p))


def test_discriminator_loss_is_the_mean_over_the_merged_batch():
    real, fake = torch.tensor([[0.0], [2.0]]), torch.tensor([[-1.0]])
    sig = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    expected = (_bce(sig(0.0), 0.9) + _bce(sig(2.0), 0.9) + _bce(sig(-1.0), 0.0)) / 3
    got = bce_discriminator_loss(real, fake, real_label=0.9, fake_label=0.0)
    torch.testing.assert_close(got, torch.tensor(expected))


def test_generator_loss_targets_the_real_label():
    fake = torch.tensor([[0.0], [1.0]])
    expected = (math.log(2) + math.log(1 + math.exp(-1.0))) / 2
    torch.testing.assert_close(bce_generator_loss(fake), torch.tensor(expected))
