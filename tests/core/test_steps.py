import pytest
import torch
from torch import nn

from scigan.core.steps import (
    OptimizerPair,
    adam_step,
    descend,
    frozen,
    fused_adam,
    linear_decay,
    update_average,
)


def test_frozen_lets_gradients_through_but_not_into_weights():
    layer, x = nn.Linear(2, 1), torch.ones(1, 2, requires_grad=True)
    with frozen(layer):
        layer(x).sum().backward()
    assert layer.weight.grad is None
    torch.testing.assert_close(x.grad, layer.weight.detach())
    assert layer.weight.requires_grad


def test_frozen_restores_requires_grad_on_error():
    layer = nn.Linear(2, 1)
    with pytest.raises(RuntimeError), frozen(layer):
        raise RuntimeError("boom")
    assert all(p.requires_grad for p in layer.parameters())


def test_descend_sums_stacked_losses_and_steps():
    w = nn.Parameter(torch.tensor([1.0, 2.0]))
    descend(torch.optim.SGD([w], lr=0.5), w * 2.0)  # d(sum 2w)/dw = 2 -> w - 1
    torch.testing.assert_close(w.detach(), torch.tensor([0.0, 1.0]))


def test_update_average_is_an_exponential_moving_average():
    average, model = nn.Linear(2, 1), nn.Linear(2, 1)
    with torch.no_grad():
        average.weight.fill_(1.0), average.bias.fill_(0.0)
        model.weight.fill_(3.0), model.bias.fill_(-4.0)
    update_average(average, model, decay=0.75)
    torch.testing.assert_close(average.weight, torch.full((1, 2), 1.5))
    torch.testing.assert_close(average.bias, torch.full((1,), -1.0))
    assert model.weight[0, 0].item() == 3.0  # the model is untouched


def test_linear_decay_factors():
    assert [linear_decay(s, 4) for s in range(4)] == [1.0, 0.75, 0.5, 0.25]
    assert linear_decay(10, 4) == 0.25  # past the end: the last factor
    assert [linear_decay(s, 6, start=2) for s in range(7)] == [1, 1, 1, 0.75, 0.5, 0.25, 0.25]


def test_optimizer_pair_state_round_trips_both_optimizers():
    class Step(OptimizerPair):
        def __init__(self, lr_g: float, lr_d: float):
            self.g, self.d = nn.Linear(2, 2), nn.Linear(2, 1)
            self.opt_g = torch.optim.Adam(self.g.parameters(), lr=lr_g)
            self.opt_d = torch.optim.Adam(self.d.parameters(), lr=lr_d)

    a = Step(1e-3, 1e-2)
    descend(a.opt_g, a.g(torch.ones(3, 2)).sum())
    descend(a.opt_d, a.d(torch.ones(3, 2)).sum())
    b = Step(5.0, 5.0)
    b.load_state_dict(a.state_dict())
    assert set(a.state_dict()) == {"opt_g", "opt_d"}
    assert b.opt_g.param_groups[0]["lr"] == 1e-3 and b.opt_d.param_groups[0]["lr"] == 1e-2
    for name in ("opt_g", "opt_d"):
        sa, sb = getattr(a, name).state_dict(), getattr(b, name).state_dict()
        assert sorted(sa["state"]) == sorted(sb["state"]) == [0, 1]
        for k in sa["state"]:
            for key in ("step", "exp_avg", "exp_avg_sq"):
                torch.testing.assert_close(sb["state"][k][key], sa["state"][k][key])


def _two_adams(**options):
    torch.manual_seed(0)
    models = [nn.Sequential(nn.Linear(5, 7), nn.Linear(7, 2)) for _ in range(2)]
    models[1].load_state_dict(models[0].state_dict())
    opts = [torch.optim.Adam(m.parameters(), lr=1e-2, **options) for m in models]
    return models, opts


@pytest.mark.parametrize("options", [{"fused": True}, {"fused": True, "weight_decay": 0.1}, {}])
def test_adam_step_is_bitwise_optimizer_step(options):
    models, opts = _two_adams(**options)
    for step in range(4):
        x = torch.randn(3, 5)
        for group in opts[0].param_groups + opts[1].param_groups:
            group["lr"] = 1e-2 / (step + 1)  # a schedule changes lr between steps
        for model, opt, update in zip(models, opts, (lambda o: o.step(), adam_step), strict=True):
            opt.zero_grad(set_to_none=True)
            model(x).square().sum().backward()
            update(opt)
    for a, b in zip(models[0].parameters(), models[1].parameters(), strict=True):
        assert torch.equal(a, b)
    sa, sb = opts[0].state_dict()["state"], opts[1].state_dict()["state"]
    assert sa.keys() == sb.keys()
    for key in sa:
        for name in ("step", "exp_avg", "exp_avg_sq"):
            assert torch.equal(sa[key][name], sb[key][name])


def test_adam_step_leaves_parameters_without_gradients_alone():
    models, opts = _two_adams(fused=True)
    model, opt = models[0], opts[0]
    model(torch.randn(3, 5)).sum().backward()
    adam_step(opt)  # first step: creates the state through optimizer.step()
    frozen_layer = [p.detach().clone() for p in model[0].parameters()]
    for p in model[0].parameters():
        p.grad = None
    adam_step(opt)
    for before, p in zip(frozen_layer, model[0].parameters(), strict=True):
        assert torch.equal(before, p)
        assert opt.state[p]["step"].item() == 1
    assert all(opt.state[p]["step"].item() == 2 for p in model[1].parameters())


def test_fused_adam_uses_the_fused_kernel_on_cpu():
    model = nn.Linear(3, 2)
    opt = fused_adam(model.parameters(), 1e-3, (0.5, 0.9), 1e-7)
    (group,) = opt.param_groups
    assert group["fused"] is True
    assert (group["lr"], group["betas"], group["eps"]) == (1e-3, (0.5, 0.9), 1e-7)
    assert group["params"] == list(model.parameters())
