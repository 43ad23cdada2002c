"""Drawing a trained generator's samples, shared by the case studies."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor


def noise_batches(
    n: int, noise_dim: int, seed: int, device: torch.device, batch: int
) -> Iterator[Tensor]:
    """Standard normal noise for n samples, in batches of at most `batch` rows, drawn on the CPU
    from one generator seeded by `seed` (the same numbers whatever the device), then moved."""
    rng = torch.Generator(device="cpu").manual_seed(seed)
    for start in range(0, n, batch):
        yield torch.randn(min(batch, n - start), noise_dim, generator=rng).to(device)
