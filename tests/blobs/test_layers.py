"""The blob generator's CPU layers against the stock convolutions they stand for."""

import pytest
import torch


def test_one_channel_conv_is_conv2d():
    from scigan.blobs.layers import OneChannelConv2d, _OneChannelSameConv

    torch.manual_seed(0)
    conv = OneChannelConv2d(6, 5).double()
    x = torch.randn(2, 6, 7, 9, dtype=torch.double, requires_grad=True)
    ref = torch.nn.functional.conv2d(x, conv.weight, conv.bias, padding=2)
    torch.testing.assert_close(_OneChannelSameConv.apply(x, conv.weight, conv.bias), ref)
    assert torch.autograd.gradcheck(_OneChannelSameConv.apply, (x, conv.weight, conv.bias))
    conv = conv.float()
    x = torch.randn(3, 6, 8, 8).contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(
        conv(x), torch.nn.functional.conv2d(x, conv.weight, conv.bias, padding=2)
    )


@pytest.mark.parametrize("kernel,padding", [(4, 1), (2, 0), (6, 2)])
def test_stride2_transposed_conv_is_conv_transpose2d(kernel, padding):
    from scigan.blobs.layers import Stride2ConvTranspose2d, _Stride2TransposedConv

    torch.manual_seed(0)
    layer = Stride2ConvTranspose2d(3, 5, kernel, padding).double()
    x = torch.randn(2, 3, 4, 6, dtype=torch.double, requires_grad=True)
    ref = torch.nn.functional.conv_transpose2d(
        x, layer.weight, layer.bias, stride=2, padding=padding
    )
    out = _Stride2TransposedConv.apply(x, layer.weight, layer.bias, padding, None)
    assert out.shape == (2, 5, 8, 12)
    torch.testing.assert_close(out, ref)
    assert torch.autograd.gradcheck(
        lambda *a: _Stride2TransposedConv.apply(*a, padding, None), (x, layer.weight, layer.bias)
    )
    # the float layer (channels_last as in training) against the stock layer's gradients
    stock = torch.nn.ConvTranspose2d(3, 5, kernel, stride=2, padding=padding)
    stock.load_state_dict(layer.float().state_dict())
    x = torch.randn(4, 3, 5, 5).contiguous(memory_format=torch.channels_last)
    grad = torch.randn(4, 5, 10, 10)
    grads = [
        torch.autograd.grad(m(x.requires_grad_()), [x, m.weight, m.bias], grad)
        for m in (layer, stock)
    ]
    for ours, theirs in zip(*grads, strict=True):
        torch.testing.assert_close(ours, theirs)


@pytest.mark.parametrize("channels_last", [True, False])
@pytest.mark.parametrize("kernel,padding", [(4, 1), (2, 0)])
def test_stride2_transposed_conv_with_fused_leaky_relu(kernel, padding, channels_last):
    from scigan.blobs.layers import Stride2ConvTranspose2d, _fused_leaky_available

    assert _fused_leaky_available()  # the pinned CPU build has it: the fast path is tested
    torch.manual_seed(0)
    layer = Stride2ConvTranspose2d(3, 5, kernel, padding)
    stock = torch.nn.ConvTranspose2d(3, 5, kernel, stride=2, padding=padding)
    stock.load_state_dict(layer.state_dict())
    x = torch.randn(4, 3, 5, 5)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    grad = torch.randn(4, 5, 10, 10)
    x_ours, x_stock = x.clone().requires_grad_(), x.clone().requires_grad_()
    ours = layer(x_ours, leaky_slope=0.2)
    theirs = torch.nn.functional.leaky_relu(stock(x_stock), 0.2)
    torch.testing.assert_close(ours, theirs)
    got = torch.autograd.grad(ours, [x_ours, layer.weight, layer.bias], grad)
    want = torch.autograd.grad(theirs, [x_stock, stock.weight, stock.bias], grad)
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, w)
    # the fallback (stock layer, separate activation) computes the same
    layer.fast = False
    torch.testing.assert_close(layer(x, leaky_slope=0.2), theirs)


def test_stride2_transposed_conv_refuses_other_shapes():
    from scigan.blobs.layers import Stride2ConvTranspose2d

    with pytest.raises(ValueError, match="kernel_size == 2 \\* padding \\+ 2"):
        Stride2ConvTranspose2d(3, 5, 4, padding=0)
