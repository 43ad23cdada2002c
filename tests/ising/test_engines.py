"""The engines: the fused engine's hand-written backward passes against autograd, and both
engines' training steps."""

import pytest
import torch

from scigan.core.errors import ConfigError
from scigan.core.losses import gradient_penalty, wasserstein_critic_loss
from scigan.ising.critic import StackedCritic
from scigan.ising.engines import fused as fs
from scigan.ising.generators import StackedGenerator
from tests.ising.helpers import gan_task


@pytest.mark.parametrize("padding", ["zeros", "circular"])
@pytest.mark.parametrize("conditional", [False, True])
def test_critic_gradients_equal_autograd(padding, conditional):
    K, B, L = 2, 8, 9
    torch.manual_seed(0)
    d = StackedCritic(K, L, padding=padding, conditional=conditional)
    d.reset_parameters([torch.Generator().manual_seed(k) for k in range(K)])
    with torch.no_grad():
        for p in d.parameters():
            p.add_(0.1 * torch.randn_like(p))
    real = torch.randn(K, B, L, L).sign()
    fake = torch.randn(K, B, L, L).tanh()
    eps = torch.rand(K, B, 1, 1)
    t = 4 * torch.rand(K, B) if conditional else None
    tt = None if t is None else torch.cat([t, t], dim=1)
    params = list(d.parameters())

    scores = d(torch.cat([real, fake], 1), tt)
    wass = wasserstein_critic_loss(scores[:, :B], scores[:, B:])
    gp = 10.0 * gradient_penalty(lambda x: d(x, t), real, fake, eps, sample_dims=2)
    expected = torch.autograd.grad((wass + gp).sum(), params, allow_unused=True)
    expected = [
        torch.zeros_like(p) if g is None else g for g, p in zip(expected, params, strict=True)
    ]

    with torch.no_grad():
        x_hat = eps * real + (1 - eps) * fake
        t3 = None if t is None else t.repeat(1, 3)
        record = fs.critic_forward(d, torch.cat([real, fake, x_hat], 1), t3)
        torch.testing.assert_close(record.scores[:, : 2 * B], scores)
        weights = torch.cat(
            [torch.full((K, B), -1 / B), torch.full((K, B), 1 / B), torch.zeros(K, B)], 1
        )
        grads = fs.score_gradients(d, record, weights)
        penalty, gp_grads = fs.penalty_gradients(d, record, slice(2 * B, 3 * B), 10.0)
    torch.testing.assert_close(penalty, gp)
    for got_w, got_gp, want in zip(grads, gp_grads, expected, strict=True):
        torch.testing.assert_close(got_w + got_gp, want, atol=1e-5, rtol=1e-4)


def test_input_gradient_equals_autograd():
    K, L = 2, 9
    d = StackedCritic(K, L)
    d.reset_parameters([torch.Generator().manual_seed(k) for k in range(K)])
    g = StackedGenerator(K, L)
    g.reset_parameters([torch.Generator().manual_seed(5 + k) for k in range(K)])
    x = g(torch.randn(K, 6, 128)).detach().requires_grad_(True)
    (expected,) = torch.autograd.grad(d(x).sum(), x)
    with torch.no_grad():
        got = fs.input_gradient(d, fs.critic_forward(d, x))
    torch.testing.assert_close(got.reshape(expected.shape), expected, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("padding", ["zeros", "circular"])
def test_inverse_neighbours_undoes_the_neighbour_table(padding):
    L = 5
    g = StackedGenerator(1, L, padding=padding)
    table = g.neighbours
    inverse = fs.inverse_neighbours(table)
    P = L * L
    for o in range(table.shape[0]):
        for q in range(P):
            preimages = (table[o] == q).nonzero().flatten().tolist()
            assert preimages == ([] if inverse[o, q] == P else [inverse[o, q].item()])
    # circular padding: every offset is a permutation of the sites
    if padding == "circular":
        assert (inverse < P).all()


@pytest.mark.parametrize("padding", ["zeros", "circular"])
@pytest.mark.parametrize("output", ["tanh", "linear"])
def test_generator_gradients_equal_autograd(padding, output):
    K, N, L = 2, 6, 5
    g = StackedGenerator(K, L, noise_dim=7, channels=3, padding=padding, output=output)
    g.reset_parameters([torch.Generator().manual_seed(k) for k in range(K)])
    with torch.no_grad():
        for p in g.parameters():
            p.add_(0.1 * torch.randn_like(p))
    z = torch.randn(K, N, 7)
    upstream = torch.randn(K, N, L, L)
    params = list(g.parameters())
    expected = torch.autograd.grad((g(z) * upstream).sum(), params)
    with torch.no_grad():
        A, b = g.affine_map()
        pre = torch.baddbmm(b, z, A)
        grad_pre = fs.output_backward(g, pre, upstream.reshape(K, N, L * L))
        got = fs.generator_gradients(g, z, grad_pre, fs.inverse_neighbours(g.neighbours))
    for got_p, want, p in zip(got, expected, params, strict=True):
        assert got_p.shape == p.shape
        torch.testing.assert_close(got_p, want, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("conditional", [False, True])
def test_the_fused_engines_generator_pass_is_the_generators_forward(conditional):
    K, N, L = 2, 6, 5
    g = StackedGenerator(K, L, noise_dim=7, channels=3, conditional=conditional)
    g.reset_parameters([torch.Generator().manual_seed(k) for k in range(K)])
    z = torch.randn(K, N, 7)
    t = 4 * torch.rand(K, N) if conditional else None
    with torch.no_grad():
        A, b = g.affine_map()
        assert torch.equal(fs.from_affine(g, A, b, z, t), g(z, t))
        pre = torch.baddbmm(b, g.modulate(z, t), A)
        assert torch.equal(fs.activate(g, pre), g(z, t))


@pytest.mark.parametrize(
    "extra",
    [
        (),
        (
            "model.conditional=true",
            "model.padding=circular",
            "train.same_real_batch=false",
            "data.augment=[flip]",
        ),
        ("model.sign_fold=true",),
        ("model.straight_through=true", "model.padding=circular"),
        ("model.output=linear",),
    ],
)
def test_fused_engine_trains_like_autograd(small_ising, extra):
    # adam_eps = 1 keeps Adam from magnifying rounding-level gradient differences to +-lr
    a, b = gan_task(small_ising, "autograd", *extra), gan_task(small_ising, "fused", *extra)
    for _ in range(2):
        la, lb = a.train_step(), b.train_step()
    for key in la:
        torch.testing.assert_close(la[key], lb[key], atol=1e-5, rtol=1e-4)
    for part in ("generator", "critic"):
        sa, sb = getattr(a, part).state_dict(), getattr(b, part).state_dict()
        for key in sa:
            torch.testing.assert_close(sa[key], sb[key], atol=1e-6, rtol=1e-5)


def test_fused_engine_refuses_models_it_cannot_differentiate(small_ising):
    with pytest.raises(ConfigError, match="train.engine=autograd"):
        gan_task(small_ising, "fused", "model.critic_pool=mean")
    with pytest.raises(ConfigError, match="train.engine=autograd"):
        gan_task(small_ising, "fused", "model.generator=mlp")
