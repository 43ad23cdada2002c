"""The fused DNA step's parameter storage (see fused.py): an MLP's weights, gradients and Adam
moments each in one flat buffer, the module's parameters rebound to views of it."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from scigan.dna.models import SoftmaxHead

_ALIGN = 8  # floats; see fused.py's docstring (bias folding)
_PASSIVE = (nn.Identity, SoftmaxHead)  # leaf modules allowed besides Linear and LeakyReLU


def _padded(k: int) -> int:
    """Rows of an augmented activation (k features, a row of ones, zero padding)."""
    return -(-(k + 1) // _ALIGN) * _ALIGN


class _FlatMLP:
    """An MLP (Linear, LeakyReLU, ..., Linear) whose parameters live in one flat buffer.

    ``flat``, ``grad``, ``exp_avg``, ``exp_avg_sq`` hold the augmented blocks ``[W | b | 0]`` of
    all layers. ``Wa[i]`` is layer i's (out, Kp) block, ``Wt[i]`` the (in, out) view of its weight
    part, ``dWa[i]`` the matching gradient block. The module's parameters are rebound to views of
    ``flat`` (the weight a column slice, the bias a strided column); their ``.grad`` stays None.
    """

    def __init__(
        self, module: nn.Module, name: str, lr: float, betas: tuple[float, float], eps: float
    ):
        self.name = name
        self.lr, self.betas, self.eps = float(lr), (float(betas[0]), float(betas[1])), float(eps)
        linears, slopes = [], []
        for m in module.modules():  # pre-order = forward order for nested Sequentials
            if isinstance(m, nn.Linear):
                linears.append(m)
            elif isinstance(m, nn.LeakyReLU):
                slopes.append(float(m.negative_slope))
            elif next(m.children(), None) is None and not isinstance(m, _PASSIVE):
                raise ValueError(f"{name}: {type(m).__name__} is not supported by the fused step")
        if len(slopes) != len(linears) - 1 or any(lin.bias is None for lin in linears):
            raise ValueError(f"{name}: expected Linear (LeakyReLU Linear)* with biases")
        if any(s < 0 for s in slopes):
            raise ValueError(f"{name}: the fused step needs LeakyReLU slopes >= 0, got {slopes}")
        w0 = linears[0].weight
        self.device, self.dtype = w0.device, w0.dtype
        self.slopes = slopes
        self.sizes = [linears[0].in_features] + [lin.out_features for lin in linears]
        self.linears = linears
        blocks = [(lin.out_features, _padded(lin.in_features)) for lin in linears]
        n = sum(a * b for a, b in blocks)
        z = dict(device=self.device, dtype=self.dtype)
        self.flat, self.grad = torch.zeros(n, **z), torch.zeros(n, **z)
        self.exp_avg, self.exp_avg_sq = torch.zeros(n, **z), torch.zeros(n, **z)
        self.step = torch.zeros((), device=self.device, dtype=torch.float32)
        self.Wa: list[Tensor] = []
        self.dWa: list[Tensor] = []
        self.Wt: list[Tensor] = []
        # (layer, "weight" | "bias", where it sits in the flat buffers), in parameter order
        self._views: list[tuple[nn.Linear, str, tuple]] = []
        offset = 0
        for lin, (out_f, kp) in zip(linears, blocks, strict=True):
            k = lin.in_features
            self._views.append((lin, "weight", (offset, out_f, kp, slice(0, k))))
            self._views.append((lin, "bias", (offset, out_f, kp, k)))
            wa = self._block(self.flat, offset, out_f, kp)
            self.Wa.append(wa)
            self.Wt.append(wa[:, :k].t())
            self.dWa.append(self._block(self.grad, offset, out_f, kp))
            offset += out_f * kp
        if [id(p) for p in module.parameters()] != [id(p) for p in self.params()]:
            raise ValueError(f"{name}: parameters outside its Linear layers are not supported")
        self._bind()
        self.adam_args = (
            [self.flat],
            [self.grad],
            [self.exp_avg],
            [self.exp_avg_sq],
            [],
            [self.step],
        )

    @staticmethod
    def _block(buf: Tensor, offset: int, out_f: int, kp: int) -> Tensor:
        """Layer block of `buf` as an (out, Kp) matrix."""
        return buf[offset : offset + out_f * kp].view(out_f, kp)

    @classmethod
    def param_view(cls, buf: Tensor, spec: tuple) -> Tensor:
        offset, out_f, kp, cols = spec
        return cls._block(buf, offset, out_f, kp)[:, cols]

    def _bind(self) -> None:
        """Point the module's parameters at the flat buffer (copying their values in first)."""
        with torch.no_grad():
            for lin, attr, spec in self._views:
                p = getattr(lin, attr)
                if p.device != self.device or p.dtype != self.dtype:
                    raise RuntimeError(
                        f"{self.name}: parameters moved to {p.device}/{p.dtype} after the fused "
                        "step was built; build DnaGanStep after moving the modules"
                    )
                view = self.param_view(self.flat, spec)
                view.copy_(p)
                p.data = view
        # cheap per-step check that nothing replaced the parameter tensors: (dict, key, pointer)
        self._bound = [
            (lin._parameters, attr, getattr(lin, attr).data_ptr()) for lin, attr, _ in self._views
        ]

    def ensure_bound(self) -> None:
        """Re-adopt parameters something replaced (e.g. ``load_state_dict(assign=True)``)."""
        for params, key, ptr in self._bound:
            if params[key].data_ptr() != ptr:
                self._bind()
                return

    def params(self) -> list[Tensor]:
        return [getattr(lin, attr) for lin, attr, _ in self._views]

    def gradients(self) -> list[Tensor]:
        return [self.param_view(self.grad, spec) for _, _, spec in self._views]

    def moments(self, p_index: int) -> tuple[Tensor, Tensor]:
        spec = self._views[p_index][2]
        return self.param_view(self.exp_avg, spec), self.param_view(self.exp_avg_sq, spec)

    def reference_forward(self, x: Tensor) -> Tensor:
        """Plain forward from the parsed structure (rows = samples), for the construction check."""
        for i, lin in enumerate(self.linears):
            x = nn.functional.linear(x, lin.weight, lin.bias)
            if i < len(self.slopes):
                x = nn.functional.leaky_relu(x, self.slopes[i])
        return x

    # ------------------------------------------------------------------ checkpoints
    def optimizer(self) -> torch.optim.Adam:
        """An (empty) Adam over the module's parameters: only used for its state-dict format."""
        return torch.optim.Adam(self.params(), lr=self.lr, betas=self.betas, eps=self.eps)

    def adam_state(self) -> dict[str, Any]:
        """The Adam moments and step as a torch.optim.Adam state dict (the autograd engine's)."""
        opt = self.optimizer()
        if int(self.step.item()) > 0:
            step = self.step.detach().to("cpu", copy=True)
            for i, p in enumerate(self.params()):
                m, v = self.moments(i)
                opt.state[p] = {"step": step.clone(), "exp_avg": m.clone(), "exp_avg_sq": v.clone()}
        return opt.state_dict()

    def load_adam_state(self, saved: dict[str, Any]) -> None:
        """Restore moments, step count, lr, betas and eps from a torch.optim.Adam state dict."""
        self.ensure_bound()
        opt = self.optimizer()
        opt.load_state_dict(saved)
        group = opt.param_groups[0]
        if group.get("weight_decay", 0) or group.get("amsgrad") or group.get("maximize"):
            raise ValueError("checkpoint uses Adam options the fused step does not implement")
        steps = set()
        with torch.no_grad():
            self.exp_avg.zero_()
            self.exp_avg_sq.zero_()
            for i, p in enumerate(self.params()):
                st = opt.state.get(p)
                if not st:
                    steps.add(0.0)
                    continue
                m, v = self.moments(i)
                for dst, key in ((m, "exp_avg"), (v, "exp_avg_sq")):
                    if st[key].shape != dst.shape:
                        raise ValueError(
                            f"{self.name}: {key} shape {tuple(st[key].shape)} != {tuple(dst.shape)}"
                        )
                    dst.copy_(st[key])
                steps.add(float(st["step"]))
            if len(steps) != 1:
                raise ValueError(f"{self.name}: parameters at different Adam steps {sorted(steps)}")
            self.step.fill_(steps.pop())
        self.lr, self.eps = float(group["lr"]), float(group["eps"])
        self.betas = (float(group["betas"][0]), float(group["betas"][1]))
