"""Building blocks of a plain-autograd GAN step, shared by the case studies."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import Tensor, nn


def descend(optimizer: torch.optim.Optimizer, loss: Tensor) -> None:
    """One optimizer step on `loss` (summed first if it holds one loss per stacked model)."""
    optimizer.zero_grad(set_to_none=True)
    (loss if loss.dim() == 0 else loss.sum()).backward()
    optimizer.step()


@contextmanager
def frozen(module: nn.Module) -> Iterator[nn.Module]:
    """Gradients flow through `module` but its weights get none (the generator step's D)."""
    module.requires_grad_(False)
    try:
        yield module
    finally:
        module.requires_grad_(True)
