"""The thesis DNA GAN (§4.1.2, Tables 2-3): two small multilayer perceptrons.

Keras defaults are kept where the thesis relied on them: LeakyReLU slope 0.3, Glorot-uniform
weights, zero biases. The discriminator returns logits; its sigmoid (Table 3) is applied inside
the binary cross-entropy, which is the same function computed more stably.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

NUCLEOTIDES = 4


def _mlp(sizes: list[int], slope: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layer = nn.Linear(n_in, n_out)
        nn.init.xavier_uniform_(layer.weight)
        nn.init.zeros_(layer.bias)
        layers.append(layer)
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(slope))
    return nn.Sequential(*layers)


class SoftmaxHead(nn.Module):
    """Per-position softmax over the four nucleotide channels (an option; the thesis is linear)."""

    def forward(self, x: Tensor) -> Tensor:
        return torch.softmax(x.unflatten(-1, (-1, NUCLEOTIDES)), dim=-1).flatten(-2)


class Generator(nn.Module):
    """z (noise_dim) -> Dense 256 -> LReLU -> Dense 512 -> LReLU -> Dense window*4 [-> head]."""

    def __init__(
        self,
        window: int = 60,
        noise_dim: int = 100,
        hidden: tuple[int, ...] = (256, 512),
        slope: float = 0.3,
        head: str = "linear",
    ):
        super().__init__()
        if head not in ("linear", "softmax"):
            raise ValueError(f"unknown generator head {head!r}: use linear or softmax")
        self.window, self.noise_dim, self.head = window, noise_dim, head
        self.net = _mlp([noise_dim, *hidden, window * NUCLEOTIDES], slope)
        self.output = SoftmaxHead() if head == "softmax" else nn.Identity()

    def forward(self, z: Tensor) -> Tensor:
        return self.output(self.net(z))


class Discriminator(nn.Module):
    """window*4 -> Dense 512 -> LReLU -> Dense 256 -> LReLU -> Dense 1 (logit)."""

    def __init__(self, window: int = 60, hidden: tuple[int, ...] = (512, 256), slope: float = 0.3):
        super().__init__()
        self.net = _mlp([window * NUCLEOTIDES, *hidden, 1], slope)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


def decode_argmax(x: Tensor) -> Tensor:
    """Generator output (n, window*4) -> nucleotide codes (n, window) by argmax per position."""
    return x.unflatten(-1, (-1, NUCLEOTIDES)).argmax(dim=-1).to(torch.uint8)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
