"""What every Monte Carlo engine shares (the numba ones in mc.py, the torch one in torch_mc.py):
the L x L torus's neighbours and colouring, and the Boltzmann factor with its T = 0 rule."""

from __future__ import annotations

import numpy as np


def lattice_colouring(L: int) -> np.ndarray:
    """Proper colouring of the L x L torus: no two nearest neighbours share a colour.

    Even L: the checkerboard (i + j) mod 2. Odd L: (a_i + a_j) mod 3 where a walks round the
    cycle Z_L in steps of 1 or 2 (mod 3) that add up to 0 mod 3, so consecutive entries differ
    also across the boundary. For L divisible by 3 this is (i + j) mod 3.
    """
    if L < 2:
        raise ValueError("L must be >= 2")
    index = np.arange(L)
    if L % 2 == 0:
        return ((index[:, None] + index[None, :]) % 2).astype(np.int8)
    steps = np.ones(L, dtype=np.int64)
    steps[: (-L) % 3] = 2  # makes sum(steps) = 0 mod 3, closing the cycle
    walk = np.concatenate([[0], np.cumsum(steps[:-1])]) % 3
    return ((walk[:, None] + walk[None, :]) % 3).astype(np.int8)


def neighbour_table(L: int) -> np.ndarray:
    """(L*L, 4) flat indices of right, left, down, up neighbours on the torus."""
    i, j = np.divmod(np.arange(L * L), L)
    return np.stack(
        [i * L + (j + 1) % L, i * L + (j - 1) % L, ((i + 1) % L) * L + j, ((i - 1) % L) * L + j],
        axis=1,
    ).astype(np.int32)


def sites_by_colour(colouring: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flat site indices sorted by colour, and offsets: colour c is order[off[c]:off[c+1]]."""
    flat = colouring.reshape(-1)
    order = np.argsort(flat, kind="stable").astype(np.int32)
    offsets = np.searchsorted(flat[order], np.arange(int(flat.max()) + 2)).astype(np.int64)
    return order, offsets


def boltzmann_factor(temperatures, delta: float) -> np.ndarray:
    """exp(-delta/T) with the T = 0 rule (0 for delta > 0)."""
    t = np.asarray(temperatures, dtype=np.float64)
    out = np.zeros_like(t)
    out[t > 0] = np.exp(-delta / t[t > 0])
    return out
