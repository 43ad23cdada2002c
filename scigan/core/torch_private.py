"""Every private torch API scigan calls, in one place, each beside a public-API fallback.

The fused engines call a few of torch's private entry points: the fused Adam kernel without
torch.optim's per-call bookkeeping, aten's backward kernels writing into preallocated buffers,
oneDNN's transposed convolution with a fused LeakyReLU. They are not part of torch's stable
API and may change or vanish in any release; that is why pyproject.toml pins torch exactly and
tests/core/test_torch_private.py checks every one against its fallback (and the pin).

`ops(private)` returns the table of operations, each with the private op's call signature:
private=None takes each private op where the installed torch has it and its fallback where
not; False forces every fallback (tests); True requires every private op.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor


class Ops(NamedTuple):
    """The operations, named after the private ops they stand for (signatures likewise)."""

    fused_adam_: Callable  # torch._fused_adam_
    foreach_add_: Callable  # torch._foreach_add_
    leaky_relu_: Callable  # torch._C._nn.leaky_relu_
    softplus: Callable  # torch._C._nn.softplus
    leaky_relu_backward: Callable  # torch.ops.aten.leaky_relu_backward
    leaky_relu_backward_out: Callable  # torch.ops.aten.leaky_relu_backward.grad_input
    softmax_backward_out: Callable  # torch.ops.aten._softmax_backward_data.out
    conv_transpose2d_pointwise: Callable  # torch.ops.mkldnn._convolution_transpose_pointwise


def _private_op(name: str) -> Callable | None:
    """The private op behind field `name` of Ops, or None where this torch lacks it."""
    try:
        if name == "fused_adam_":
            return torch._fused_adam_
        if name == "foreach_add_":
            return torch._foreach_add_
        if name == "leaky_relu_":
            return torch._C._nn.leaky_relu_
        if name == "softplus":
            return torch._C._nn.softplus
        if name == "leaky_relu_backward":
            return torch.ops.aten.leaky_relu_backward.default
        if name == "leaky_relu_backward_out":
            return torch.ops.aten.leaky_relu_backward.grad_input
        if name == "softmax_backward_out":
            return torch.ops.aten._softmax_backward_data.out
        if name == "conv_transpose2d_pointwise":
            if not torch.backends.mkldnn.is_available():
                return None
            return torch.ops.mkldnn._convolution_transpose_pointwise
    except (AttributeError, RuntimeError):
        return None
    raise KeyError(f"no private op {name!r}; known: {', '.join(Ops._fields)}")


# ---------------------------------------------------------------- public-API fallbacks


def _fused_adam_(
    params: list[Tensor],
    grads: list[Tensor],
    exp_avgs: list[Tensor],
    exp_avg_sqs: list[Tensor],
    max_exp_avg_sqs: list[Tensor],
    state_steps: list[Tensor],
    *,
    lr: float,
    beta1: float,
    beta2: float,
    weight_decay: float,
    eps: float,
    amsgrad: bool,
    maximize: bool,
    grad_scale: Tensor | None = None,
    found_inf: Tensor | None = None,
) -> None:
    """Adam (Kingma & Ba, torch.optim.Adam's documented update) in place, the steps already
    counted in state_steps, with tensor methods op by op."""
    if amsgrad or grad_scale is not None or found_inf is not None:
        raise NotImplementedError("the Adam fallback has no amsgrad, grad_scale or found_inf")
    for param, grad, exp_avg, exp_avg_sq, step in zip(
        params, grads, exp_avgs, exp_avg_sqs, state_steps, strict=True
    ):
        g = -grad if maximize else grad
        if weight_decay:
            g = g.add(param, alpha=weight_decay)
        exp_avg.lerp_(g, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(g, g, value=1 - beta2)
        n = float(step)
        step_size = lr / (1 - beta1**n)
        denom = (exp_avg_sq.sqrt() / math.sqrt(1 - beta2**n)).add_(eps)
        param.addcdiv_(exp_avg, denom, value=-step_size)


def _foreach_add_(tensors: list[Tensor], scalar) -> None:
    for t in tensors:
        t.add_(scalar)


def _softplus(x: Tensor, beta=1, threshold=20, *, out: Tensor | None = None) -> Tensor:
    y = F.softplus(x, beta, threshold)
    return y if out is None else out.copy_(y)


def _leaky_relu_backward(
    grad_output: Tensor, x: Tensor, negative_slope: float, self_is_result: bool
) -> Tensor:
    """d leaky_relu: the gradient where x > 0, slope times it elsewhere (x may be the result
    when the slope is positive: the same sign)."""
    return torch.where(x > 0, grad_output, grad_output * negative_slope)


def _leaky_relu_backward_out(
    grad_output: Tensor,
    x: Tensor,
    negative_slope: float,
    self_is_result: bool,
    *,
    grad_input: Tensor,
) -> Tensor:
    # computed apart first: grad_input may be grad_output itself
    return grad_input.copy_(_leaky_relu_backward(grad_output, x, negative_slope, self_is_result))


def _softmax_backward_out(
    grad_output: Tensor, output: Tensor, dim: int, input_dtype: torch.dtype, *, grad_input: Tensor
) -> Tensor:
    """d softmax: y * (g - sum(g * y)) along dim, for the softmax output y."""
    inner = (grad_output * output).sum(dim, keepdim=True)
    return torch.mul(output, grad_output - inner, out=grad_input)


def _conv_transpose2d_pointwise(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    padding: list[int],
    output_padding: list[int],
    stride: list[int],
    dilation: list[int],
    groups: int,
    attr: str,
    scalars: list,
    algorithm: str,
) -> Tensor:
    """F.conv_transpose2d, then the pointwise op `attr` ("none" or "leaky_relu")."""
    y = F.conv_transpose2d(x, weight, bias, stride, padding, output_padding, groups, dilation)
    if attr == "leaky_relu":
        return F.leaky_relu(y, scalars[0])
    if attr == "none":
        return y
    raise NotImplementedError(f"the conv_transpose2d fallback has no pointwise op {attr!r}")


FALLBACKS = Ops(
    fused_adam_=_fused_adam_,
    foreach_add_=_foreach_add_,
    leaky_relu_=F.leaky_relu_,  # in torch 2.13 the very builtin torch._C._nn.leaky_relu_
    softplus=_softplus,
    leaky_relu_backward=_leaky_relu_backward,
    leaky_relu_backward_out=_leaky_relu_backward_out,
    softmax_backward_out=_softmax_backward_out,
    conv_transpose2d_pointwise=_conv_transpose2d_pointwise,
)


def private_ops_available(*names: str) -> bool:
    """Whether the installed torch has the named private ops (fields of Ops; none: all)."""
    return all(_private_op(name) is not None for name in names or Ops._fields)


@functools.cache
def ops(private: bool | None = None) -> Ops:
    """The operations: private ops where available (None), all private (True; an error where
    one is missing) or all public fallbacks (False)."""
    chosen = {}
    for name in Ops._fields:
        op = None if private is False else _private_op(name)
        if op is None and private:
            raise RuntimeError(
                f"torch {torch.__version__} has no private op for {name}; scigan's private ops "
                "are checked against the torch pinned in pyproject.toml"
            )
        chosen[name] = op if op is not None else getattr(FALLBACKS, name)
    return Ops(**chosen)
