import torch

from scigan.dna.models import Discriminator, Generator, count_parameters, decode_argmax


def _linear_params(model):
    return [
        m.weight.numel() + m.bias.numel() for m in model.modules() if isinstance(m, torch.nn.Linear)
    ]


def test_generator_matches_thesis_table_2():
    g = Generator()
    assert _linear_params(g) == [25_856, 131_584, 123_120]
    assert count_parameters(g) == 280_560
    assert g(torch.zeros(5, 100)).shape == (5, 240)


def test_discriminator_matches_thesis_table_3():
    d = Discriminator()
    assert _linear_params(d) == [123_392, 131_328, 257]
    assert count_parameters(d) == 254_977
    assert d(torch.zeros(5, 240)).shape == (5, 1)


def test_keras_initialisation_and_slope():
    g = Generator()
    first = g.net[0]
    torch.testing.assert_close(first.bias, torch.zeros(256))
    bound = (6 / (100 + 256)) ** 0.5  # Glorot uniform
    assert first.weight.abs().max().item() <= bound
    assert g.net[1].negative_slope == 0.3


def test_softmax_head_gives_distributions_per_position():
    g = Generator(head="softmax")
    out = g(torch.randn(4, 100)).reshape(4, 60, 4)
    torch.testing.assert_close(out.sum(-1), torch.ones(4, 60))
    assert count_parameters(g) == 280_560


def test_decode_argmax():
    x = torch.tensor([[0.1, 0.9, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0]])
    assert decode_argmax(x).tolist() == [[1, 3]]
