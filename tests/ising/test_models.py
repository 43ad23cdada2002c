"""The thesis's Ising models (Tables 6-7), stacked, against per-model torch layers."""

import numpy as np
import pytest
import torch

from scigan.ising.critic import StackedCritic, global_pool, lattice_features
from scigan.ising.generators import (
    StackedConvGenerator,
    StackedGenerator,
    StackedMlpGenerator,
    spin_output,
)
from scigan.ising.models import TC, neighbour_table, parameters_per_model
from scigan.ising.task import to_spins


def _init(*modules, K):
    gens = [torch.Generator().manual_seed(10 + k) for k in range(K)]
    for m in modules:
        m.reset_parameters(gens)
        with torch.no_grad():  # non-zero biases, so that the tests see them
            for p in m.parameters():
                p.add_(0.05 * torch.randn(p.shape, generator=gens[0]))


@pytest.mark.parametrize("K", [1, 3])
def test_parameter_counts_are_tables_6_and_7(K):
    assert parameters_per_model(StackedGenerator(K)) == 1_338_625
    assert parameters_per_model(StackedCritic(K)) == 7_241


def test_conditional_parameter_counts():
    nz, hidden = 128, 64
    extra_g = (1 * hidden + hidden) + (hidden * 2 * nz + 2 * nz)  # the T -> gain/shift MLP
    extra_c = 64 * 9  # the T plane's conv weights
    assert parameters_per_model(StackedGenerator(1, conditional=True)) == 1_338_625 + extra_g
    assert parameters_per_model(StackedCritic(1, conditional=True)) == 7_241 + extra_c


@pytest.mark.parametrize("padding", ["zeros", "circular"])
@pytest.mark.parametrize("conditional", [False, True])
def test_stacked_models_equal_the_layers_of_the_tables(padding, conditional):
    K, L = 3, 9
    g = StackedGenerator(K, L, padding=padding, conditional=conditional)
    d = StackedCritic(K, L, padding=padding, conditional=conditional)
    _init(g, d, K=K)
    z, t = torch.randn(K, 6, 128), 4 * torch.rand(K, 6)
    fake = g(z, t)
    assert fake.shape == (K, 6, L, L)
    torch.testing.assert_close(fake, g.reference_forward(z, t), atol=2e-5, rtol=1e-4)
    x = torch.randn(K, 6, L, L)
    torch.testing.assert_close(d(x, t), d.reference_forward(x, t), atol=2e-5, rtol=1e-4)


def test_stacked_models_do_not_interact():
    g, d = StackedGenerator(2, 5), StackedCritic(2, 5)
    _init(g, d, K=2)
    z, x = torch.randn(2, 4, 128), torch.randn(2, 4, 5, 5)
    before = g(z)[0].clone(), d(x)[0].clone()
    with torch.no_grad():
        for p in list(g.parameters()) + list(d.parameters()):
            p[1].add_(1.0)  # change model 1 only
    torch.testing.assert_close(g(z)[0], before[0], rtol=0, atol=0)
    torch.testing.assert_close(d(x)[0], before[1], rtol=0, atol=0)


def test_conditional_models_need_and_use_the_temperature():
    g, d = StackedGenerator(1, 9, conditional=True), StackedCritic(1, 9, conditional=True)
    _init(g, d, K=1)
    z = torch.randn(1, 4, 128)
    with pytest.raises(ValueError):
        g(z)
    with pytest.raises(ValueError):
        d(torch.zeros(1, 4, 9, 9))
    between = torch.full((1, 4), 2.05)  # between grid points 2.0 and 2.1
    assert g(z, between).shape == (1, 4, 9, 9)
    assert not torch.equal(g(z, between), g(z, torch.full((1, 4), 3.0)))
    x = torch.zeros(1, 4, 9, 9)
    assert not torch.equal(d(x, between), d(x, torch.full((1, 4), 3.0)))


def test_neighbour_table_zero_padding_and_periodic():
    zeros, periodic = neighbour_table(3, 3, "zeros"), neighbour_table(3, 3, "circular")
    # offset (-1, -1) of site (0, 0) leaves the lattice: the zero site 9; periodic: site (2, 2)
    assert zeros[0, 0] == 9 and periodic[0, 0] == 8
    assert zeros[4].tolist() == list(range(9)) == periodic[4].tolist()  # the centre tap
    assert sorted(periodic[:, 4].tolist()) == list(range(9))  # the middle site sees all


def test_spin_rule_is_sign_with_zero_up():
    x = torch.tensor([-0.7, -1e-8, 0.0, 1e-8, 0.9])
    assert to_spins(x).tolist() == [-1, -1, 1, 1, 1]
    assert to_spins(x).dtype == torch.int8


# Beyond the thesis: the mlp generator, mean/meanmax critic pools, straight-through spins.


@pytest.mark.parametrize("conditional", [False, True])
def test_mlp_generator_equals_its_layers_and_counts(conditional):
    K, L, nz = 3, 9, 128
    g = StackedMlpGenerator(K, L, nz, hidden=(32, 16), conditional=conditional)
    _init(g, K=K)
    extra = 1 if conditional else 0
    assert parameters_per_model(g) == (
        (nz + extra) * 32 + 32 + (32 + extra) * 16 + 16 + (16 + extra) * L * L + L * L
    )
    z, t = torch.randn(K, 6, nz), 4 * torch.rand(K, 6)
    fake = g(z, t)
    assert fake.shape == (K, 6, L, L)
    torch.testing.assert_close(fake, g.reference_forward(z, t), atol=2e-5, rtol=1e-4)
    if conditional:
        with pytest.raises(ValueError):
            g(z)
        assert not torch.equal(g(z, torch.full((K, 6), 2.05)), g(z, torch.full((K, 6), 3.0)))


def test_mlp_generators_do_not_interact():
    g = StackedMlpGenerator(2, 5, 8, hidden=(16,))
    _init(g, K=2)
    z = torch.randn(2, 4, 8)
    before = g(z)[0].clone()
    with torch.no_grad():
        for p in g.parameters():
            p[1].add_(1.0)
    torch.testing.assert_close(g(z)[0], before, rtol=0, atol=0)


@pytest.mark.parametrize("pool", ["mean", "meanmax"])
@pytest.mark.parametrize("conditional", [False, True])
def test_critic_pools_equal_the_layers(pool, conditional):
    K, L = 3, 9
    d = StackedCritic(K, L, padding="circular", conditional=conditional, pool=pool)
    _init(d, K=K)
    extra = 64 * 9 if conditional else 0
    assert parameters_per_model(d) == 7_241 + extra + (64 * 100 if pool == "meanmax" else 0)
    x, t = torch.randn(K, 6, L, L), 4 * torch.rand(K, 6)
    torch.testing.assert_close(d(x, t), d.reference_forward(x, t), atol=2e-5, rtol=1e-4)


def test_global_pool_on_known_features():
    h = torch.tensor([[[1.0, -2.0], [3.0, 0.0], [-1.0, 4.0]]])  # (1 sample, 3 sites, 2 features)
    torch.testing.assert_close(global_pool(h, "max", 1), torch.tensor([[3.0, 4.0]]))
    torch.testing.assert_close(global_pool(h, "mean", 1), torch.tensor([[1.0, 2.0 / 3]]))
    torch.testing.assert_close(
        global_pool(h, "meanmax", 1), torch.tensor([[1.0, 2.0 / 3, 3.0, 4.0]])
    )
    with pytest.raises(ValueError):
        StackedCritic(1, pool="sum")


def test_straight_through_outputs_spins_with_the_tanh_gradient():
    x = torch.tensor([-0.7, -1e-3, 0.0, 0.4, 2.0], requires_grad=True)
    y = spin_output(x, "tanh", straight_through=True)
    assert y.tolist() == [-1.0, -1.0, 1.0, 1.0, 1.0]
    y.sum().backward()
    torch.testing.assert_close(x.grad, 1 - torch.tanh(x.detach()) ** 2)
    plain = spin_output(x.detach(), "tanh", straight_through=False)
    torch.testing.assert_close(plain, torch.tanh(x.detach()))
    g = StackedMlpGenerator(1, 4, 8, hidden=(8,), straight_through=True)
    _init(g, K=1)
    assert set(g(torch.randn(1, 20, 8)).unique().tolist()) <= {-1.0, 1.0}


def test_lattice_features_are_the_observables():
    from scigan.montecarlo import observables

    rng = np.random.default_rng(3)
    spins = rng.choice(np.array([-1, 1], dtype=np.int8), size=(2, 5, 9, 9))
    features = lattice_features(torch.from_numpy(spins).float(), torch.full((2, 5), TC + 0.5))
    torch.testing.assert_close(
        features[..., 0].double(), torch.from_numpy(observables.energy_per_spin(spins))
    )
    m = torch.from_numpy(observables.magnetization_per_spin(spins))
    torch.testing.assert_close(features[..., 1].double(), m)
    torch.testing.assert_close(features[..., 2].double(), m.abs())
    torch.testing.assert_close(features[..., 3], torch.full((2, 5), 0.5))
    assert lattice_features(torch.ones(1, 9, 9)).tolist() == [[-2.0, 1.0, 1.0]]


@pytest.mark.parametrize("conditional", [False, True])
def test_critic_with_physics_features_equals_its_layers(conditional):
    K, L = 2, 9
    d = StackedCritic(K, L, conditional=conditional, pool="meanmax", physics_features=True)
    _init(d, K=K)
    base = StackedCritic(K, L, conditional=conditional, pool="meanmax")
    assert parameters_per_model(d) - parameters_per_model(base) == (4 if conditional else 3) * 100
    x, t = torch.randn(K, 6, L, L), 4 * torch.rand(K, 6)
    torch.testing.assert_close(d(x, t), d.reference_forward(x, t), atol=2e-5, rtol=1e-4)


@pytest.mark.parametrize("padding", ["zeros", "circular"])
@pytest.mark.parametrize("conditional", [False, True])
def test_conv_generator_equals_its_layers_and_counts(padding, conditional):
    K, L, nz = 3, 9, 16
    g = StackedConvGenerator(K, L, nz, (8, 6), padding=padding, conditional=conditional)
    _init(g, K=K)
    extra = 1 if conditional else 0
    dense = (nz + extra) * L * L * 8 + L * L * 8
    convs = (8 + extra) * 6 * 9 + 6 + (6 + extra) * 1 * 9 + 1
    assert parameters_per_model(g) == dense + convs
    z, t = torch.randn(K, 5, nz), 4 * torch.rand(K, 5)
    fake = g(z, t)
    assert fake.shape == (K, 5, L, L)
    torch.testing.assert_close(fake, g.reference_forward(z, t), atol=2e-5, rtol=1e-4)
    with torch.no_grad():  # models stay independent: changing model 1 leaves model 0 alone
        for p in g.parameters():
            p.view(K, -1)[1].add_(1.0)
    torch.testing.assert_close(g(z, t)[0], fake[0], rtol=0, atol=0)
