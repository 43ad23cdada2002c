"""One DNA-GAN training iteration, hand-fused: the "fused" engine (same math as the autograd one).

The step computes exactly what `engines.autograd.AutogradDnaGanStep` computes (to fp32 rounding):

1. discriminator step. ``fake = G(z_d)``; logits ``s = D([real; fake])`` on the merged batch of
   ``N = 2B`` rows; ``loss_d = mean_i BCE(s_i, y_i)`` with ``y = real_label`` for real rows and
   ``fake_label`` for fake ones; one Adam step of D.
2. generator step. ``s = D(G(z_g))`` through the *updated*, frozen D; ``loss_g = mean BCE(s, 1)``;
   one Adam step of G (D's weights untouched, D's weight gradients never computed).

The backward pass is written out by hand. For a layer ``A = W X + b`` followed by LeakyReLU(α)
``H = A if A > 0 else αA`` (activations stored one column per sample, see below) and an upstream
gradient ``dH``::

    dA = dH * (1 if H > 0 else α)        (H > 0 iff A > 0 because α >= 0: no need to keep A)
    dW = dA Xᵀ,  db = dA 1,  dX = Wᵀ dA

and for the logits ``s`` of BCE with logits, ``d loss/d s_i = (sigmoid(s_i) - y_i) / n`` while
``BCE(s, y) = softplus(s) - y s``, so the loss itself is one dot product ``[s; softplus(s)] ·
[-y/n; 1/n]``. The optional softmax head uses softmax's own backward.

Why it is faster than autograd + torch.optim.Adam(fused=True) (2 threads: ~1.6-1.8x at batch 64,
~1.1x at batch 1024, where the products dominate; at 64 the matrix products, 369 MFLOP a step,
are left as ~85-90 % of the time, the two Adam updates ~6 %):

* No autograd graph, no per-step allocation: every buffer and every view the step touches is
  built once per batch size (`_Workspace`), and every op writes into it with ``out=``. What is not
  needed is not computed: no input gradient for the first layer of either network, no D weight
  gradients in the generator step.
* G's two forward passes share one weight set (G only changes after both), so ``G(z_d)`` and
  ``G(z_g)`` are one product on 2B columns: larger products run faster per flop.
* Flat buffers: each network's parameters, gradients and Adam moments are each one tensor, so an
  Adam update is one call of torch's fused Adam kernel on four tensors. The modules' parameters are
  *views* into the flat parameter buffer, so ``module.state_dict()``, ``module.load_state_dict()``
  and sampling with the module keep working and always see the current weights.
* Bias folded into the products: each layer's weight block is stored as ``[W | b | 0...]``
  (K -> Kp = K + 1 rounded up to a multiple of 8) and each activation buffer carries a constant
  row of ones (and zero padding rows) under its features. ``W_aug X_aug`` is then the affine map,
  and ``dA X_augᵀ`` yields the weight and the bias gradient at once: no bias broadcast copies and
  no bias-gradient reductions. The padding keeps every row 32-byte aligned (K + 1 alone was
  measurably slower); the pad columns get zero gradients and stay exactly 0 under Adam.
* Activation layout by batch size: the code works on logical (features, samples) matrices; below
  256 samples they are stored that way ("feature-major"), which makes this step's MKL products
  ~6-9 % faster at batch 64, from 256 on they are stored (samples, features), ~5 % faster at 512
  and ~15 % (products alone) at 1024. Only the strides differ; the math and the code are shared.

Everything is plain torch ops, device-agnostic by construction (CUDA runs the same code; there a
CUDA graph around `__call__` would be the next step). Losses come back as 0-dim tensors without a
host sync. ``state_dict()`` uses the exact format of two ``torch.optim.Adam`` state dicts, so a
checkpoint can be resumed by either engine.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from scigan.core.torch_private import ops
from scigan.dna.engines.flat import _FlatMLP, _padded
from scigan.dna.models import NUCLEOTIDES

_SAMPLE_MAJOR_FROM = 256  # batch size from which activations are stored (samples, features)
_MAX_WORKSPACES = 4  # batch sizes kept (the trainer uses one)


def _augmented(empty, k: int, cols: int) -> Tensor:
    """Activation buffer (logical shape (Kp, cols)): k feature rows, a row of ones, zero padding."""
    t = empty(_padded(k), cols)
    t[k:].zero_()
    t[k].fill_(1.0)
    return t


def _forward_plan(net: _FlatMLP, ins: list[Tensor], outs: list[Tensor]) -> list[tuple]:
    """(W_aug, augmented input, output rows, slope or None) per layer."""
    last = len(net.Wa) - 1
    return [
        (net.Wa[i], ins[i], outs[i], net.slopes[i] if i < last else None) for i in range(last + 1)
    ]


def _backward_plan(
    net: _FlatMLP, ins: list[Tensor], grads: list[Tensor], input_grad: Tensor | None, weights: bool
) -> list[tuple]:
    """Top layer first: (dA, (X_augᵀ, dW_aug) or None, (Wᵀ, dX, H, slope) or None).

    grads[i] is the buffer for the gradient w.r.t. layer i's pre-activation output; ins[i] layer
    i's augmented input, whose first `sizes[i]` rows are layer i-1's activated output H.
    """
    plan = []
    for i in range(len(net.Wa) - 1, -1, -1):
        wgrad = (ins[i].t(), net.dWa[i]) if weights else None
        if i > 0:
            back = (net.Wt[i], grads[i - 1], ins[i][: net.sizes[i]], net.slopes[i - 1])
        elif input_grad is not None:
            back = (net.Wt[i], input_grad, None, None)
        else:
            back = None  # the network input needs no gradient
        plan.append((grads[i], wgrad, back))
    return plan


class _Workspace:
    """Every buffer and view one batch size needs, allocated once (layout: features x samples)."""

    def __init__(
        self,
        batch: int,
        g: _FlatMLP,
        d: _FlatMLP,
        softmax: bool,
        real_label: float,
        fake_label: float,
        sample_major: bool,
    ):
        B, N = batch, 2 * batch
        f = dict(device=g.device, dtype=g.dtype)

        def empty(rows: int, cols: int) -> Tensor:
            """A logical (features, samples) matrix, stored either way round."""
            if sample_major:
                return torch.empty(cols, rows, **f).t()
            return torch.empty(rows, cols, **f)

        nz, nx = g.sizes[0], g.sizes[-1]
        g_hidden, d_hidden = g.sizes[1:-1], d.sizes[1:-1]
        # inputs: noise for both generator passes side by side; x = [real | fake_d | fake_g]
        z = _augmented(empty, nz, N)
        self.z_d, self.z_g = z[:nz, :B], z[:nz, B:]
        x = _augmented(empty, nx, 3 * B)
        self.x_real = x[:nx, :B]
        gh = [_augmented(empty, s, N) for s in g_hidden]
        g_out = empty(nx, N) if softmax else x[:nx, B:]
        self.g_forward = _forward_plan(
            g, [z, *gh], [t[:s] for t, s in zip(gh, g_hidden, strict=True)] + [g_out]
        )
        if softmax:  # per-position softmax over the 4 channels (features are position-major)
            self.softmax_in = g_out.view(-1, NUCLEOTIDES, N)
            self.softmax_out = x[:nx, B:].view(-1, NUCLEOTIDES, N)
            self.softmax_out_g = x[:nx, N:].view(-1, NUCLEOTIDES, B)
        # losses: [logits | softplus(logits)] . coef = mean BCE
        y = torch.cat([torch.full((B,), float(real_label)), torch.full((B,), float(fake_label))])
        self.lp_d, self.lp_g = torch.empty(2 * N, **f), torch.empty(2 * B, **f)
        self.logit_d, self.softplus_d = self.lp_d[:N].view(1, N), self.lp_d[N:].view(1, N)
        self.logit_g, self.softplus_g = self.lp_g[:B].view(1, B), self.lp_g[B:].view(1, B)
        self.coef_d = torch.cat([-y / N, torch.full((N,), 1.0 / N)]).to(**f)
        self.coef_g = torch.cat([torch.full((B,), -1.0 / B), torch.full((B,), 1.0 / B)]).to(**f)
        self.neg_y_d = (-y / N).view(1, N).to(**f)  # dloss/dlogit = sigmoid/n - y/n
        self.neg_y_g = torch.full((1, B), -1.0 / B, **f)
        self.inv_n_d, self.inv_n_g = 1.0 / N, 1.0 / B
        # discriminator step: D on [real | fake_d], full backward except the input gradient
        dh = [_augmented(empty, s, N) for s in d_hidden]
        self.dlogit_d = empty(1, N)
        d_in = [x[:, :N], *dh]
        self.d_forward = _forward_plan(
            d, d_in, [t[:s] for t, s in zip(dh, d_hidden, strict=True)] + [self.logit_d]
        )
        self.d_backward = _backward_plan(
            d, d_in, [empty(s, N) for s in d_hidden] + [self.dlogit_d], None, weights=True
        )
        # generator step: D on fake_g, backward to D's input only, then G's backward
        dhg = [_augmented(empty, s, B) for s in d_hidden]
        self.dlogit_g = empty(1, B)
        dg_in = [x[:, N:], *dhg]
        self.dg_forward = _forward_plan(
            d, dg_in, [t[:s] for t, s in zip(dhg, d_hidden, strict=True)] + [self.logit_g]
        )
        self.dx = empty(nx, B)
        self.dg_backward = _backward_plan(
            d, dg_in, [empty(s, B) for s in d_hidden] + [self.dlogit_g], self.dx, weights=False
        )
        if softmax:
            self.dx_sm = self.dx.view(-1, NUCLEOTIDES, B)
            # contiguous: _softmax_backward_data.out mishandles a strided grad_input (torch 2.13)
            g_top = torch.empty(nx, B, **f)
            self.dgo_sm = g_top.view(-1, NUCLEOTIDES, B)
        else:
            g_top = self.dx
        g_in = [z[:, B:]] + [t[:, B:] for t in gh]  # the z_g half of G's activations
        self.g_backward = _backward_plan(
            g, g_in, [empty(s, B) for s in g_hidden] + [g_top], None, weights=True
        )


class DnaGanStep:
    """The fused DNA-GAN iteration; a drop-in for `AutogradDnaGanStep` (see the module docstring).

    The modules' parameters become views into this object's flat buffers: keep using the modules
    (sampling, ``state_dict``/``load_state_dict``) as usual, but build the step after moving them
    to their device. Noise and real batches come from the caller.
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        lr_g: float,
        lr_d: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-7,
        real_label: float = 0.9,
        fake_label: float = 0.0,
        private: bool | None = None,
    ):
        self.generator, self.discriminator = generator, discriminator
        self._g = _FlatMLP(generator, "generator", lr_g, betas, eps)
        self._d = _FlatMLP(discriminator, "discriminator", lr_d, betas, eps)
        if (self._g.device, self._g.dtype) != (self._d.device, self._d.dtype):
            raise ValueError("generator and discriminator must share device and dtype")
        if self._g.sizes[-1] != self._d.sizes[0] or self._d.sizes[-1] != 1:
            raise ValueError("discriminator must map the generator's output to one logit")
        head = getattr(generator, "head", "linear")
        if head not in ("linear", "softmax"):
            raise ValueError(f"unsupported generator head {head!r}")
        self.softmax = head == "softmax"
        if self.softmax and self._g.sizes[-1] % NUCLEOTIDES:
            raise ValueError("softmax head needs an output size divisible by 4")
        self.real_label, self.fake_label = float(real_label), float(fake_label)
        self._one = torch.ones((), device=self._g.device, dtype=torch.float32)
        self._workspaces: dict[int, _Workspace] = {}
        # torch's private ops, or their public fallbacks (private=False; see core.torch_private)
        kernels = ops(private)
        self._leaky_relu_ = kernels.leaky_relu_
        self._softplus = kernels.softplus
        self._leaky_relu_backward = kernels.leaky_relu_backward_out
        self._softmax_backward = kernels.softmax_backward_out
        self._fused_adam_ = kernels.fused_adam_
        self._check_structure()

    # ------------------------------------------------------------------ the step
    @torch.no_grad()
    def __call__(self, real: Tensor, z_d: Tensor, z_g: Tensor) -> tuple[Tensor, Tensor]:
        g, d = self._g, self._d
        g.ensure_bound()
        d.ensure_bound()
        batch = real.shape[0]
        if z_d.shape != z_g.shape or z_d.shape[0] != batch:
            raise ValueError(
                f"batch mismatch: real {tuple(real.shape)}, z_d {tuple(z_d.shape)}, "
                f"z_g {tuple(z_g.shape)}"
            )
        w = self._workspace(batch)
        w.z_d.copy_(z_d.t())
        w.z_g.copy_(z_g.t())
        w.x_real.copy_(real.t())
        # G(z_d) and G(z_g) in one pass: G's weights are the same for both
        self._forward(w.g_forward)
        if self.softmax:
            torch.softmax(w.softmax_in, 1, out=w.softmax_out)

        # discriminator step
        self._forward(w.d_forward)
        loss_d = self._bce_and_grad(w.logit_d, w.softplus_d, w.lp_d, w.coef_d, w.dlogit_d,
                                    w.neg_y_d, w.inv_n_d)  # fmt: skip
        self._backward(w.d_backward)
        self._adam(d)

        # generator step, through the updated discriminator
        self._forward(w.dg_forward)
        loss_g = self._bce_and_grad(w.logit_g, w.softplus_g, w.lp_g, w.coef_g, w.dlogit_g,
                                    w.neg_y_g, w.inv_n_g)  # fmt: skip
        self._backward(w.dg_backward)
        if self.softmax:
            self._softmax_backward(w.dx_sm, w.softmax_out_g, 1, g.dtype, grad_input=w.dgo_sm)
        self._backward(w.g_backward)
        self._adam(g)
        return loss_d, loss_g

    def _bce_and_grad(self, logit, softplus, lp, coef, dlogit, neg_y, inv_n) -> Tensor:
        """Mean BCE of `logit` (as [logit; softplus(logit)] . coef) and its gradient
        (sigmoid(logit) - y) / n written into `dlogit`; `lp` views [logit; softplus]."""
        self._softplus(logit, 1, 20, out=softplus)
        loss = torch.dot(lp, coef)
        torch.sigmoid(logit, out=dlogit)
        torch.add(neg_y, dlogit, alpha=inv_n, out=dlogit)
        return loss

    def _forward(self, plan: list[tuple]) -> None:
        mm, leaky_relu_ = torch.mm, self._leaky_relu_
        for wa, x, out, slope in plan:
            mm(wa, x, out=out)  # W x + b (ones row of x times the bias column of wa)
            if slope is not None:
                leaky_relu_(out, slope)

    def _backward(self, plan: list[tuple]) -> None:
        mm, lrelu_backward = torch.mm, self._leaky_relu_backward
        for grad, wgrad, back in plan:
            if wgrad is not None:
                x_t, dwa = wgrad
                mm(grad, x_t, out=dwa)  # [dW | db | 0] = dA [X; 1; 0]ᵀ
            if back is not None:
                w_t, dx, h, slope = back
                mm(w_t, grad, out=dx)
                if slope is not None:  # in place: dA_prev = dH * (1 if H > 0 else slope)
                    lrelu_backward(dx, h, slope, True, grad_input=dx)

    def _adam(self, net: _FlatMLP) -> None:
        net.step.add_(self._one)
        self._fused_adam_(
            *net.adam_args,
            lr=net.lr,
            beta1=net.betas[0],
            beta2=net.betas[1],
            weight_decay=0.0,
            eps=net.eps,
            amsgrad=False,
            maximize=False,
        )

    def _workspace(self, batch: int) -> _Workspace:
        w = self._workspaces.get(batch)
        if w is None:
            if len(self._workspaces) >= _MAX_WORKSPACES:
                self._workspaces.pop(next(iter(self._workspaces)))
            w = _Workspace(
                batch,
                self._g,
                self._d,
                self.softmax,
                self.real_label,
                self.fake_label,
                sample_major=batch >= _SAMPLE_MAJOR_FROM,
            )
            self._workspaces[batch] = w
        return w

    def _check_structure(self) -> None:
        """The parsed layer structure must reproduce the modules' own forward (cheap, once)."""
        with torch.no_grad():
            g, d = self._g, self._d
            z = torch.linspace(-2, 2, 3 * g.sizes[0], device=g.device, dtype=g.dtype)
            z = z.view(3, -1)
            out = g.reference_forward(z)
            if self.softmax:
                out = torch.softmax(out.unflatten(-1, (-1, NUCLEOTIDES)), -1).flatten(-2)
            ok = torch.allclose(self.generator(z), out, rtol=1e-4, atol=1e-5)
            x = torch.linspace(-1, 1, 3 * d.sizes[0], device=d.device, dtype=d.dtype).view(3, -1)
            ok = ok and torch.allclose(
                self.discriminator(x).reshape(-1),
                d.reference_forward(x).reshape(-1),
                rtol=1e-4,
                atol=1e-5,
            )
        if not ok:
            raise ValueError(
                "the fused step could not reproduce the modules' forward: expected "
                "Linear (LeakyReLU Linear)* [softmax head]; use the autograd engine"
            )

    def gradients(self) -> dict[str, list[Tensor]]:
        """The last step's gradients (views, in ``parameters()`` order): D's from its step, G's
        from its step, i.e. what ``p.grad`` holds after an `AutogradDnaGanStep` call."""
        return {"generator": self._g.gradients(), "discriminator": self._d.gradients()}

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """{"opt_g", "opt_d"}: torch.optim.Adam state dicts (the autograd engine's format)."""
        return {"opt_g": self._g.adam_state(), "opt_d": self._d.adam_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore moments, step counts and (as torch.optim does) lr, betas and eps."""
        self._g.load_adam_state(state["opt_g"])
        self._d.load_adam_state(state["opt_d"])
