"""The Ising critic of Table 7, stacked (see models.py), with its pooling and physics-feature
options."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from scigan.ising.models import (
    _with_zero_site,
    conditional_tau,
    glorot_uniform_,
    neighbour_table,
    tau_of,
)

POOLS = ("max", "mean", "meanmax")


def global_pool(h: Tensor, pool: str, dim: int) -> Tensor:
    """The critic's global pool over the sites axis `dim`: max (Table 7), mean, or both
    (mean features first). Max ties send the gradient to the first site, as torch.max (and
    the fused engine) do."""
    if pool == "max":
        return h.max(dim=dim).values
    if pool == "mean":
        return h.mean(dim=dim)
    return torch.cat([h.mean(dim=dim), h.max(dim=dim).values], dim=-1)


PHYSICS_FEATURES = ("e", "m", "abs_m")


def lattice_features(x: Tensor, temperature: Tensor | None = None) -> Tensor:
    """(..., 3 or 4): energy per spin e = -(1/N) sum over bonds of x_i x_j (periodic, J = 1),
    magnetization per spin m and |m| of lattices x (..., L, L) (spins or the generator's
    continuous outputs), and tau when a temperature is given."""
    bonds = x * torch.roll(x, -1, dims=-1) + x * torch.roll(x, -1, dims=-2)
    e = -bonds.mean(dim=(-2, -1))
    m = x.mean(dim=(-2, -1))
    out = [e, m, m.abs()]
    if temperature is not None:
        out.append(tau_of(temperature).to(x.dtype))
    return torch.stack(out, dim=-1)


class StackedCritic(nn.Module):
    """K critics of Table 7. Per model: conv_weight (in_channels * kernel^2, channels), the
    convolution as a matrix on each site's neighbourhood (im2col); dense layers as usual."""

    def __init__(
        self,
        models: int,
        L: int = 9,
        channels: int = 64,
        hidden: int = 100,
        kernel: int = 3,
        padding: str = "zeros",
        leaky_slope: float = 0.3,
        conditional: bool = False,
        pool: str = "max",
        physics_features: bool = False,
    ):
        super().__init__()
        if pool not in POOLS:
            raise ValueError(f"pool must be one of {POOLS}, not {pool!r}")
        self.pool, self.physics_features = pool, physics_features
        self.models, self.L, self.channels, self.hidden = models, L, channels, hidden
        self.kernel, self.padding, self.leaky_slope = kernel, padding, leaky_slope
        self.conditional = conditional
        self.in_channels = 2 if conditional else 1
        K, k2 = models, kernel * kernel
        self.conv_weight = nn.Parameter(torch.empty(K, self.in_channels * k2, channels))
        self.conv_bias = nn.Parameter(torch.zeros(K, 1, channels))
        pooled = 2 * channels if pool == "meanmax" else channels
        if physics_features:
            pooled += len(PHYSICS_FEATURES) + (1 if conditional else 0)
        self.dense1_weight = nn.Parameter(torch.empty(K, pooled, hidden))
        self.dense1_bias = nn.Parameter(torch.zeros(K, 1, hidden))
        self.dense2_weight = nn.Parameter(torch.empty(K, hidden, 1))
        self.dense2_bias = nn.Parameter(torch.zeros(K, 1, 1))
        # (L^2, kernel^2): each site's neighbourhood, row-major like the conv kernel
        self.register_buffer(
            "patches", neighbour_table(L, kernel, padding).T.contiguous(), persistent=False
        )

    def reset_parameters(self, generators: list[torch.Generator]) -> None:
        c, k2, cin = self.channels, self.kernel**2, self.in_channels
        for m, gen in enumerate(generators):
            glorot_uniform_(self.conv_weight[m], cin * k2, c * k2, gen)
            glorot_uniform_(self.dense1_weight[m], self.dense1_weight.shape[1], self.hidden, gen)
            glorot_uniform_(self.dense2_weight[m], self.hidden, 1, gen)
        with torch.no_grad():
            for p in (self.conv_bias, self.dense1_bias, self.dense2_bias):
                p.zero_()

    def forward(self, x: Tensor, temperature: Tensor | None = None) -> Tensor:
        """Scores (K, N) of lattices x (K, N, L, L)."""
        K, N, P = x.shape[0], x.shape[1], self.L * self.L
        h = x.reshape(K, N, 1, P)
        if self.conditional:
            plane = conditional_tau(temperature, x.dtype, "critic")[..., None, None]
            plane = plane.expand(K, N, 1, P)
            h = torch.cat([h, plane], dim=2)
        patches = _with_zero_site(h)[..., self.patches]  # (K, N, Cin, P, k^2)
        if self.conditional:
            patches = patches.transpose(2, 3)  # (K, N, P, Cin, k^2)
        patches = patches.reshape(K, N * P, -1)
        h = F.leaky_relu(torch.baddbmm(self.conv_bias, patches, self.conv_weight), self.leaky_slope)
        h = global_pool(h.reshape(K, N, P, self.channels), self.pool, dim=2)  # (K, N, C or 2C)
        if self.physics_features:
            h = torch.cat([h, lattice_features(x, temperature if self.conditional else None)], -1)
        h = F.leaky_relu(torch.baddbmm(self.dense1_bias, h, self.dense1_weight), self.leaky_slope)
        return torch.baddbmm(self.dense2_bias, h, self.dense2_weight).squeeze(-1)

    def reference_forward(self, x: Tensor, temperature: Tensor | None = None) -> Tensor:
        """The layers of Table 7 one model at a time, with torch's Conv2d (tests)."""
        K, k, c = self.models, self.kernel, self.channels
        out = []
        for m in range(K):
            h = x[m].unsqueeze(1)
            if self.conditional:
                plane = tau_of(temperature[m]).to(x.dtype)[:, None, None, None].expand_as(h)
                h = torch.cat([h, plane], dim=1)
            weight = self.conv_weight[m].T.reshape(c, self.in_channels, k, k)
            if self.padding == "circular":
                h = F.conv2d(F.pad(h, (k // 2,) * 4, mode="circular"), weight)
            else:
                h = F.conv2d(h, weight, padding=k // 2)
            h = F.leaky_relu(h + self.conv_bias[m].reshape(1, c, 1, 1), self.leaky_slope)
            h = global_pool(h.flatten(2), self.pool, dim=2)
            if self.physics_features:
                t = temperature[m] if self.conditional else None
                h = torch.cat([h, lattice_features(x[m], t)], dim=-1)
            h = F.leaky_relu(h @ self.dense1_weight[m] + self.dense1_bias[m], self.leaky_slope)
            out.append((h @ self.dense2_weight[m] + self.dense2_bias[m]).squeeze(-1))
        return torch.stack(out)
