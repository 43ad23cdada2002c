"""torch's private ops against their public-API fallbacks, and the torch pin they rely on."""

import re
import tomllib
from pathlib import Path

import pytest
import torch

from scigan.core.torch_private import FALLBACKS, Ops, ops, private_ops_available

PRIVATE, PUBLIC = ops(private=True), ops(private=False)


def _pinned_torch() -> str:
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    pins = [d for d in pyproject["project"]["dependencies"] if re.match(r"torch\s*==", d)]
    assert len(pins) == 1, f"pyproject.toml should pin torch exactly once, found {pins}"
    return pins[0].split("==", 1)[1].strip()


def test_installed_torch_is_the_pinned_one():
    pinned, installed = _pinned_torch(), torch.__version__.split("+", 1)[0]
    assert installed == pinned, (
        f"installed torch {installed} is not the pinned {pinned}: the private ops in "
        f"scigan/core/torch_private.py are checked against the pin; reinstall with "
        f"pip install torch=={pinned}"
    )


def test_every_private_op_exists_in_the_pinned_torch():
    assert private_ops_available()
    assert PUBLIC == FALLBACKS
    assert ops() == PRIVATE


def test_an_unknown_op_is_an_error():
    with pytest.raises(KeyError, match="no private op"):
        private_ops_available("nonexistent")
    assert set(Ops._fields) >= {"fused_adam_", "conv_transpose2d_pointwise"}


def _adam_state(seed: int, n: int = 3):
    g = torch.Generator().manual_seed(seed)
    shapes = [(7, 5), (33,), (4, 2, 3)][:n]
    params = [torch.randn(s, generator=g) for s in shapes]
    grads = [torch.randn(s, generator=g) for s in shapes]
    m = [0.1 * torch.randn(s, generator=g) for s in shapes]
    v = [0.1 * torch.rand(s, generator=g) for s in shapes]
    steps = [torch.tensor(3.0) for _ in shapes]
    return params, grads, m, v, steps


@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
@pytest.mark.parametrize("maximize", [False, True])
def test_fused_adam_fallback(weight_decay, maximize):
    results = []
    for kernels in (PRIVATE, PUBLIC):
        params, grads, m, v, steps = _adam_state(0)
        kernels.foreach_add_(steps, 1)
        for _ in range(2):  # two updates: the moments carried over are the kernel's own
            kernels.fused_adam_(
                params, grads, m, v, [], steps, lr=1e-2, beta1=0.9, beta2=0.999,
                weight_decay=weight_decay, eps=1e-7, amsgrad=False, maximize=maximize,
            )  # fmt: skip
            kernels.foreach_add_(steps, 1)
        results.append((params, m, v, steps))
    torch.testing.assert_close(results[1], results[0])


def test_fused_adam_fallback_matches_torch_optim_adam():
    params, grads, m, v, steps = _adam_state(1, n=2)
    reference = [p.clone().requires_grad_() for p in params]
    opt = torch.optim.Adam(reference, lr=1e-3, betas=(0.5, 0.99), eps=1e-8)
    for _ in range(3):
        for p, g in zip(reference, grads, strict=True):
            p.grad = g.clone()
        opt.step()
    m, v = [torch.zeros_like(p) for p in params], [torch.zeros_like(p) for p in params]
    steps = [torch.tensor(0.0) for _ in params]
    for _ in range(3):
        PUBLIC.foreach_add_(steps, 1)
        PUBLIC.fused_adam_(
            params, grads, m, v, [], steps, lr=1e-3, beta1=0.5, beta2=0.99,
            weight_decay=0.0, eps=1e-8, amsgrad=False, maximize=False,
        )  # fmt: skip
    torch.testing.assert_close(params, [p.detach() for p in reference])


def test_leaky_relu_and_softplus_fallbacks():
    x = torch.randn(64, 33, generator=torch.Generator().manual_seed(2)) * 30
    for slope in (0.0, 0.3):
        a, b = x.clone(), x.clone()
        PRIVATE.leaky_relu_(a, slope)
        PUBLIC.leaky_relu_(b, slope)
        torch.testing.assert_close(b, a)
    out_a, out_b = torch.empty_like(x), torch.empty_like(x)
    PRIVATE.softplus(x, 1, 20, out=out_a)
    PUBLIC.softplus(x, 1, 20, out=out_b)
    torch.testing.assert_close(out_b, out_a)


@pytest.mark.parametrize("slope", [0.0, 0.2])
def test_leaky_relu_backward_fallbacks(slope):
    g = torch.Generator().manual_seed(3)
    result = torch.nn.functional.leaky_relu(torch.randn(32, 17, generator=g), slope)
    grad = torch.randn(32, 17, generator=g)
    expected = PRIVATE.leaky_relu_backward(grad, result, slope, True)
    torch.testing.assert_close(PUBLIC.leaky_relu_backward(grad, result, slope, True), expected)
    for kernels in (PRIVATE, PUBLIC):  # in place, as the fused DNA step calls it
        buffer = grad.clone()
        kernels.leaky_relu_backward_out(buffer, result, slope, True, grad_input=buffer)
        torch.testing.assert_close(buffer, expected)


def test_softmax_backward_fallback():
    g = torch.Generator().manual_seed(4)
    logits = torch.randn(15, 4, 8, generator=g, requires_grad=True)
    output = torch.softmax(logits, 1)
    grad = torch.randn(15, 4, 8, generator=g)
    (autograd,) = torch.autograd.grad(output, logits, grad)
    for kernels in (PRIVATE, PUBLIC):
        out = torch.empty(15, 4, 8)
        kernels.softmax_backward_out(grad, output.detach(), 1, torch.float32, grad_input=out)
        torch.testing.assert_close(out, autograd)


@pytest.mark.parametrize("padding", [1, 2])
def test_conv_transpose_pointwise_fallback(padding):
    g = torch.Generator().manual_seed(5)
    x = torch.randn(3, 6, 5, 5, generator=g)
    weight = torch.randn(6, 4, 2 * padding + 2, 2 * padding + 2, generator=g) * 0.2
    bias = torch.randn(4, generator=g)
    for attr, scalars in (("leaky_relu", [0.2]), ("none", [])):
        args = (x, weight, bias, [padding] * 2, [0, 0], [2, 2], [1, 1], 1, attr, scalars, "")
        private = PRIVATE.conv_transpose2d_pointwise(*args)
        torch.testing.assert_close(
            PUBLIC.conv_transpose2d_pointwise(*args), private, atol=1e-5, rtol=1e-5
        )
