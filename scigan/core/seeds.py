"""One run seed, many independent random streams."""

from __future__ import annotations

import numpy as np


def derive_seeds(key: int | list[int], names: tuple[str, ...]) -> dict[str, int]:
    """Independent seeds named `names`, derived from `key` (the run seed, or [seed, index] for
    one of several models) by NumPy's SeedSequence, not seed + k: nearby seeds give unrelated
    streams. Each is a non-negative int64, accepted by torch and NumPy alike."""
    states = np.random.SeedSequence(key).generate_state(len(names), dtype=np.uint64)
    return {name: int(s % (2**63)) for name, s in zip(names, states, strict=True)}
