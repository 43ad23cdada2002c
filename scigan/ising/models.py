"""The thesis's Ising WGAN-GP models (Tables 6-7), stacked: K independent GANs in one module.
The generators are in generators.py, the critic in critic.py; this module holds what they share.

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


def tau_of(temperature: Tensor) -> Tensor:
    """The conditional models' temperature input."""
    return temperature - TC


def conditional_tau(temperature: Tensor | None, dtype: torch.dtype, model: str) -> Tensor:
    """tau (K, N) for a conditional model, which cannot run without the temperatures."""
    if temperature is None:
        raise ValueError(f"a conditional {model} needs the temperature of every sample")
    return tau_of(temperature).to(dtype)


def parameters_per_model(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters()) // module.models
