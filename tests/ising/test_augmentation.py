"""Lattice symmetries: augmentations keep the physics, the sign fold flips to m >= 0."""

import numpy as np
import torch

from scigan.ising.augmentation import augment_lattices, symmetry_permutations
from scigan.montecarlo import observables


def test_symmetries_are_permutations_that_keep_the_physics():
    L = 5
    perms = symmetry_permutations(L, ["translate", "dihedral"])
    assert perms.shape == (8 * L * L, L * L)
    assert torch.equal(perms.sort(dim=1).values, torch.arange(L * L).expand_as(perms))
    assert len({tuple(p.tolist()) for p in perms}) == 8 * L * L  # all distinct
    assert torch.equal(perms[0], torch.arange(L * L))
    rng = torch.Generator().manual_seed(0)
    x = torch.randint(0, 2, (64, L, L), generator=rng).float() * 2 - 1
    choice = torch.randint(0, len(perms), (64,), generator=rng)
    flip = torch.randint(0, 2, (64,), generator=rng).float() * 2 - 1
    y = augment_lattices(x, choice, perms, flip)
    np.testing.assert_array_equal(
        observables.energy_per_spin(y.numpy()), observables.energy_per_spin(x.numpy())
    )
    np.testing.assert_array_equal(
        observables.magnetization_per_spin(y.numpy()),
        flip.numpy() * observables.magnetization_per_spin(x.numpy()),
    )
    assert not torch.equal(y, x)


def test_fold_sign_flips_lattices_to_nonnegative_magnetization():
    from scigan.ising.augmentation import fold_sign

    x = torch.tensor(
        [[[1.0, -1.0], [-1.0, -1.0]], [[1.0, 1.0], [-1.0, 1.0]], [[0.5, -0.5], [0, 0]]]
    )
    expected = torch.tensor(
        [[[-1.0, 1.0], [1.0, 1.0]], [[1.0, 1.0], [-1.0, 1.0]], [[0.5, -0.5], [0, 0]]]
    )
    torch.testing.assert_close(fold_sign(x), expected)  # sum 0 (the last) is left as it is
    x = torch.randn(3, 5, 4, 4, requires_grad=True)
    folded = fold_sign(x)
    folded.sum().backward()  # the gradient is each lattice's sign
    signs = torch.where(x.detach().sum(dim=(-2, -1)) >= 0, 1.0, -1.0)
    torch.testing.assert_close(x.grad, signs[..., None, None].expand(3, 5, 4, 4))
