"""The run seed's streams and the seeding of the global generators."""

from __future__ import annotations

import random

import numpy as np
import torch

from scigan.core.seeds import derive_seeds, seed_global_generators


def _draw() -> tuple[list[float], list[float], float]:
    return torch.rand(3).tolist(), np.random.random_sample(3).tolist(), random.random()


def test_derived_seeds_are_reproducible_named_and_unrelated_for_nearby_keys():
    a = derive_seeds(7, ("init", "train"))
    assert a == derive_seeds(7, ("init", "train"))
    assert list(a) == ["init", "train"] and a["init"] != a["train"]
    assert set(a.values()).isdisjoint(derive_seeds(8, ("init", "train")).values())
    assert all(0 <= s < 2**63 for s in a.values())


def test_seeding_the_global_generators_fixes_all_three_whatever_came_before():
    torch.rand(5), np.random.random_sample(5), random.random()  # some earlier use
    seed_global_generators([3, 0])
    first = _draw()
    seed_global_generators([3, 0])
    assert _draw() == first
    seed_global_generators([3, 1])  # another unit of the same run: other streams
    second = _draw()
    assert all(x != y for x, y in zip(first, second, strict=True))
