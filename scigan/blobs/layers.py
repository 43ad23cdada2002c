"""Two of the blob generator's layers with faster CPU fp32 formulations (same parameters,
state_dict and function as nn.Conv2d / nn.ConvTranspose2d, which they run as elsewhere): a
one-output-channel "same" convolution as matrix products, and a stride-2 transposed
convolution with polyphase weight gradients and oneDNN's fused LeakyReLU."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from scigan.core.torch_private import ops, private_ops_available


class _OneChannelSameConv(torch.autograd.Function):
    """A 'same' k x k convolution to ONE output channel as matrix products.

    Forward: the k*k "tap" maps T = Z W (pixels x channels @ channels x k*k, one GEMM), then
    out(p) = sum over taps t of T_t(p + offset_t) (k*k shifted adds). Backward: the k*k shifted
    copies of the output gradient (unfold), then one GEMM each for the input and weight
    gradients. Same math as conv2d; oneDNN's direct kernel is ~2x slower for one output channel.
    """

    @staticmethod
    def forward(ctx, z: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
        b, c, h, w = z.shape
        k = weight.shape[-1]
        p = k // 2
        zf = z.permute(0, 2, 3, 1).reshape(-1, c)
        wm = weight[0].reshape(c, k * k)
        taps = F.pad((zf @ wm).view(b, h, w, k * k), (0, 0, p, p, p, p))
        out = taps[:, 0:h, 0:w, 0].clone()
        for i in range(k):
            for j in range(k):
                if i or j:
                    out += taps[:, i : i + h, j : j + w, i * k + j]
        ctx.save_for_backward(zf, wm)
        ctx.shape = (b, c, h, w, k)
        return (out + bias).unsqueeze(1)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        zf, wm = ctx.saved_tensors
        b, c, h, w, k = ctx.shape
        shifted = F.unfold(grad.contiguous(), k, padding=k // 2)  # grad(p + offset)
        g = shifted.flip(1).transpose(1, 2).reshape(-1, k * k)  # grad(p - offset)
        grad_z = (g @ wm.t()).view(b, h, w, c).permute(0, 3, 1, 2)
        grad_w = (zf.t() @ g).reshape(1, c, k, k)
        return grad_z, grad_w, grad.sum().reshape(1)


def _fast_cpu_fp32(enabled: bool, x: Tensor, weight: Tensor) -> bool:
    """Whether a layer may use its CPU fp32 formulation (no autocast, no other device/dtype)."""
    return (
        enabled
        and x.device.type == "cpu"
        and x.dtype == torch.float32
        and weight.dtype == torch.float32
        and not torch.is_autocast_enabled("cpu")
    )


class OneChannelConv2d(nn.Conv2d):
    """nn.Conv2d(c, 1, k, padding=k // 2) (odd k); on CPU in fp32 it runs as matrix products
    (_OneChannelSameConv), elsewhere as the plain convolution. Parameters are those of Conv2d."""

    def __init__(self, in_channels: int, kernel_size: int):
        if kernel_size % 2 == 0:
            raise ValueError("OneChannelConv2d needs an odd kernel size")
        super().__init__(in_channels, 1, kernel_size, padding=kernel_size // 2)
        self.fast = True  # False: always the stock convolution (for benchmarks)

    def forward(self, x: Tensor) -> Tensor:
        if _fast_cpu_fp32(self.fast, x, self.weight):
            return _OneChannelSameConv.apply(x, self.weight, self.bias)
        return super().forward(x)


def _parity_taps(kernel: int, padding: int, parity: int) -> list[tuple[int, int]]:
    """(input offset, kernel index) pairs that reach the outputs o = 2m + parity of a stride-2
    transposed convolution: o = 2i - padding + k, so i = m + (parity + padding - k) / 2."""
    return [
        ((parity + padding - k) // 2, k) for k in range(kernel) if (parity + padding - k) % 2 == 0
    ]


def _stride2_transposed_weight_grad(x: Tensor, grad: Tensor, kernel: int, padding: int) -> Tensor:
    """Weight gradient of a stride-2 transposed convolution (k = 2 padding + 2, output 2H x 2W),
    as four GEMMs, one per output parity class ("polyphase"): the outputs o = (2m + a, 2n + b)
    see the input only through (k/2)^2 taps at fixed offsets, so
    dW[:, :, taps] = cols_abᵀ grad_ab with cols_ab the inputs at those offsets side by side."""
    b, c_in, h, w = x.shape
    c_out = grad.shape[1]
    q = kernel // 2  # taps per dimension and parity; input offsets lie within [-q, q]
    xp = F.pad(x.permute(0, 2, 3, 1), (0, 0, q, q, q, q))  # NHWC, padded by q
    g = grad.permute(0, 2, 3, 1)
    weight_grad = x.new_empty(c_in, c_out, kernel, kernel)
    cols = x.new_empty(b, h, w, q * q * c_in)
    grad_ab = x.new_empty(b, h, w, c_out)
    for a in (0, 1):
        for c in (0, 1):
            taps = [
                (di, dj, ki, kj)
                for di, ki in _parity_taps(kernel, padding, a)
                for dj, kj in _parity_taps(kernel, padding, c)
            ]
            for t, (di, dj, _, _) in enumerate(taps):
                cols[..., t * c_in : (t + 1) * c_in] = xp[
                    :, q + di : q + di + h, q + dj : q + dj + w
                ]
            grad_ab.copy_(g[:, a::2, c::2])
            block = cols.view(-1, q * q * c_in).t() @ grad_ab.view(-1, c_out)
            for t, (_, _, ki, kj) in enumerate(taps):
                weight_grad[:, :, ki, kj] = block[t * c_in : (t + 1) * c_in]
    return weight_grad


def _fused_leaky_available() -> bool:
    """Whether oneDNN's transposed convolution with a fused LeakyReLU is in this torch build."""
    return private_ops_available("conv_transpose2d_pointwise")


class _Stride2TransposedConv(torch.autograd.Function):
    """conv_transpose2d(x, W, b, stride=2, padding=p) with k = 2p + 2 (output exactly 2H x 2W),
    optionally followed by LeakyReLU(slope) (slope > 0).

    Forward and the input gradient are oneDNN's own kernels (the input gradient is the strided
    convolution of the output gradient, a forward conv2d); the weight gradient is four GEMMs
    (`_stride2_transposed_weight_grad`). oneDNN computes the weight gradient of the thesis's
    128 -> 256 layer at ~85 GFLOP/s, and both gradients in one call slower than apart; the GEMMs
    run at ~130 (2 CPU cores). With a slope, oneDNN applies the LeakyReLU while each output
    block is still in cache (a post-op), which removes a separate pass over the (64, 256, 32, 32)
    map (a 67 MB read and write). Its backward needs only the output's sign (slope > 0), so the
    output is kept instead of the pre-activation.
    """

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, bias: Tensor, padding: int, slope: float | None):
        ctx.padding, ctx.slope = padding, slope
        if slope is None:
            ctx.save_for_backward(x, weight)
            return F.conv_transpose2d(x, weight, bias, stride=2, padding=padding)
        out = ops().conv_transpose2d_pointwise(
            x, weight, bias, [padding] * 2, [0, 0], [2, 2], [1, 1], 1, "leaky_relu", [slope], ""
        )
        ctx.save_for_backward(x, weight, out)
        return out

    @staticmethod
    def backward(ctx, grad: Tensor):
        x, weight, *out = ctx.saved_tensors
        p, k = ctx.padding, weight.shape[-1]
        if out:
            grad = ops().leaky_relu_backward(grad, out[0], ctx.slope, True)
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = F.conv2d(grad, weight, stride=2, padding=p)
        if ctx.needs_input_grad[1]:
            grad_w = _stride2_transposed_weight_grad(x, grad, k, p)
        if ctx.needs_input_grad[2]:
            grad_b = grad.sum((0, 2, 3))
        return grad_x, grad_w, grad_b, None, None


class Stride2ConvTranspose2d(nn.ConvTranspose2d):
    """nn.ConvTranspose2d(c_in, c_out, 2 p + 2, stride=2, padding=p); on CPU in fp32 it runs as
    `_Stride2TransposedConv`, elsewhere it is the plain layer. Parameters and state_dict are
    those of ConvTranspose2d."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, padding: int):
        if kernel_size != 2 * padding + 2:
            raise ValueError("Stride2ConvTranspose2d needs kernel_size == 2 * padding + 2")
        super().__init__(in_channels, out_channels, kernel_size, stride=2, padding=padding)
        self.fast = True  # False: always the stock layer (for benchmarks)

    def forward(
        self, x: Tensor, output_size: list[int] | None = None, leaky_slope: float | None = None
    ) -> Tensor:
        """The layer, followed by leaky_relu(., leaky_slope) if one is given: fused into
        oneDNN's kernel where the fast path runs (the same values, max(y, slope y))."""
        if output_size is None and _fast_cpu_fp32(self.fast, x, self.weight):
            fuse = leaky_slope is not None and leaky_slope > 0 and _fused_leaky_available()
            out = _Stride2TransposedConv.apply(
                x, self.weight, self.bias, self.padding[0], leaky_slope if fuse else None
            )
            if fuse:
                return out
        else:
            out = super().forward(x, output_size)
        return out if leaky_slope is None else F.leaky_relu(out, leaky_slope)
