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


def test_wasserstein_terms_follow_eq_3_8():
    from scigan.core.losses import wasserstein_critic_loss, wasserstein_generator_loss

    real, fake = torch.tensor([[1.0, 3.0], [0.0, 0.0]]), torch.tensor([[0.5, 0.5], [2.0, 4.0]])
    torch.testing.assert_close(wasserstein_critic_loss(real, fake), torch.tensor([-1.5, 3.0]))
    torch.testing.assert_close(wasserstein_generator_loss(fake), torch.tensor([-0.5, -3.0]))


def test_gradient_penalty_of_a_linear_critic_is_known_analytically():
    # D(x) = <w, x>: grad = w everywhere, so the penalty is (||w|| - 1)^2 whatever epsilon is.
    from scigan.core.losses import gradient_penalty

    w = torch.tensor([[2.0, 0.0], [0.0, 2.0]])  # ||w|| = 2*sqrt(2)
    critic = lambda x: (x * w).sum(dim=(-2, -1))  # noqa: E731
    real, fake = torch.randn(5, 2, 2), torch.randn(5, 2, 2)
    eps = torch.rand(5, 1, 1)
    got = gradient_penalty(critic, real, fake, eps, sample_dims=2)
    torch.testing.assert_close(got, torch.tensor((2 * math.sqrt(2) - 1) ** 2))


def test_gradient_penalty_interpolates_real_and_fake_per_sample():
    # D(x) = ||x||^2 / 2: grad = x_hat, so the penalty is mean (||x_hat|| - 1)^2, by hand.
    from scigan.core.losses import gradient_penalty

    critic = lambda x: 0.5 * (x**2).sum(dim=-1)  # noqa: E731
    real = torch.tensor([[[3.0, 0.0], [0.0, 2.0]]])  # one model, two samples of 2 values
    fake = torch.tensor([[[1.0, 0.0], [0.0, 0.0]]])
    eps = torch.tensor([[[0.5], [0.25]]])
    # x_hat = (2, 0) and (0, 0.5): norms 2 and 0.5 -> ((2-1)^2 + (0.5-1)^2) / 2 = 0.625
    got = gradient_penalty(critic, real, fake, eps, sample_dims=1)
    torch.testing.assert_close(got, torch.tensor([0.625]))
    # the penalty is differentiable for the critic's parameters (double backpropagation)
    scale = torch.tensor(2.0, requires_grad=True)
    gp = gradient_penalty(lambda x: scale * critic(x), real, fake, eps, sample_dims=1)
    (d_scale,) = torch.autograd.grad(gp.sum(), scale)
    # d/ds mean (s ||x|| - 1)^2 = mean 2 (s ||x|| - 1) ||x|| = (2*3*2 + 2*0*0.5) / 2 = 6
    torch.testing.assert_close(d_scale, torch.tensor(6.0))
