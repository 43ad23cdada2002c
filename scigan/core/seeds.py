"""One run seed, many independent random streams."""

from __future__ import annotations

import numpy as np


def derive_seeds(key: int | list[int], names: tuple[str, ...]) -> dict[str, int]:
    """Independent seeds named `names`, derived from `key` (the run seed, or [seed, index] for
    one of several models) by NumPy's SeedSequence, not seed + k: nearby seeds give unrelated
    streams. Each is a non-negative int64, accepted by torch and NumPy alike."""
    states = np.random.SeedSequence(key).generate_state(len(names), dtype=np.uint64)
    return {name: int(s % (2**63)) for name, s in zip(names, states, strict=True)}


def seed_global_generators(key: int | list[int]) -> None:
    """Seed torch's, NumPy's and Python's global generators from `key` (as in derive_seeds). Case
    studies draw from their own generators, but library code may touch the global ones and a
    checkpoint saves their states: seeded, a fresh run's states do not depend on the process
    it ran in, so a run resumed in another process ends bitwise where a straight one does."""
    import random

    import torch

    names = ("global_torch", "global_numpy", "global_python")
    torch_seed, numpy_seed, python_seed = derive_seeds(key, names).values()
    torch.manual_seed(torch_seed)
    np.random.seed(numpy_seed % 2**32)
    random.seed(python_seed)
