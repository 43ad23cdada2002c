"""The thesis's Ising WGAN-GP models (Tables 6-7), stacked: K independent GANs in one module.

Generator (Table 6, 1,338,625 parameters per model):
    z (128) -> Dense 10368 -> reshape 9 x 9 x 128 -> Conv2D 1, k3 "same" -> output activation
Critic (Table 7, 7,241 parameters per model):
    x (9 x 9 x 1) -> Conv2D 64, k3 "same" -> LeakyReLU -> GlobalMaxPool -> Dense 100 -> LeakyReLU
      -> Dense 1 (no activation: a Wasserstein critic)

Not stated in the thesis, chosen here and configurable: the generator's output activation (tanh:
spins live in [-1, 1]); no activation between the generator's Dense and Conv (Table 6 lists no
activation layer and Keras's Dense is linear by default); LeakyReLU slope 0.3 (Keras default);
Glorot-uniform kernels and zero biases (Keras defaults); zero padding ("same", the thesis) or
circular padding (the lattice is periodic).

Stacking. Every weight has a leading model axis of size K (one GAN per temperature): the dense
layers are batched matrix products and the convolutions grouped convolutions with one group
per model, so K GANs train as fast as a few while staying exactly independent: no operation
mixes models, each model draws its initial weights from its own random stream, and Adam is
elementwise, so one Adam over the stacked tensors is K independent Adams.

The generator is affine up to its output activation (Dense and Conv are both linear), so
G(z) = act(z A + b) with A (noise_dim x L^2) the composition of the two layers. `affine_map`
computes A and b by convolving the Dense weights (one conv of noise_dim "images"), which costs
~20x less than pushing a batch of 384 noise vectors through the 10,368-wide Dense layer; the
function and the gradients are the same (up to floating-point rounding), only the order of
the arithmetic changes.

Conditional variant (model.conditional): one generator and one critic for all temperatures.
The temperature enters as tau = T - 2.269 (centred on Tc). Generator: a small MLP of tau gives a
per-dimension gain and shift of the noise, z' = z * (1 + g(tau)) + h(tau), then the thesis
generator; a multiplicative path is needed because the generator is affine in z', so an
additive T input could move only the mean of the field, never its correlations. Critic: tau as
a second, constant input channel.

Beyond the thesis (options, never the default; see configs/physics.yaml):
  * generator "mlp": z (+ tau) -> [Dense -> LeakyReLU] per hidden width -> Dense L^2 -> act.
    Table 6's generator is affine up to its activation, so its lattices are signs of a
    Gaussian field; Ising configurations near Tc are not, whatever the field's covariance.
  * critic_pool "mean" / "meanmax": the critic's global pool averages (or averages and
    maximizes) the conv features over the lattice. Energy and magnetization are lattice
    averages of local features; a max-pooled critic sees only whether a local pattern occurs
    somewhere, not how often, so it cannot tell a lattice's e or m apart.
  * physics_features: the critic's dense head also gets each lattice's e, m and |m| (and tau,
    when conditional). The Boltzmann weight depends on a configuration only through its
    energy, so e is the statistic the critic most needs, and it is cheap to give exactly.
  * straight_through: the generator's output is its sign in the forward pass (the critic sees
    the spins the physics is computed from) with tanh's gradient in the backward pass.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

TC = 2.0 / math.log(1.0 + math.sqrt(2.0))  # Onsager's critical temperature, 2.269...


def glorot_uniform_(tensor: Tensor, fan_in: int, fan_out: int, generator: torch.Generator) -> None:
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        values = torch.rand(tensor.shape, generator=generator, dtype=tensor.dtype)
        tensor.copy_((values * 2 - 1) * limit)


def neighbour_table(L: int, kernel: int, padding: str) -> Tensor:
    """(kernel^2, L^2) site index of each kernel offset around each site, for a "same"
    cross-correlation on an L x L lattice: periodic (circular), or L^2 (an extra zero site)
    where the offset leaves the lattice (zeros, as Keras's "same" padding)."""
    half = kernel // 2
    rows = torch.arange(L).reshape(L, 1).expand(L, L)
    cols = torch.arange(L).reshape(1, L).expand(L, L)
    table = []
    for di in range(-half, kernel - half):
        for dj in range(-half, kernel - half):
            r, c = rows + di, cols + dj
            if padding == "circular":
                site = (r % L) * L + (c % L)
            else:
                inside = (r >= 0) & (r < L) & (c >= 0) & (c < L)
                site = torch.where(inside, r.clamp(0, L - 1) * L + c.clamp(0, L - 1), L * L)
            table.append(site.reshape(-1))
    return torch.stack(table)


def _with_zero_site(x: Tensor) -> Tensor:
    """Append one zero site to the last axis (the target of out-of-lattice offsets)."""
    return F.pad(x, (0, 1))


def spin_output(x: Tensor, output: str, straight_through: bool) -> Tensor:
    """The generator's output activation; straight_through: sign(act(x)) (0 -> +1) forward,
    act's gradient backward."""
    if output == "tanh":
        x = torch.tanh(x)
    if straight_through:
        spins = torch.where(x >= 0, 1.0, -1.0).to(x.dtype)
        x = x + (spins - x).detach()
    return x


POOLS = ("max", "mean", "meanmax")


def global_pool(h: Tensor, pool: str, dim: int) -> Tensor:
    """The critic's global pool over the sites axis `dim`: max (Table 7), mean, or both
    (mean features first). Max ties send the gradient to the first site, as torch.max (and
    fast_step) do."""
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


def tau_of(temperature: Tensor) -> Tensor:
    """The conditional models' temperature input."""
    return temperature - TC


def conditional_tau(temperature: Tensor | None, dtype: torch.dtype, model: str) -> Tensor:
    """tau (K, N) for a conditional model, which cannot run without the temperatures."""
    if temperature is None:
        raise ValueError(f"a conditional {model} needs the temperature of every sample")
    return tau_of(temperature).to(dtype)


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

    def from_affine(self, A: Tensor, b: Tensor, z: Tensor, temperature: Tensor | None = None):
        """Lattices (K, N, L, L) for noise z (K, N, noise_dim), given affine_map()'s A and b."""
        return self.activate(torch.baddbmm(b, self.modulate(z, temperature), A))

    def activate(self, pre: Tensor) -> Tensor:
        """Lattices (K, N, L, L) from the pre-activations z A + b (K, N, L*L)."""
        x = spin_output(pre, self.output, self.straight_through)
        return x.reshape(pre.shape[0], pre.shape[1], self.L, self.L)

    def forward(self, z: Tensor, temperature: Tensor | None = None) -> Tensor:
        A, b = self.affine_map()
        return self.from_affine(A, b, z, temperature)

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


def parameters_per_model(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters()) // module.models
