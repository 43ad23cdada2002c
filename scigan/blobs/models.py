"""The thesis blob DCGAN (§4.2.2, Tables 4-5).

Keras's "same" padding for a 4x4 kernel at stride 2 on an even size pads one pixel on each side,
which is PyTorch's padding=1 for both the convolution (32 -> 16 -> 8 -> 4) and the transposed
convolution (8 -> 16 -> 32); the 5x5 convolution keeps 32x32 with padding 2. Keras defaults are
kept where the thesis relied on them: Glorot-uniform kernels, zero biases. The LeakyReLU slope
(0.2) and dropout rate (0.2) are not in the thesis; they are those of the Keras DCGAN example the
thesis's recipe follows. The discriminator returns a logit; its sigmoid (Table 5) is applied
inside the binary cross-entropy (the same function, computed stably).

Other square sizes that are multiples of 8 work too (the dense layers change size with them).
The generator's one-channel convolution and stride-2 transposed convolutions are the layers of
layers.py: nn.Conv2d / nn.ConvTranspose2d with faster CPU formulations.
"""

from __future__ import annotations

from torch import Tensor, nn

from scigan.blobs.layers import OneChannelConv2d, Stride2ConvTranspose2d

IMAGE_SIZE = 32


def _glorot(module: nn.Module) -> nn.Module:
    for m in module.modules():
        if isinstance(m, nn.Linear | nn.Conv2d | nn.ConvTranspose2d):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return module


class Generator(nn.Module):
    """z (128) -> Dense 8192 -> 8x8x128 -> ConvT 128 k4 s2 -> LReLU -> ConvT 256 k4 s2 -> LReLU
    -> Conv 1 k5 -> sigmoid: (n, 1, 32, 32) images in [0, 1]."""

    def __init__(self, noise_dim: int = 128, slope: float = 0.2, image_size: int = IMAGE_SIZE):
        super().__init__()
        self.noise_dim, self.image_size = noise_dim, image_size
        self.base = image_size // 4
        self.dense = nn.Linear(noise_dim, self.base * self.base * 128)
        self.net = nn.Sequential(
            Stride2ConvTranspose2d(128, 128, 4, padding=1),
            nn.LeakyReLU(slope),
            Stride2ConvTranspose2d(128, 256, 4, padding=1),
            nn.LeakyReLU(slope),
            OneChannelConv2d(256, 5),
            nn.Sigmoid(),
        )
        _glorot(self)

    def forward(self, z: Tensor) -> Tensor:
        x = self.dense(z).view(-1, 128, self.base, self.base)
        up1, act1, up2, act2, conv, sigmoid = self.net
        x = up1(x, leaky_slope=act1.negative_slope)  # the LeakyReLUs fused into the layers
        x = up2(x, leaky_slope=act2.negative_slope)
        return sigmoid(conv(x))


class Discriminator(nn.Module):
    """(n, 1, 32, 32) -> Conv 32 k4 s2 -> LReLU -> Conv 64 k4 s2 -> LReLU -> Conv 128 k4 s2 ->
    LReLU -> Flatten -> Dropout -> Dense 1 (logit)."""

    def __init__(self, slope: float = 0.2, dropout: float = 0.2, image_size: int = IMAGE_SIZE):
        super().__init__()
        side = image_size // 8
        self.net = nn.Sequential(
            nn.Conv2d(1, 32, 4, stride=2, padding=1),
            nn.LeakyReLU(slope),
            nn.Conv2d(32, 64, 4, stride=2, padding=1),
            nn.LeakyReLU(slope),
            nn.Conv2d(64, 128, 4, stride=2, padding=1),
            nn.LeakyReLU(slope),
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(side * side * 128, 1),
        )
        _glorot(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def layer_shapes(
    module: nn.Module, x: Tensor
) -> list[tuple[str, tuple[int, ...], tuple[int, ...]]]:
    """(layer kind, input shape, output shape) of every weighted layer for one forward pass of
    `x` (used to count FLOPs analytically)."""
    shapes: list = []
    hooks = [
        m.register_forward_hook(
            lambda m, i, o: shapes.append((type(m).__name__, tuple(i[0].shape), tuple(o.shape)))
        )
        for m in module.modules()
        if isinstance(m, nn.Linear | nn.Conv2d | nn.ConvTranspose2d)
    ]
    try:
        module(x)
    finally:
        for h in hooks:
            h.remove()
    return shapes
