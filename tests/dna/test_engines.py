"""The fused DNA-GAN step against the autograd reference, and its checkpoints."""

from pathlib import Path

import pytest
import torch
from torch import nn

from scigan.dna.engines.autograd import AutogradDnaGanStep
from scigan.dna.engines.fused import DnaGanStep
from scigan.dna.models import Discriminator, Generator

LR = 1e-3


def _models(head: str, seed: int = 0) -> tuple[Generator, Discriminator]:
    torch.manual_seed(seed)
    return Generator(head=head), Discriminator()


def _batches(batch: int, n: int, seed: int = 1) -> list[tuple[torch.Tensor, ...]]:
    rng = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        codes = torch.randint(0, 4, (batch, 60), generator=rng)
        real = nn.functional.one_hot(codes, 4).float().reshape(batch, 240)
        z = torch.randn(2, batch, 100, generator=rng)
        out.append((real, z[0], z[1]))
    return out


def _params(*modules: nn.Module) -> list[torch.Tensor]:
    return [p for m in modules for p in m.parameters()]


def _assert_params_close(fast: list[torch.Tensor], ref: list[torch.Tensor]) -> None:
    # Adam divides each gradient by its own running magnitude, so an element whose gradient is
    # ~0 can move by up to ~lr on fp32 rounding noise alone (torch's own Adam implementations
    # differ the same way). Hence: every element within 0.1 lr, nearly all within 1e-5.
    for a, b in zip(fast, ref, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=0.1 * LR)
    far = sum(int(((a - b).abs() > 1e-5).sum()) for a, b in zip(fast, ref, strict=True))
    assert far <= 1e-4 * sum(p.numel() for p in ref), far


@pytest.mark.parametrize("head", ["linear", "softmax"])
@pytest.mark.parametrize("batch", [7, 64, 256])  # 256: the (samples, features) buffer layout
def test_matches_autograd_reference(head: str, batch: int):
    g_ref, d_ref = _models(head)
    g, d = _models(head)
    ref = AutogradDnaGanStep(g_ref, d_ref, LR, LR)
    fast = DnaGanStep(g, d, LR, LR)
    for i, (real, z_d, z_g) in enumerate(_batches(batch, 5)):
        loss_ref = ref(real, z_d, z_g)
        loss = fast(real, z_d, z_g)
        assert all(t.dim() == 0 and not t.requires_grad for t in loss)
        torch.testing.assert_close(loss, loss_ref, rtol=1e-5, atol=1e-6)
        grads = fast.gradients()
        for got, p in zip(
            grads["generator"] + grads["discriminator"], _params(g_ref, d_ref), strict=True
        ):
            scale = p.grad.abs().max()
            torch.testing.assert_close(got, p.grad, rtol=1e-3, atol=1e-5 * scale, msg=f"step {i}")
    _assert_params_close(_params(g, d), _params(g_ref, d_ref))
    # the modules hold the current weights: their forward is the step's
    z = _batches(batch, 1, seed=9)[0][1]
    torch.testing.assert_close(g(z), g_ref(z), rtol=1e-3, atol=1e-3)


def _save_all(path: Path, g: nn.Module, d: nn.Module, step: DnaGanStep) -> None:
    torch.save({"g": g.state_dict(), "d": d.state_dict(), "step": step.state_dict()}, path)


def _load_all(path: Path, head: str) -> tuple[Generator, Discriminator, DnaGanStep]:
    state = torch.load(path, weights_only=True)
    g, d = _models(head, seed=123)  # different init: everything must come from the checkpoint
    step = DnaGanStep(g, d, LR, LR)  # built first, loaded after: as the trainer does
    g.load_state_dict(state["g"])
    d.load_state_dict(state["d"])
    step.load_state_dict(state["step"])
    return g, d, step


@pytest.mark.parametrize("head", ["linear", "softmax"])
def test_resume_is_bitwise_identical(tmp_path: Path, head: str):
    batches = _batches(16, 20)
    g, d = _models(head)
    straight = DnaGanStep(g, d, LR, LR)
    losses_straight = [straight(*b) for b in batches]

    g2, d2 = _models(head)
    first = DnaGanStep(g2, d2, LR, LR)
    for b in batches[:10]:
        first(*b)
    _save_all(tmp_path / "ckpt.pt", g2, d2, first)
    g3, d3, resumed = _load_all(tmp_path / "ckpt.pt", head)
    losses_resumed = [resumed(*b) for b in batches[10:]]

    for a, b in zip(losses_straight[10:], losses_resumed, strict=True):
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    for a, b in zip(_params(g, d), _params(g3, d3), strict=True):
        assert torch.equal(a, b)
    sa, sb = straight.state_dict(), resumed.state_dict()
    for opt in ("opt_g", "opt_d"):
        for i, st in sa[opt]["state"].items():
            for key, value in st.items():
                assert torch.equal(value, sb[opt]["state"][i][key]), (opt, i, key)


def test_state_dict_is_torch_adam_format_and_weights_only(tmp_path: Path):
    g, d = _models("linear")
    fast = DnaGanStep(g, d, LR, 2 * LR)
    assert fast.state_dict()["opt_g"]["state"] == {}  # like torch.optim before its first step
    for b in _batches(8, 3):
        fast(*b)
    torch.save(fast.state_dict(), tmp_path / "s.pt")
    state = torch.load(tmp_path / "s.pt", weights_only=True)
    assert state["opt_d"]["param_groups"][0]["lr"] == 2 * LR
    assert state["opt_g"]["param_groups"][0]["eps"] == 1e-7
    assert float(state["opt_g"]["state"][0]["step"]) == 3.0
    assert [s["exp_avg"].shape for s in state["opt_g"]["state"].values()] == [
        p.shape for p in g.parameters()
    ]
    # the autograd engine resumes from it, and both engines then take the same next step
    g_ref, d_ref = _models("linear", seed=5)
    g_ref.load_state_dict(g.state_dict())
    d_ref.load_state_dict(d.state_dict())
    ref = AutogradDnaGanStep(g_ref, d_ref, LR, LR)
    ref.load_state_dict(state)
    nxt = _batches(8, 1, seed=2)[0]
    torch.testing.assert_close(fast(*nxt), ref(*nxt), rtol=1e-5, atol=1e-6)
    _assert_params_close(_params(g, d), _params(g_ref, d_ref))
    # ... and the other way round
    g4, d4 = _models("linear", seed=6)
    g4.load_state_dict(g_ref.state_dict())
    d4.load_state_dict(d_ref.state_dict())
    fast4 = DnaGanStep(g4, d4, LR, LR)
    fast4.load_state_dict(ref.state_dict())
    torch.testing.assert_close(fast4(*nxt), ref(*nxt), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("assign", [False, True])
def test_weights_loaded_into_the_modules_are_what_the_step_trains(assign: bool):
    g, d = _models("linear")
    fast = DnaGanStep(g, d, LR, LR)
    g_ref, d_ref = _models("linear", seed=3)
    g.load_state_dict(g_ref.state_dict(), assign=assign)  # assign=True replaces the tensors
    d.load_state_dict(d_ref.state_dict(), assign=assign)
    ref = AutogradDnaGanStep(g_ref, d_ref, LR, LR)
    for b in _batches(8, 2):
        torch.testing.assert_close(fast(*b), ref(*b), rtol=1e-5, atol=1e-6)
    _assert_params_close(_params(g, d), _params(g_ref, d_ref))


def test_rejects_architectures_it_does_not_implement():
    g, d = _models("linear")
    g.net[1] = nn.Tanh()
    with pytest.raises(ValueError):
        DnaGanStep(g, d, LR, LR)


@pytest.mark.parametrize("head", ["linear", "softmax"])
def test_public_fallbacks_of_the_private_ops_take_the_same_steps(head: str):
    g, d = _models(head)
    g_pub, d_pub = _models(head)
    fast, public = DnaGanStep(g, d, LR, LR), DnaGanStep(g_pub, d_pub, LR, LR, private=False)
    for b in _batches(16, 3):
        torch.testing.assert_close(public(*b), fast(*b), rtol=1e-5, atol=1e-6)
    _assert_params_close(_params(g_pub, d_pub), _params(g, d))
