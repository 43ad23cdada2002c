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
