"""Building blocks of a plain-autograd GAN step, shared by the case studies."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from scigan.core.torch_private import ops


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


def descend(
    optimizer: torch.optim.Optimizer, loss: Tensor, blocks: list[AdamBlock] | None = None
) -> None:
    """One optimizer step on `loss` (summed first if it holds one loss per stacked model),
    through `adam_step` (bitwise optimizer.step(); per block of models with `blocks`)."""
    optimizer.zero_grad(set_to_none=True)
    (loss if loss.dim() == 0 else loss.sum()).backward()
    adam_step(optimizer, blocks)


@dataclass
class AdamBlock:
    """The Adam settings of one block of a stack whose blocks train with different ones
    (a sweep's points stacked: one block per point). Block b of B is the b-th of B equal
    parts of every parameter's first axis (models are stacked block-major)."""

    lr: float
    betas: tuple[float, float]
    eps: float


def fused_adam(params, lr: float, betas: tuple[float, float], eps: float) -> torch.optim.Adam:
    """torch.optim.Adam with its fused kernel where the parameters' device has one (CPU and
    CUDA): one pass over each model's weights. On CPU torch's default Adam loops over the
    tensors op by op, ~8x slower for the blob generator's 1.85 M weights."""
    params = list(params)
    fused = {"fused": True} if params and params[0].device.type in ("cpu", "cuda") else {}
    return torch.optim.Adam(params, lr=lr, betas=tuple(betas), eps=eps, **fused)


def adam_step(optimizer: torch.optim.Optimizer, blocks: list[AdamBlock] | None = None) -> None:
    """optimizer.step() for a fused torch.optim.Adam, calling its kernel directly once every
    parameter has state: the same kernel on the same tensors, so bitwise the same update and
    the same state dict. torch.optim's per-call bookkeeping (grouping tensors by device and
    dtype, hooks, checks) costs ~0.3 ms a call, several times the kernel for a model of a few
    thousand weights updated thousands of times (the Ising critic). Anything else (another
    optimizer, options the kernel call below does not pass, state not yet created, mixed
    devices or dtypes) goes through optimizer.step().

    `blocks` (a stack of models trained with different settings): the same kernel per block
    on views of each block's rows, with the block's rate, betas and eps; every element gets
    the update it would get from its block trained alone, bitwise (tests/core/test_steps.py)."""
    if blocks is not None and len(blocks) > 1:
        _blocked_adam_step(optimizer, blocks)
        return
    calls = _direct_adam_calls(optimizer)
    if calls is None:
        optimizer.step()
        return
    private = ops()
    for group, params, states in calls:
        steps = [state["step"] for state in states]
        private.foreach_add_(steps, 1)
        grads = [p.grad for p in params]
        lr, betas, eps, decay = (group[k] for k in ("lr", "betas", "eps", "weight_decay"))
        _fused_adam_call(private, params, grads, states, steps, lr, betas, eps, decay)


def _fused_adam_call(
    private, params, grads, states, steps, lr, betas, eps, weight_decay=0.0
) -> None:
    """One call of the fused Adam kernel on `params` (tensors or views of them), their
    gradients and their states' moments, the step counts `steps` already advanced."""
    private.fused_adam_(
        params,
        grads,
        [state["exp_avg"] for state in states],
        [state["exp_avg_sq"] for state in states],
        [],
        steps,
        amsgrad=False,
        lr=lr,
        beta1=float(betas[0]),
        beta2=float(betas[1]),
        weight_decay=weight_decay,
        eps=eps,
        maximize=False,
        grad_scale=None,
        found_inf=None,
    )


def _blocked_adam_step(optimizer: torch.optim.Optimizer, blocks: list[AdamBlock]) -> None:
    if type(optimizer) is not torch.optim.Adam:
        raise TypeError(f"per-block settings need torch.optim.Adam, not {type(optimizer)}")
    private = ops()
    for group in optimizer.param_groups:
        options = [group[key] for key in _UNSUPPORTED_OPTIONS]
        if any(options) or group["weight_decay"] or group.get("decoupled_weight_decay", False):
            raise ValueError("per-block Adam supports plain Adam only (no weight decay, amsgrad)")
        params = [p for p in group["params"] if p.grad is not None]
        for p in params:
            if p not in optimizer.state or not optimizer.state[p]:
                # what torch.optim.Adam(fused=True) creates on its first step
                optimizer.state[p] = {
                    "step": torch.zeros((), dtype=torch.float32, device=p.device),
                    "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
                    "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format),
                }
        if not params:
            continue
        states = [optimizer.state[p] for p in params]
        steps = [state["step"] for state in states]
        private.foreach_add_(steps, 1)
        for b, block in enumerate(blocks):

            def rows(t: Tensor, b: int = b) -> Tensor:
                size = t.shape[0] // len(blocks)
                return t.narrow(0, b * size, size)

            grads = [rows(p.grad) for p in params]
            moments = [{k: rows(state[k]) for k in ("exp_avg", "exp_avg_sq")} for state in states]
            _fused_adam_call(
                private, [rows(p) for p in params], grads, moments, steps, block.lr, block.betas,
                block.eps,
            )  # fmt: skip


_UNSUPPORTED_OPTIONS = ("amsgrad", "maximize", "capturable", "differentiable")


def _direct_adam_calls(optimizer: torch.optim.Optimizer) -> list[tuple] | None:
    """(group, parameters with gradients, their states) per param group, or None where
    adam_step must leave the update to optimizer.step()."""
    if type(optimizer) is not torch.optim.Adam:
        return None
    calls = []
    for group in optimizer.param_groups:
        options = [group[key] for key in _UNSUPPORTED_OPTIONS]
        if not group["fused"] or any(options) or group.get("decoupled_weight_decay", False):
            return None
        params = [p for p in group["params"] if p.grad is not None]
        states = [optimizer.state.get(p) for p in params]
        if not params or not all(states) or len({(p.device, p.dtype) for p in params}) > 1:
            return None
        calls.append((group, params, states))
    return calls


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
