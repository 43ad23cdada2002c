"""Training the Ising GANs: independence of stacked GANs, resume, schedules, options."""

import numpy as np
import pytest
import torch

from scigan.core import workflow
from scigan.core.config import validate
from scigan.core.errors import ConfigError, InputError
from scigan.core.logs import read_jsonl
from scigan.core.registry import load_case_study, resolve_case_config
from scigan.ising.config import IsingGanConfig
from tests.ising.helpers import (
    draw_lattices,
    gan_config,
    gan_task,
    group_checkpoint,
    trained_groups,
)


def test_a_temperature_trains_the_same_in_any_group(small_ising, tmp_path):
    case = load_case_study("ising")
    workflow.train(
        case, gan_config(small_ising, "train.group_size=3"), tmp_path / "one", None, False
    )
    workflow.train(
        case, gan_config(small_ising, "train.group_size=2"), tmp_path / "two", None, False
    )
    together, alone = group_checkpoint(tmp_path / "one", 0), group_checkpoint(tmp_path / "two", 1)
    # T = 3.0 is model 2 of group 0 in the first run, model 0 of group 1 in the second
    for key, value in alone["task"]["generator"].items():
        torch.testing.assert_close(
            together["task"]["generator"][key][2:3], value, atol=1e-5, rtol=1e-4
        )
    for key, value in alone["task"]["critic"].items():
        torch.testing.assert_close(
            together["task"]["critic"][key][2:3], value, atol=1e-5, rtol=1e-4
        )


PHYSICS_MODELS = (
    "model.generator=mlp",
    "model.generator_hidden=[16,16]",
    "model.critic_pool=meanmax",
    "model.critic_physics_features=true",
    "model.straight_through=true",
    "train.engine=autograd",
    "train.lr_schedule=linear",
    "train.generator_average=0.9",
    "model.sign_fold=true",
)


CONV_GENERATOR = ("model.generator=conv", "model.generator_hidden=[4,4]", "train.engine=autograd")


@pytest.mark.parametrize("extra", [(), PHYSICS_MODELS, CONV_GENERATOR])
def test_resumed_run_is_identical_to_uninterrupted(small_ising, tmp_path, extra):
    case = load_case_study("ising")
    cfg = gan_config(small_ising, "train.group_size=2", *extra)
    workflow.train(case, cfg, tmp_path / "straight", None, False)
    workflow.train(case, cfg, tmp_path / "split", 3, False)
    assert group_checkpoint(tmp_path / "split", 1)["step"] == 3  # every group stopped at 3
    workflow.train(case, cfg, tmp_path / "split", None, False)
    for group in (0, 1):
        a, b = (
            group_checkpoint(tmp_path / "straight", group),
            group_checkpoint(tmp_path / "split", group),
        )
        assert a["step"] == b["step"] == 4
        for part in ("generator", "critic"):
            for key, value in a["task"][part].items():
                assert torch.equal(value, b["task"][part][key]), (group, part, key)
        logs = [
            read_jsonl(run / "groups" / f"{group:02d}" / "log.jsonl")
            for run in (tmp_path / "straight", tmp_path / "split")
        ]
        assert logs[0] == logs[1]
        assert [r["step"] for r in logs[0]] == [1, 2, 3, 4]
        assert {k.split("/")[0] for k in logs[0][0] if k != "step"} == {
            "critic_wasserstein",
            "critic_gp",
            "critic_total",
            "generator",
        }


def test_conditional_run_generates_between_grid_points(small_ising, tmp_path):
    case = load_case_study("ising")
    workflow.train(
        case, gan_config(small_ising, "model.conditional=true"), tmp_path / "c", None, False
    )

    temps, lattices = draw_lattices(tmp_path / "c", 5, temperatures=[1.55])
    assert temps.tolist() == [1.55]
    assert lattices.shape == (1, 5, 4, 4) and set(np.unique(lattices)) <= {-1, 1}
    workflow.train(case, gan_config(small_ising, "train.steps=1"), tmp_path / "p", None, False)
    with pytest.raises(InputError):  # per-temperature GANs exist at their grid points only
        draw_lattices(tmp_path / "p", 5, temperatures=[1.55])


def test_epochs_set_the_step_count(small_ising, tmp_path):
    # 128 training lattices per T // batch 8 = 16 steps per epoch; 0.25 epochs = 4 steps
    case = load_case_study("ising")
    cfg = resolve_case_config(
        case,
        None,
        [f"data.path={small_ising}", "train.epochs=0.25", "train.batch_size=8", "num_threads=1"],
    )
    summary = workflow.train(case, cfg, tmp_path / "e", None, False).summary
    assert "step 4/4" in summary


def test_physics_recipe_is_a_conditional_nonlinear_model(small_ising, tmp_path):
    case = load_case_study("ising")
    cfg = resolve_case_config(case, "physics", [f"data.path={small_ising}"])
    m = validate(IsingGanConfig, cfg).model
    assert (m.conditional, m.generator, m.critic_pool) == (True, "mlp", "meanmax")
    short = resolve_case_config(
        case, "physics", [f"data.path={small_ising}", "train.steps=2", "train.batch_size=8"]
    )
    workflow.train(case, short, tmp_path / "p", None, False)

    temps, lattices = draw_lattices(tmp_path / "p", 5, temperatures=[1.55])
    assert lattices.shape == (1, 5, 4, 4) and set(np.unique(lattices)) <= {-1, 1}


def test_generator_average_and_linear_schedule(small_ising, tmp_path):
    a = gan_task(
        small_ising, "autograd", "train.generator_average=0.75", "train.lr_schedule=linear"
    )
    start = {k: v.clone() for k, v in a.generator.state_dict().items()}
    a.train_step()
    assert a.step.opt_g.param_groups[0]["lr"] == pytest.approx(1e-4)  # factor 1 at step 0
    after = a.generator.state_dict()
    for key, value in a.generator_average.state_dict().items():  # 0.75 start + 0.25 after
        torch.testing.assert_close(value, 0.75 * start[key] + 0.25 * after[key])
    a.train_step()
    assert a.step.opt_g.param_groups[0]["lr"] == pytest.approx(1e-4 * 3 / 4)  # 4 steps
    assert a.step.opt_d.param_groups[0]["lr"] == pytest.approx(1e-3 * 3 / 4)
    # sampling and evaluation use the averaged weights
    case = load_case_study("ising")
    cfg = gan_config(small_ising, "train.generator_average=0.75", "train.group_size=3")
    workflow.train(case, cfg, tmp_path / "avg", None, False)

    _, groups = trained_groups(tmp_path / "avg")
    saved = group_checkpoint(tmp_path / "avg")["task"]["generator_average"]
    assert groups[0].averaged and groups[0].step == 4
    for key, value in groups[0].generator.state_dict().items():
        assert torch.equal(value, saved[key])


def test_a_run_made_before_newer_options_still_resumes_and_samples(small_ising, tmp_path):
    import yaml

    from scigan.core.config import read_yaml
    from scigan.core.rundir import RunDir

    case = load_case_study("ising")
    cfg = gan_config(small_ising, "train.steps=2")
    workflow.train(case, cfg, tmp_path / "old", None, False)
    # the config.yaml an older release wrote: none of the options added since
    saved = yaml.safe_load((tmp_path / "old" / "config.yaml").read_text())
    for key in ("generator", "generator_hidden", "critic_pool", "critic_physics_features"):
        del saved["model"][key]
    del saved["train"]["generator_average"], saved["train"]["lr_schedule"]
    del saved["train"]["lr_decay_start"]
    (tmp_path / "old" / "config.yaml").write_text(yaml.safe_dump(saved))
    assert RunDir(tmp_path / "old").read_config(read_yaml(case.defaults_path())) == cfg
    workflow.train(case, gan_config(small_ising, "train.steps=3"), tmp_path / "old", None, False)
    assert group_checkpoint(tmp_path / "old")["step"] == 3
    _, lattices = draw_lattices(tmp_path / "old", 2)
    assert lattices.shape[1] == 2


def test_generator_average_switched_on_at_resume_starts_from_the_weights_there(
    small_ising, tmp_path
):
    case = load_case_study("ising")
    run = tmp_path / "run"
    workflow.train(case, gan_config(small_ising, "train.group_size=3"), run, 3, False)
    at_three = group_checkpoint(run)["task"]["generator"]
    workflow.train(
        case,
        gan_config(small_ising, "train.group_size=3", "train.generator_average=0.5"),
        run,
        4,
        False,
    )
    state = group_checkpoint(run)["task"]
    for key, value in state["generator_average"].items():  # 0.5 step-3 weights + 0.5 step-4
        torch.testing.assert_close(value, 0.5 * at_three[key] + 0.5 * state["generator"][key])
    # and training itself is the same as a run that never had the average
    workflow.train(
        case, gan_config(small_ising, "train.group_size=3"), tmp_path / "plain", None, False
    )
    plain = group_checkpoint(tmp_path / "plain")["task"]
    for part in ("generator", "critic"):
        for key, value in plain[part].items():
            assert torch.equal(value, state[part][key]), (part, key)


def test_linear_schedule_from_a_later_step(small_ising):
    a = gan_task(small_ising, "autograd", "train.lr_schedule=linear", "train.lr_decay_start=2")
    rates = []
    for _ in range(4):  # 4 steps: constant for steps 0-2, then half for the last
        a.train_step()
        rates.append(a.step.opt_g.param_groups[0]["lr"])
    assert rates == pytest.approx([1e-4, 1e-4, 1e-4, 0.5e-4])
    with pytest.raises(ConfigError, match="lr_decay_start 4 is not before"):
        gan_task(small_ising, "autograd", "train.lr_schedule=linear", "train.lr_decay_start=4")


def test_sign_fold_trains_on_folded_lattices_and_samples_both_signs(small_ising, tmp_path):
    from scigan.ising.augmentation import fold_sign
    from scigan.ising.task import generate, stream_seeds

    task = gan_task(small_ising, "autograd", "model.sign_fold=true", "train.critic_steps=1")
    seen = []
    critic_forward = task.critic.forward

    def spy(x, *args):
        seen.append(x.detach().clone())
        return critic_forward(x, *args)

    task.critic.forward = spy
    task.train_step()
    for x in seen[:1]:  # the critic update's real and generated lattices, all folded
        assert (x.sum(dim=(-2, -1)) >= 0).all()
    case = load_case_study("ising")
    cfg = gan_config(small_ising, "model.sign_fold=true", "train.group_size=3")
    workflow.train(case, cfg, tmp_path / "run", None, False)
    _, lattices = draw_lattices(tmp_path / "run", 50)
    # each lattice is its folded output times a random sign drawn after its noise
    _, groups = trained_groups(tmp_path / "run")
    generator, seed = groups[0].generator, stream_seeds(0, 0)["sample"]
    rng = torch.Generator().manual_seed(seed)
    z = torch.randn(50, generator.noise_dim, generator=rng)
    signs = torch.randint(0, 2, (50,), generator=rng) * 2 - 1
    assert set(signs.tolist()) == {-1, 1}
    with torch.no_grad():
        folded = fold_sign(generator(torch.stack([z, z, z])))[0]
    expected = torch.where(folded * signs[:, None, None] >= 0, 1, -1).to(torch.int8)
    assert torch.equal(torch.from_numpy(lattices[0]), expected)  # T = 1.0 is model 0
    got = generate(generator, 50, [seed] * 3, torch.device("cpu"), sign_fold=True)[0]
    assert torch.equal(torch.from_numpy(got), expected)


def test_sign_fold_refuses_flip_augmentation(small_ising):
    with pytest.raises(ConfigError, match="data.augment flip does nothing with model.sign_fold"):
        gan_task(small_ising, "autograd", "model.sign_fold=true", "data.augment=[flip]")
