"""Building blocks of a plain-autograd GAN step, shared by the case studies."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import Tensor, nn


class OptimizerPair:
    """Checkpoint state of a step that keeps its two optimizers as `opt_g` and `opt_d`:
    {"opt_g", "opt_d"}, each a torch.optim state dict (the format every engine writes)."""

    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer

    def state_dict(self) -> dict[str, Any]:
        return {"opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])


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


@torch.no_grad()
def update_average(average: nn.Module, model: nn.Module, decay: float) -> None:
    """Exponential moving average of weights, in place: a <- decay * a + (1 - decay) * w.

    An average of the generator's recent weights damps the oscillation of adversarial
    training and is the generator one samples from (Yazici et al., ICLR 2019). Elementwise, so
    stacked independent models stay independent."""
    for a, w in zip(average.parameters(), model.parameters(), strict=True):
        a.lerp_(w, 1.0 - decay)


def linear_decay(step: int, total: int, start: int = 0) -> float:
    """Learning-rate factor of step `step` (0-based) of `total`: 1 up to step `start`, then
    falling linearly to 1/(total - start) at the last step (never 0: the last update still
    moves). Constant-then-linear is the usual GAN schedule (e.g. CycleGAN's)."""
    if step < start:
        return 1.0
    span = total - start
    return 1.0 - min(step - start, span - 1) / span
