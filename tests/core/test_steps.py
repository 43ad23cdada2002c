import pytest
import torch
from torch import nn

from scigan.core.steps import descend, frozen


def test_frozen_lets_gradients_through_but_not_into_weights():
    layer, x = nn.Linear(2, 1), torch.ones(1, 2, requires_grad=True)
    with frozen(layer):
        layer(x).sum().backward()
    assert layer.weight.grad is None
    torch.testing.assert_close(x.grad, layer.weight.detach())
    assert layer.weight.requires_grad


def test_frozen_restores_requires_grad_on_error():
    layer = nn.Linear(2, 1)
    with pytest.raises(RuntimeError), frozen(layer):
        raise RuntimeError("boom")
    assert all(p.requires_grad for p in layer.parameters())


def test_descend_sums_stacked_losses_and_steps():
    w = nn.Parameter(torch.tensor([1.0, 2.0]))
    descend(torch.optim.SGD([w], lr=0.5), w * 2.0)  # d(sum 2w)/dw = 2 -> w - 1
    torch.testing.assert_close(w.detach(), torch.tensor([0.0, 1.0]))
