"""Lattice symmetries: the augmentations of the training lattices (translations, the dihedral
group, global spin flips) and the fold to magnetization >= 0 (model.sign_fold)."""

from __future__ import annotations

import torch
from torch import Tensor


def symmetry_permutations(L: int, augment: list[str]) -> Tensor:
    """Site permutations (P, L*L) of the chosen lattice symmetries (translations and/or the
    8 rotations/reflections); row 0 is the identity. Global spin flip is a sign, not a
    permutation, and is drawn separately."""
    sites = torch.arange(L * L).reshape(L, L)
    dihedral = [sites]
    if "dihedral" in augment:
        dihedral = []
        for k in range(4):
            rotated = torch.rot90(sites, k, dims=(0, 1))
            dihedral += [rotated, rotated.transpose(0, 1)]
    shifts = [(0, 0)]
    if "translate" in augment:
        shifts = [(a, b) for a in range(L) for b in range(L)]
    perms = [torch.roll(d, s, dims=(0, 1)).reshape(-1) for d in dihedral for s in shifts]
    return torch.stack(perms)


def fold_sign(x: Tensor) -> Tensor:
    """Each lattice of x (..., L, L) flipped to magnetization >= 0 (sum 0: unchanged). The
    Hamiltonian is symmetric under a global flip, so folding loses nothing; gradients flow
    through x times its lattice's sign."""
    return x * lattice_signs(x)


def lattice_signs(x: Tensor) -> Tensor:
    """(..., 1, 1): +1 for each lattice of x (..., L, L) whose sum is >= 0, else -1."""
    return torch.where(x.sum(dim=(-2, -1), keepdim=True) >= 0, 1.0, -1.0).to(x.dtype)


def augment_lattices(
    x: Tensor, perm_choice: Tensor | None, perms: Tensor | None, flip: Tensor | None
) -> Tensor:
    """Apply per-sample symmetry operations: x (..., L, L); perm_choice/flip (...)."""
    shape = x.shape
    if perm_choice is not None:
        flat = x.reshape(*shape[:-2], -1)
        x = torch.gather(flat, -1, perms[perm_choice]).reshape(shape)
    if flip is not None:
        x = x * flip[..., None, None]
    return x
