"""The WGAN-GP step with the critic's backward passes written by hand (the "fused" engine).

The critic of Table 7 is piecewise linear: Conv -> LeakyReLU -> GlobalMaxPool -> Dense ->
LeakyReLU -> Dense. Three facts make its training step cheap:
  * LeakyReLU is increasing and the conv bias is constant over the lattice, so
    max_p lrelu(y_p + b) = lrelu(max_p y_p + b): the pool can come right after the
    convolution's matrix product, and nothing else ever touches the (N, L^2, 64) tensor.
  * Every gradient reaches the convolution only through each channel's argmax site, so all
    backward passes work on (N, 64)-sized tensors plus one gather/scatter of 9 taps.
  * The input gradient g = grad_x D(x) is multilinear in the weights given the activation
    pattern (which is locally constant), so the gradient-penalty's parameter gradients
    (double backpropagation) have a short closed form; the biases get none from the penalty.
Same function and gradients as autograd through critic.StackedCritic (max-pool ties broken
towards the first site, as torch.max), checked in tests/ising/test_engines.py.

The generator of Table 6 is affine up to its output activation, G(z) = act(z A + b), with A and
b the Dense weights convolved by the Conv2D (generators.StackedGenerator.affine_map). Its backward
pass is short too: dA = z^T d(pre-activation), then the transpose of the convolution's gather
(one index_select through the inverse neighbour table) and two products for the Dense and the
Conv weights. Written by hand it runs into persistent gradient buffers: autograd's backward of
the same map allocated a fresh 5 MB gradient for the Dense weights every step, and writing into
cold memory made that one product ~3x slower than the same product into a reused buffer.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from scigan.core.losses import wasserstein_critic_loss, wasserstein_generator_loss
from scigan.core.steps import adam_step
from scigan.ising.augmentation import lattice_signs
from scigan.ising.config import IsingGanConfig
from scigan.ising.critic import StackedCritic
from scigan.ising.engines.autograd import WganGpStep, scale
from scigan.ising.generators import Generator, StackedGenerator, spin_output
from scigan.ising.models import tau_of

CACHE_FLOATS = 1 << 20  # conv outputs computed at once (4 MB)


@dataclass
class CriticPass:
    """What one forward pass keeps for the backward passes (K models, M samples)."""

    x_ext: Tensor  # (K, M, Cin, P + 1) inputs with the zero site
    sites: Tensor  # (K, M, F, k^2) neighbourhood of each channel's argmax site
    s1: Tensor  # (K, M, F) LeakyReLU slopes after the pool
    h1: Tensor  # (K, M, F)
    s2: Tensor  # (K, M, H)
    h2: Tensor  # (K, M, H)
    u: Tensor  # (K, M, H) d score / d pre-activation of the hidden layer
    v: Tensor  # (K, M, F) d score / d pooled conv output
    scores: Tensor  # (K, M)


def stacked_bmm(a: Tensor, b: Tensor, bias: Tensor | None = None) -> Tensor:
    """bias + a @ b per model, as one model of a larger stack computes it. A single
    matrix-vector product (one model, b (1, n, 1)) goes to another kernel than the batched
    one, which rounds differently; it is computed as a batch of two, so a point alone gives
    what it gives stacked in a sweep (tests/sweep/test_stacks.py)."""
    if a.shape[0] == 1 and b.shape[-1] == 1:
        pair = stacked_bmm(a.expand(2, -1, -1), b.expand(2, -1, -1))[:1]
        return pair if bias is None else bias + pair
    return torch.bmm(a, b) if bias is None else torch.baddbmm(bias, a, b)


def _slopes(x: Tensor, slope: float) -> Tensor:
    return torch.where(x > 0, 1.0, slope).to(x.dtype)


def critic_forward(critic: StackedCritic, x: Tensor, temperature: Tensor | None = None):
    """Scores of x (K, M, L, L) and the pass's record for critic_* gradients below."""
    K, M, P = x.shape[0], x.shape[1], critic.L * critic.L
    h = x.reshape(K, M, 1, P)
    if critic.conditional:
        plane = tau_of(temperature).to(x.dtype)[..., None, None].expand(K, M, 1, P)
        h = torch.cat([h, plane], dim=2)
    x_ext = F.pad(h, (0, 1))  # (K, M, Cin, P + 1)
    k2 = critic.kernel**2
    # the conv's im2col (K, M P, Cin k^2): gathered as rows of the site-major view (P + 1,
    # K M Cin), then put in place by one copy; index_select along the last axis of x_ext is
    # ~2x slower (it gathers one float at a time)
    cin = x_ext.shape[2]
    cols = x_ext.reshape(-1, P + 1).t().index_select(0, critic.patches.reshape(-1))
    patches = cols.reshape(P, k2, K, M, cin).permute(2, 3, 0, 4, 1).reshape(K, M * P, cin * k2)
    # max over sites with indices; max_pool1d on the (sample, channel, site) view is ~10x
    # faster than torch.max over the strided site axis. Models are taken a few at a time so
    # that the (M P, F) products stay in cache.
    chunk = max(1, CACHE_FLOATS // (M * P * critic.channels))
    pooled = []
    for first in range(0, K, chunk):
        y = torch.matmul(patches[first : first + chunk], critic.conv_weight[first : first + chunk])
        pooled.append(
            F.max_pool1d(y.reshape(-1, P, critic.channels).transpose(1, 2), P, return_indices=True)
        )
    ymax = torch.cat([v for v, _ in pooled]).reshape(K, M, -1)  # (K, M, F)
    arg = torch.cat([i for _, i in pooled]).reshape(K, M, -1)
    pre1 = ymax + critic.conv_bias
    s1 = _slopes(pre1, critic.leaky_slope)
    h1 = pre1 * s1
    pre2 = torch.baddbmm(critic.dense1_bias, h1, critic.dense1_weight)
    s2 = _slopes(pre2, critic.leaky_slope)
    h2 = pre2 * s2
    scores = stacked_bmm(h2, critic.dense2_weight, critic.dense2_bias).squeeze(-1)
    u = s2 * critic.dense2_weight.transpose(1, 2)  # (K, M, H)
    v = torch.bmm(u, critic.dense1_weight.transpose(1, 2)) * s1  # (K, M, F)
    sites = critic.patches.index_select(0, arg.reshape(-1)).reshape(K, M, -1, k2)
    return CriticPass(x_ext, sites, s1, h1, s2, h2, u, v, scores)


def _spin_taps(critic: StackedCritic) -> Tensor:
    """(K, k^2, F): the conv weights acting on the spin channel (the T plane excluded)."""
    return critic.conv_weight[:, : critic.kernel**2]


def input_gradient(critic: StackedCritic, record: CriticPass, rows: slice = slice(None)) -> Tensor:
    """grad_x score (K, m, P) of the chosen rows: v[f] W[o, f] scattered to the argmax
    site's neighbours."""
    v, sites = record.v[:, rows], record.sites[:, rows]
    K, m, Fc = v.shape
    k2 = sites.shape[-1]
    contrib = v.unsqueeze(2) * _spin_taps(critic).unsqueeze(1)  # (K, m, k^2, F)
    index = sites.transpose(2, 3).reshape(K, m, k2 * Fc)
    P = critic.L * critic.L
    g = torch.zeros(K, m, P + 1, dtype=v.dtype, device=v.device)
    g.scatter_add_(2, index, contrib.reshape(K, m, k2 * Fc))
    return g[..., :P]


def score_gradients(critic: StackedCritic, record: CriticPass, weights: Tensor) -> list[Tensor]:
    """Gradients of sum_n weights[k, n] * score[k, n] for the critic's parameters, in
    critic.parameters() order."""
    c = weights.unsqueeze(-1)
    cu, cv = c * record.u, c * record.v
    K, M, Fc = record.v.shape
    cin = record.x_ext.shape[2]
    k2 = record.sites.shape[-1]
    index = record.sites.reshape(K, M, 1, Fc * k2).expand(K, M, cin, Fc * k2)
    taps = torch.gather(record.x_ext, 3, index).reshape(K, M, cin, Fc, k2)
    taps = taps.permute(0, 1, 3, 2, 4).reshape(K, M, Fc, cin * k2)
    d_conv_w = (cv.unsqueeze(-1) * taps).sum(dim=1).transpose(1, 2)
    d_conv_b = cv.sum(dim=1, keepdim=True)
    d_w1 = torch.bmm(record.h1.transpose(1, 2), cu)
    d_b1 = cu.sum(dim=1, keepdim=True)
    d_w2 = stacked_bmm(record.h2.transpose(1, 2), c)
    d_b2 = c.sum(dim=1, keepdim=True)
    return [d_conv_w, d_conv_b, d_w1, d_b1, d_w2, d_b2]


def penalty_gradients(
    critic: StackedCritic, record: CriticPass, rows: slice, weight: float | list[float]
) -> tuple[Tensor, list[Tensor]]:
    """weight * E[(||grad_x D(x_hat)|| - 1)^2] per model (K,) over the chosen rows (x_hat)
    (weight: one number, or one per model), and its gradients for the critic's parameters
    (double backpropagation by hand)."""
    g = input_gradient(critic, record, rows)  # (K, m, P)
    m = g.shape[1]
    norms = g.norm(dim=-1, keepdim=True)
    penalty = scale(weight, ((norms.squeeze(-1) - 1) ** 2).mean(dim=1))
    gamma = scale(weight, norms - 1, 2.0, m) / norms.clamp_min(1e-12) * g  # d penalty / d g
    v, u, s1, s2 = record.v[:, rows], record.u[:, rows], record.s1[:, rows], record.s2[:, rows]
    sites = record.sites[:, rows]
    K, _, Fc = v.shape
    k2 = sites.shape[-1]
    index = sites.transpose(2, 3).reshape(K, m, k2 * Fc)
    Gam = torch.gather(F.pad(gamma, (0, 1)), 2, index).reshape(K, m, k2, Fc)
    d_taps = (v.unsqueeze(2) * Gam).sum(dim=1)  # spin-channel conv weights (K, k^2, F)
    dv = (_spin_taps(critic).unsqueeze(1) * Gam).sum(dim=2)
    dvs = dv * s1
    d_w1 = torch.bmm(dvs.transpose(1, 2), u)  # (K, F, H)
    du = torch.bmm(dvs, critic.dense1_weight)  # (K, m, H)
    d_w2 = (du * s2).sum(dim=1).unsqueeze(-1)  # (K, H, 1)
    d_conv_w = torch.zeros_like(critic.conv_weight)
    d_conv_w[:, :k2] = d_taps
    zero = torch.zeros_like
    grads = [
        d_conv_w,
        zero(critic.conv_bias),
        d_w1,
        zero(critic.dense1_bias),
        d_w2,
        zero(critic.dense2_bias),
    ]
    return penalty, grads


def inverse_neighbours(neighbours: Tensor) -> Tensor:
    """(k^2, P) for a neighbour table (k^2, P): the site p whose offset-o neighbour is q
    (neighbours[o, p] == q), or P where there is none (zero padding: the lattice's edge)."""
    k2, P = neighbours.shape
    inverse = torch.full((k2, P + 1), P, dtype=neighbours.dtype, device=neighbours.device)
    sites = torch.arange(P, dtype=neighbours.dtype, device=neighbours.device).expand(k2, P)
    inverse.scatter_(1, neighbours, sites)  # column P collects the off-lattice offsets: dropped
    return inverse[:, :P].contiguous()


def output_backward(generator: StackedGenerator, pre: Tensor, grad_output: Tensor) -> Tensor:
    """d loss / d pre-activation from d loss / d output, for output = act(pre) (tanh or linear;
    straight-through outputs take act's gradient, as generators.spin_output defines them)."""
    if generator.output == "tanh":
        t = torch.tanh(pre)
        return grad_output * (1 - t * t)
    return grad_output


def generator_gradients(
    generator: StackedGenerator,
    z: Tensor,
    grad_pre: Tensor,
    inverse: Tensor,
    out: list[Tensor] | None = None,
) -> list[Tensor]:
    """Gradients of the Dense and Conv parameters (dense_weight, dense_bias, conv_weight,
    conv_bias) for pre-activations z A + b whose gradient is grad_pre (K, N, P); z (K, N, nz)
    is the noise the map saw (modulated, for conditional models). `out`: tensors of the
    parameters' shapes to write into (the returned list is then `out`)."""
    G = generator
    K, nz, C, P = G.models, G.noise_dim, G.channels, G.L * G.L
    k2 = inverse.shape[0]
    dA = torch.bmm(z.transpose(1, 2), grad_pre)  # (K, nz, P)
    db = grad_pre.sum(dim=1, keepdim=True)  # (K, 1, P)
    # the gather's transpose: shifted map o's gradient at site q is dA at inverse[o, q]
    rows = F.pad(torch.cat([dA, db], dim=1), (0, 1))  # (K, nz + 1, P + 1)
    # gathered as rows of the site-major view, as critic_forward's im2col
    d_shifted = rows.reshape(-1, P + 1).t().index_select(0, inverse.reshape(-1))
    d_shifted = d_shifted.reshape(k2, P, K, nz + 1).permute(2, 0, 3, 1).contiguous()
    d_shift_w = d_shifted[:, :, :nz].reshape(K, k2, nz * P)
    d_shift_b = d_shifted[:, :, nz]  # (K, k2, P)
    if out is None:
        out = [torch.empty_like(p) for p in (G.dense_weight, G.dense_bias, G.conv_weight)]
        out.append(torch.empty_like(G.conv_bias))
    d_dense_w, d_dense_b, d_conv_w, d_conv_b = out
    conv_t = G.conv_weight.transpose(1, 2)  # (K, C, k^2)
    torch.bmm(conv_t, d_shift_w, out=d_dense_w.view(K, C, nz * P))
    torch.bmm(conv_t, d_shift_b, out=d_dense_b)
    torch.bmm(d_shift_w, G.dense_weight.reshape(K, C, nz * P).transpose(1, 2), out=d_conv_w)
    d_conv_w.baddbmm_(d_shift_b, G.dense_bias.transpose(1, 2))
    torch.sum(db, dim=2, keepdim=True, out=d_conv_b)
    return out


def from_affine(
    generator: StackedGenerator, A: Tensor, b: Tensor, z: Tensor, temperature: Tensor | None = None
) -> Tensor:
    """Lattices (K, N, L, L) for noise z (K, N, noise_dim), given the generator's affine_map()
    A and b: its forward pass without recomputing them."""
    return activate(generator, torch.baddbmm(b, generator.modulate(z, temperature), A))


def activate(generator: StackedGenerator, pre: Tensor) -> Tensor:
    """Lattices (K, N, L, L) from the generator's pre-activations z A + b (K, N, L*L)."""
    x = spin_output(pre, generator.output, generator.straight_through)
    return x.reshape(pre.shape[0], pre.shape[1], generator.L, generator.L)


def gradient_buffers(params: list[Tensor]) -> list[Tensor]:
    """The parameters' .grad tensors, created once and then kept from step to step (steps
    that write gradients by hand fill them in place instead of allocating new ones)."""
    for p in params:
        if p.grad is None:
            p.grad = torch.empty_like(p)
    return [p.grad for p in params]


class FusedWganGpStep(WganGpStep):
    """The same step with the critic's and the generator's gradients by hand (above);
    only a conditional generator's noise modulation keeps autograd."""

    def __init__(
        self,
        generator: Generator,
        critic: StackedCritic,
        cfg: IsingGanConfig,
        members: list[IsingGanConfig] | None = None,
    ):
        super().__init__(generator, critic, cfg, members)
        self.inverse = inverse_neighbours(generator.neighbours)
        self.affine_params = [
            generator.dense_weight,
            generator.dense_bias,
            generator.conv_weight,
            generator.conv_bias,
        ]

    def __call__(
        self, real: Tensor, z: Tensor, epsilon: Tensor, t_real: Tensor | None = None
    ) -> dict[str, Tensor]:
        G, D, n = self.generator, self.critic, self.critic_steps
        B, draws = real.shape[2], real.shape[1]
        params = list(D.parameters())
        with torch.no_grad():
            # the generator's affine map, once per step: its weights do not change before the
            # generator update
            A, b = G.affine_map()
            t_fake = None if t_real is None else t_real[:, torch.arange(n) % draws].flatten(1, 2)
            fakes = self.fold(from_affine(G, A, b, z[:, : n * B], t_fake))
            K = real.shape[0]
            weights = torch.cat(
                [torch.full((K, B), -1.0 / B), torch.full((K, B), 1.0 / B), torch.zeros(K, B)],
                dim=1,
            ).to(real.device, real.dtype)
            for j in range(n):
                x = real[:, j % draws]
                fake = fakes[:, j * B : (j + 1) * B]
                eps = epsilon[:, j, :, None, None]
                x_hat = eps * x + (1 - eps) * fake
                tj = None if t_real is None else t_real[:, j % draws].repeat(1, 3)
                record = critic_forward(D, torch.cat([x, fake, x_hat], dim=1), tj)
                scores = record.scores
                wasserstein = wasserstein_critic_loss(scores[:, :B], scores[:, B : 2 * B])
                grads = score_gradients(D, record, weights)
                penalty, gp_grads = penalty_gradients(
                    D, record, slice(2 * B, 3 * B), self.gp_weight
                )
                for buffer, g1, g2 in zip(gradient_buffers(params), grads, gp_grads, strict=True):
                    torch.add(g1, g2, out=buffer)
                adam_step(self.opt_d, self.blocks_d)
            total = wasserstein + penalty
            tg = None if t_real is None else t_real[:, 0]
        z_g = G.modulate(z[:, n * B :], tg)  # autograd only where conditional
        with torch.no_grad():
            pre = torch.baddbmm(b, z_g, A)
            lattices = activate(G, pre)
            signs = lattice_signs(lattices) if self.sign_fold else None
            record = critic_forward(D, lattices if signs is None else lattices * signs, tg)
            loss_g = wasserstein_generator_loss(record.scores)
            grad_out = -input_gradient(D, record) / B  # (K, B, P)
            if signs is not None:
                grad_out = grad_out * signs.reshape(K, B, 1)
            grad_pre = output_backward(G, pre, grad_out)
            generator_gradients(
                G, z_g, grad_pre, self.inverse, out=gradient_buffers(self.affine_params)
            )
        if z_g.requires_grad:
            for p in G.parameters():
                if all(p is not q for q in self.affine_params):
                    p.grad = None
            z_g.backward(torch.bmm(grad_pre, A.transpose(1, 2)))
        adam_step(self.opt_g, self.blocks_g)
        return {
            "critic_wasserstein": wasserstein,
            "critic_gp": penalty,
            "critic_total": total,
            "generator": loss_g,
        }
