"""A stack of a sweep's points (IsingGanTask members): each point's part of the stack is what
training that point alone gives, bit for bit."""

import io

import pytest
import torch

from scigan.core.config import validate
from scigan.ising.config import IsingGanConfig
from scigan.ising.data import load_data
from scigan.ising.task import IsingGanTask, stack_member_state
from tests.ising.helpers import gan_config

# settings in which the stacked points differ: every stack key of the case study
MEMBERS = (
    ("train.lr_critic=1e-3", "train.lr_generator=1e-4", "seed=0"),
    ("train.lr_critic=3e-4", "train.lr_generator=1e-3", "seed=0", "train.gp_weight=5.0"),
    ("train.lr_critic=1e-3", "train.adam_betas=[0.5,0.9]", "seed=7", "train.adam_eps=1e-8"),
)


def assert_same(a, b, where="state"):
    """Nested state dicts equal exactly: tensors bitwise, everything else =="""
    if isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert torch.equal(a, b), where
    elif isinstance(a, dict):
        assert isinstance(b, dict), where
        assert a.keys() == b.keys(), where
        for key in a:
            assert_same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list | tuple):
        assert type(a) is type(b), where
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    else:
        assert type(a) is type(b) and a == b, where


def _task(data, configs, steps):
    d = load_data(data, configs[0].data.heldout_fraction, None)
    task = IsingGanTask(
        configs[0], d.temperatures, d.indices, d.train, torch.device("cpu"), configs
    )
    losses = [task.train_step() for _ in range(steps)]
    return task, losses


@pytest.mark.parametrize("engine", ["fused", "autograd"])
@pytest.mark.parametrize("schedule", ["constant", "linear"])
def test_a_stacked_point_trains_exactly_as_alone(small_ising, engine, schedule):
    extra = (f"train.engine={engine}", f"train.lr_schedule={schedule}", "train.steps=3")
    configs = [
        validate(IsingGanConfig, gan_config(small_ising, *extra, *member)) for member in MEMBERS
    ]
    stack, stacked_losses = _task(small_ising, configs, 3)
    state = stack.state_dict()
    for b, cfg in enumerate(configs):
        alone, losses = _task(small_ising, [cfg], 3)
        member = stack_member_state(state, b, len(configs), cfg)
        assert_same(member, alone.state_dict(), f"member {b}")
        for step, (mine, theirs) in enumerate(zip(stacked_losses, losses, strict=True)):
            named = {k.removesuffix(f"@{b}"): v for k, v in mine.items() if k.endswith(f"@{b}")}
            assert_same(named, theirs, f"losses of step {step}")


def test_a_stack_resumes_exactly(small_ising):
    configs = [validate(IsingGanConfig, gan_config(small_ising, *m)) for m in MEMBERS[:2]]
    stack, _ = _task(small_ising, configs, 2)
    resumed, _ = _task(small_ising, configs, 0)
    buffer = io.BytesIO()  # through a file's bytes, as a checkpoint: no tensor is shared
    torch.save(stack.state_dict(), buffer)
    buffer.seek(0)
    resumed.load_state_dict(torch.load(buffer, weights_only=True))
    for task in (stack, resumed):
        task.train_step()
    assert_same(resumed.state_dict(), stack.state_dict())
