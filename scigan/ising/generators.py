"""The Ising generators, stacked (see models.py): Table 6's ("thesis", StackedGenerator) and
the two nonlinear options beyond the thesis ("mlp", "conv")."""

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


def spin_output(x: Tensor, output: str, straight_through: bool) -> Tensor:
    """The generator's output activation; straight_through: sign(act(x)) (0 -> +1) forward,
    act's gradient backward."""
    if output == "tanh":
        x = torch.tanh(x)
    if straight_through:
        spins = torch.where(x >= 0, 1.0, -1.0).to(x.dtype)
        x = x + (spins - x).detach()
    return x


class StackedGenerator(nn.Module):
    """K generators of Table 6. Per model: dense_weight (C, noise_dim, L*L) and dense_bias
    (C, L*L) are the Dense layer (Keras's kernel (noise_dim, L*L*C), its columns permuted);
    conv_weight (kernel^2, C) and conv_bias (1,) the Conv2D with one output channel."""

    def __init__(
        self,
        models: int,
        L: int = 9,
        noise_dim: int = 128,
        channels: int = 128,
        kernel: int = 3,
        padding: str = "zeros",
        output: str = "tanh",
        conditional: bool = False,
        condition_hidden: int = 64,
        leaky_slope: float = 0.3,
        straight_through: bool = False,
    ):
        super().__init__()
        self.straight_through = straight_through
        self.models, self.L, self.noise_dim, self.channels = models, L, noise_dim, channels
        self.kernel, self.padding, self.output = kernel, padding, output
        self.conditional, self.leaky_slope = conditional, leaky_slope
        K, C, P = models, channels, L * L
        self.dense_weight = nn.Parameter(torch.empty(K, C, noise_dim, P))
        self.dense_bias = nn.Parameter(torch.zeros(K, C, P))
        self.conv_weight = nn.Parameter(torch.empty(K, kernel * kernel, C))
        self.conv_bias = nn.Parameter(torch.zeros(K, 1, 1))
        if conditional:
            self.cond1_weight = nn.Parameter(torch.empty(K, 1, condition_hidden))
            self.cond1_bias = nn.Parameter(torch.zeros(K, 1, condition_hidden))
            self.cond2_weight = nn.Parameter(torch.empty(K, condition_hidden, 2 * noise_dim))
            self.cond2_bias = nn.Parameter(torch.zeros(K, 1, 2 * noise_dim))
        self.register_buffer("neighbours", neighbour_table(L, kernel, padding), persistent=False)

    def reset_parameters(self, generators: list[torch.Generator]) -> None:
        """Glorot-uniform kernels, zero biases; model k from generators[k] only."""
        C, P, k2 = self.channels, self.L * self.L, self.kernel**2
        for m, gen in enumerate(generators):
            glorot_uniform_(self.dense_weight[m], self.noise_dim, C * P, gen)
            glorot_uniform_(self.conv_weight[m], C * k2, k2, gen)
            if self.conditional:
                glorot_uniform_(self.cond1_weight[m], 1, self.cond1_weight.shape[-1], gen)
                hidden = self.cond2_weight.shape[1]
                glorot_uniform_(self.cond2_weight[m], hidden, 2 * self.noise_dim, gen)
        with torch.no_grad():
            for name in ("dense_bias", "conv_bias", "cond1_bias", "cond2_bias"):
                if hasattr(self, name):
                    getattr(self, name).zero_()

    def affine_map(self) -> tuple[Tensor, Tensor]:
        """A (K, noise_dim, L*L) and b (K, 1, L*L): the generator before its activation.

        The convolution applied to the Dense weights: for each kernel offset o, contract the
        channels (one batched matrix product over all weights), then add the 9 shifted maps."""
        K, P, nz = self.models, self.L * self.L, self.noise_dim
        k2 = self.kernel**2
        shifted = torch.bmm(self.conv_weight, self.dense_weight.reshape(K, self.channels, nz * P))
        shifted = _with_zero_site(shifted.reshape(K, k2, nz, P))
        index = self.neighbours.reshape(1, k2, 1, P).expand(K, k2, nz, P)
        A = torch.gather(shifted, 3, index).sum(dim=1)
        shifted_b = _with_zero_site(torch.bmm(self.conv_weight, self.dense_bias))
        b = torch.gather(shifted_b, 2, self.neighbours.expand(K, k2, P)).sum(dim=1, keepdim=True)
        return A, b + self.conv_bias

    def modulate(self, z: Tensor, temperature: Tensor | None) -> Tensor:
        """Conditional models: z' = z (1 + g(tau)) + h(tau); unconditional: z."""
        if not self.conditional:
            return z
        tau = conditional_tau(temperature, z.dtype, "generator").unsqueeze(-1)  # (K, N, 1)
        hidden = F.leaky_relu(
            torch.baddbmm(self.cond1_bias, tau, self.cond1_weight), self.leaky_slope
        )
        gain, shift = torch.baddbmm(self.cond2_bias, hidden, self.cond2_weight).chunk(2, dim=-1)
        return z * (1 + gain) + shift

    def forward(self, z: Tensor, temperature: Tensor | None = None) -> Tensor:
        """Lattices (K, N, L, L) for noise z (K, N, noise_dim): act(z A + b)."""
        A, b = self.affine_map()
        pre = torch.baddbmm(b, self.modulate(z, temperature), A)
        x = spin_output(pre, self.output, self.straight_through)
        return x.reshape(pre.shape[0], pre.shape[1], self.L, self.L)

    def reference_forward(self, z: Tensor, temperature: Tensor | None = None) -> Tensor:
        """The layers of Table 6 one model at a time, with torch's Dense and Conv2d (tests)."""
        K, C, L, k = self.models, self.channels, self.L, self.kernel
        z = self.modulate(z, temperature)
        out = []
        for m in range(K):
            hidden = torch.einsum("ni,cip->ncp", z[m], self.dense_weight[m]) + self.dense_bias[m]
            hidden = hidden.reshape(-1, C, L, L)
            weight = self.conv_weight[m].T.reshape(1, C, k, k)
            if self.padding == "circular":
                hidden = F.pad(hidden, (k // 2,) * 4, mode="circular")
                y = F.conv2d(hidden, weight)
            else:
                y = F.conv2d(hidden, weight, padding=k // 2)
            y = y + self.conv_bias[m].reshape(1, 1, 1, 1)
            out.append(spin_output(y, self.output, self.straight_through))
        return torch.stack(out).reshape(K, -1, L, L)


class StackedMlpGenerator(nn.Module):
    """K generators "mlp" (not the thesis): x = z, then per layer x = Dense([x, tau]) with
    LeakyReLU between layers, the last of width L^2, then the output activation. Conditional
    models append tau to every layer's input (a nonlinear generator needs no multiplicative
    path). weights[i] (K, in_i, out_i), biases[i] (K, 1, out_i)."""

    def __init__(
        self,
        models: int,
        L: int = 9,
        noise_dim: int = 128,
        hidden: tuple[int, ...] = (256, 256),
        output: str = "tanh",
        conditional: bool = False,
        leaky_slope: float = 0.3,
        straight_through: bool = False,
    ):
        super().__init__()
        self.models, self.L, self.noise_dim = models, L, noise_dim
        self.output, self.conditional = output, conditional
        self.leaky_slope, self.straight_through = leaky_slope, straight_through
        extra = 1 if conditional else 0
        widths = [noise_dim, *hidden, L * L]
        self.weights = nn.ParameterList(
            nn.Parameter(torch.empty(models, a + extra, b))
            for a, b in zip(widths[:-1], widths[1:], strict=True)
        )
        self.biases = nn.ParameterList(nn.Parameter(torch.zeros(models, 1, b)) for b in widths[1:])

    def reset_parameters(self, generators: list[torch.Generator]) -> None:
        """Glorot-uniform kernels, zero biases; model k from generators[k] only."""
        for m, gen in enumerate(generators):
            for w in self.weights:
                glorot_uniform_(w[m], w.shape[1], w.shape[2], gen)
        with torch.no_grad():
            for b in self.biases:
                b.zero_()

    def _layers(self, z: Tensor, temperature: Tensor | None, layer) -> Tensor:
        tau = None
        if self.conditional:
            tau = conditional_tau(temperature, z.dtype, "generator").unsqueeze(-1)
        x = z
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            if tau is not None:
                x = torch.cat([x, tau], dim=-1)
            x = layer(x, w, b)
            if i < last:
                x = F.leaky_relu(x, self.leaky_slope)
        x = spin_output(x, self.output, self.straight_through)
        return x.reshape(z.shape[0], z.shape[1], self.L, self.L)

    def forward(self, z: Tensor, temperature: Tensor | None = None) -> Tensor:
        """Lattices (K, N, L, L) for noise z (K, N, noise_dim)."""
        return self._layers(z, temperature, lambda x, w, b: torch.baddbmm(b, x, w))

    def reference_forward(self, z: Tensor, temperature: Tensor | None = None) -> Tensor:
        """The same, one model at a time with torch's linear layers (tests)."""

        def per_model(x, w, b):
            return torch.stack([F.linear(x[m], w[m].T, b[m, 0]) for m in range(self.models)])

        return self._layers(z, temperature, per_model)


class StackedConvGenerator(nn.Module):
    """K generators "conv" (not the thesis): Table 6's Dense -> L x L x C0 and convolutions,
    with nonlinearities: z (+ tau) -> Dense L^2 C0 -> LeakyReLU -> [Conv k C_i -> LeakyReLU]
    -> Conv k 1 -> output activation, channels C_i = hidden[1:]. Local convolutions suit a
    lattice whose Boltzmann weight is a sum of nearest-neighbour terms. Conditional models
    append tau to the noise and a constant tau plane to every convolution's input. Stacked as
    grouped convolutions (one group per model)."""

    def __init__(
        self,
        models: int,
        L: int = 9,
        noise_dim: int = 128,
        hidden: tuple[int, ...] = (32, 32),
        kernel: int = 3,
        padding: str = "circular",
        output: str = "tanh",
        conditional: bool = False,
        leaky_slope: float = 0.3,
        straight_through: bool = False,
    ):
        super().__init__()
        self.models, self.L, self.noise_dim, self.kernel = models, L, noise_dim, kernel
        self.padding, self.output, self.conditional = padding, output, conditional
        self.leaky_slope, self.straight_through = leaky_slope, straight_through
        extra = 1 if conditional else 0
        self.channels = list(hidden)
        self.dense_weight = nn.Parameter(torch.empty(models, noise_dim + extra, L * L * hidden[0]))
        self.dense_bias = nn.Parameter(torch.zeros(models, 1, L * L * hidden[0]))
        outs = [*hidden[1:], 1]
        self.conv_weights = nn.ParameterList(
            nn.Parameter(torch.empty(models * c_out, c_in + extra, kernel, kernel))
            for c_in, c_out in zip(hidden, outs, strict=True)
        )
        self.conv_biases = nn.ParameterList(
            nn.Parameter(torch.zeros(models * c_out)) for c_out in outs
        )

    def reset_parameters(self, generators: list[torch.Generator]) -> None:
        """Glorot-uniform kernels, zero biases; model k from generators[k] only."""
        K, k2 = self.models, self.kernel**2
        for m, gen in enumerate(generators):
            w = self.dense_weight
            glorot_uniform_(w[m], w.shape[1], w.shape[2], gen)
            for conv in self.conv_weights:
                c_out = conv.shape[0] // K
                glorot_uniform_(
                    conv[m * c_out : (m + 1) * c_out], conv.shape[1] * k2, c_out * k2, gen
                )
        with torch.no_grad():
            self.dense_bias.zero_()
            for b in self.conv_biases:
                b.zero_()

    def _conv(self, h: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
        """h (N, K * C_in, L, L) -> (N, K * C_out, L, L), one group per model."""
        pad = self.kernel // 2
        if self.padding == "circular":
            return F.conv2d(F.pad(h, (pad,) * 4, mode="circular"), weight, bias, groups=self.models)
        return F.conv2d(h, weight, bias, padding=pad, groups=self.models)

    def forward(self, z: Tensor, temperature: Tensor | None = None) -> Tensor:
        """Lattices (K, N, L, L) for noise z (K, N, noise_dim)."""
        K, N, L = z.shape[0], z.shape[1], self.L
        tau = None
        if self.conditional:
            tau = conditional_tau(temperature, z.dtype, "generator")  # (K, N)
            z = torch.cat([z, tau.unsqueeze(-1)], dim=-1)
        h = F.leaky_relu(torch.baddbmm(self.dense_bias, z, self.dense_weight), self.leaky_slope)
        # (K, N, C0 * L^2) -> (N, K, C0, L, L): channel-major like Keras's reshape of Table 6
        h = h.reshape(K, N, L, L, self.channels[0]).permute(1, 0, 4, 2, 3)
        last = len(self.conv_weights) - 1
        for i, (w, b) in enumerate(zip(self.conv_weights, self.conv_biases, strict=True)):
            if tau is not None:
                plane = tau.T[:, :, None, None, None].expand(N, K, 1, L, L)
                h = torch.cat([h, plane], dim=2)
            h = self._conv(h.reshape(N, -1, L, L), w, b).reshape(N, K, -1, L, L)
            if i < last:
                h = F.leaky_relu(h, self.leaky_slope)
        x = spin_output(h[:, :, 0].transpose(0, 1), self.output, self.straight_through)
        return x.contiguous()

    def reference_forward(self, z: Tensor, temperature: Tensor | None = None) -> Tensor:
        """The same, one model at a time with torch's Linear and Conv2d layers (tests)."""
        K, N, L, k = self.models, z.shape[1], self.L, self.kernel
        out = []
        for m in range(K):
            x = z[m]
            tau = None
            if self.conditional:
                tau = tau_of(temperature[m]).to(z.dtype)
                x = torch.cat([x, tau[:, None]], dim=-1)
            h = F.leaky_relu(x @ self.dense_weight[m] + self.dense_bias[m, 0], self.leaky_slope)
            h = h.reshape(N, L, L, self.channels[0]).permute(0, 3, 1, 2)
            last = len(self.conv_weights) - 1
            for i, (w, b) in enumerate(zip(self.conv_weights, self.conv_biases, strict=True)):
                c_out = w.shape[0] // K
                if tau is not None:
                    h = torch.cat([h, tau[:, None, None, None].expand(N, 1, L, L)], dim=1)
                padded = F.pad(
                    h, (k // 2,) * 4, mode="circular" if self.padding == "circular" else "constant"
                )
                h = F.conv2d(padded, w[m * c_out : (m + 1) * c_out], b[m * c_out : (m + 1) * c_out])
                if i < last:
                    h = F.leaky_relu(h, self.leaky_slope)
            out.append(spin_output(h[:, 0], self.output, self.straight_through))
        return torch.stack(out)


Generator = StackedGenerator | StackedMlpGenerator | StackedConvGenerator
