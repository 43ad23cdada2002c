import pytest
import torch

from scigan.blobs.models import Discriminator, Generator, count_parameters, layer_shapes


def _weighted(model):
    kinds = (torch.nn.Linear, torch.nn.Conv2d, torch.nn.ConvTranspose2d)
    return [m for m in model.modules() if isinstance(m, kinds)]


def test_generator_matches_thesis_table_4():
    g = Generator()
    assert [count_parameters(m) for m in _weighted(g)] == [1_056_768, 262_272, 524_544, 6_401]
    assert count_parameters(g) == 1_849_985
    shapes = layer_shapes(g, torch.zeros(3, 128))
    assert [s[2] for s in shapes] == [(3, 8192), (3, 128, 16, 16), (3, 256, 32, 32), (3, 1, 32, 32)]
    out = g(torch.randn(3, 128))
    assert out.shape == (3, 1, 32, 32)
    assert out.min() > 0 and out.max() < 1  # sigmoid


def test_discriminator_matches_thesis_table_5():
    d = Discriminator()
    assert [count_parameters(m) for m in _weighted(d)] == [544, 32_832, 131_200, 2_049]
    assert count_parameters(d) == 166_625
    shapes = layer_shapes(d, torch.zeros(3, 1, 32, 32))
    assert [s[2] for s in shapes] == [(3, 32, 16, 16), (3, 64, 8, 8), (3, 128, 4, 4), (3, 1)]
    assert isinstance(d.net[7], torch.nn.Dropout) and d.net[7].p == 0.2


def test_keras_initialisation_and_slope():
    g = Generator()
    conv = g.net[2]  # ConvTranspose 128 -> 256, k4
    torch.testing.assert_close(conv.bias, torch.zeros(256))
    bound = (6 / (16 * 128 + 16 * 256)) ** 0.5  # Glorot uniform: fans include the kernel area
    assert conv.weight.abs().max().item() <= bound
    assert conv.weight.abs().max().item() > 0.99 * bound
    assert g.net[1].negative_slope == 0.2


@pytest.mark.parametrize("size", [16, 24, 64])
def test_other_square_sizes(size):
    g, d = Generator(image_size=size), Discriminator(image_size=size)
    x = g(torch.randn(2, 128))
    assert x.shape == (2, 1, size, size)
    assert d(x).shape == (2, 1)


def test_one_channel_conv_is_conv2d():
    from scigan.blobs.models import OneChannelConv2d, _OneChannelSameConv

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
    from scigan.blobs.models import Stride2ConvTranspose2d, _Stride2TransposedConv

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
    from scigan.blobs.models import Stride2ConvTranspose2d, _fused_leaky_available

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
    from scigan.blobs.models import Stride2ConvTranspose2d

    with pytest.raises(ValueError, match="kernel_size == 2 \\* padding \\+ 2"):
        Stride2ConvTranspose2d(3, 5, 4, padding=0)
