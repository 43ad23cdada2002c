from pathlib import Path

import pytest
import torch

from scigan.core import workflow
from scigan.core.errors import ConfigError
from scigan.core.logs import read_jsonl
from scigan.core.registry import load_case_study, resolve_case_config
from scigan.dna.data import build_dataset, save_dataset

ENGINES = ["autograd", "fused"]


@pytest.fixture(scope="module")
def data_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "windows.h5"
    save_dataset(build_dataset(), path)
    return path


def _config(data_file: Path, *extra: str) -> dict:
    case = load_case_study("dna")
    sets = [
        f"data.path={data_file}",
        "log.checkpoint_every=5",
        "log.every=4",
        "log.sample_every=10",
        "log.tensorboard=false",
        "train.steps=24",
        *extra,
    ]
    return resolve_case_config(case, None, sets)


def _final(run: Path) -> dict:
    return torch.load(run / "checkpoints" / "last.pt", weights_only=True)


WGAN_GP = ("train.engine=autograd", "train.loss=wgan_gp", "train.critic_steps=3")
RECIPES = {"autograd": ("train.engine=autograd",), "fused": ("train.engine=fused",)}
RECIPES["wgan_gp"] = WGAN_GP


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_resumed_run_is_identical_to_uninterrupted(tmp_path: Path, data_file: Path, recipe):
    case = load_case_study("dna")
    extra = RECIPES[recipe]
    workflow.train(case, _config(data_file, *extra), tmp_path / "straight", None, False)
    workflow.train(case, _config(data_file, *extra), tmp_path / "split", 11, False)
    assert _final(tmp_path / "split")["step"] == 11
    workflow.train(case, _config(data_file, *extra), tmp_path / "split", None, False)
    a, b = _final(tmp_path / "straight"), _final(tmp_path / "split")
    assert a["step"] == b["step"] == 24
    for part in ("generator", "discriminator"):
        for key, value in a["task"][part].items():
            assert torch.equal(value, b["task"][part][key]), (part, key)
    assert torch.equal(a["task"]["rng"], b["task"]["rng"])
    assert read_jsonl(tmp_path / "straight" / "log.jsonl") == read_jsonl(
        tmp_path / "split" / "log.jsonl"
    )
    assert sorted(p.name for p in (tmp_path / "split" / "samples").iterdir()) == [
        "step_0000010.fasta",
        "step_0000020.fasta",
    ]


def test_changed_config_is_refused(tmp_path: Path, data_file: Path):
    case = load_case_study("dna")
    workflow.train(case, _config(data_file, "train.engine=autograd"), tmp_path, 3, False)
    with pytest.raises(
        ConfigError, match=r"(?s)different config.*train.lr_generator.*new --run-dir"
    ):
        workflow.train(
            case,
            _config(data_file, "train.engine=autograd", "train.lr_generator=0.01"),
            tmp_path,
            None,
            False,
        )
    # more steps and another device setting are allowed
    workflow.train(
        case,
        _config(data_file, "train.engine=autograd", "train.steps=30", "device=cpu"),
        tmp_path,
        5,
        False,
    )
    assert _final(tmp_path)["step"] == 5


def test_same_seed_same_run_other_seed_other_run(tmp_path: Path, data_file: Path):
    case = load_case_study("dna")
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        workflow.train(
            case,
            _config(data_file, "train.engine=autograd", f"seed={seed}"),
            tmp_path / name,
            3,
            False,
        )
    w = {n: _final(tmp_path / n)["task"]["generator"]["net.0.weight"] for n in "abc"}
    assert torch.equal(w["a"], w["b"])
    assert not torch.equal(w["a"], w["c"])


def test_wgan_gp_needs_the_autograd_engine(tmp_path: Path, data_file: Path):
    case = load_case_study("dna")
    config = _config(data_file, "train.loss=wgan_gp", "train.engine=fused")
    with pytest.raises(ConfigError, match="wgan_gp runs on the autograd engine"):
        workflow.train(case, config, tmp_path / "run", None, False)


def test_the_wgan_gp_recipe_is_a_bundled_config(tmp_path: Path, data_file: Path):
    from scigan.core.config import validate
    from scigan.dna.config import DnaConfig
    from scigan.dna.models import count_parameters
    from scigan.dna.train import build_models

    case = load_case_study("dna")
    config = resolve_case_config(case, "wgan-gp", [f"data.path={data_file}", "train.steps=4"])
    cfg = validate(DnaConfig, config)
    assert (cfg.train.loss, cfg.train.critic_steps, cfg.model.head) == ("wgan_gp", 5, "softmax")
    generator, discriminator = build_models(cfg, 60)
    # the thesis's sizes (Tables 2-3): the recipe changes the training, not the models
    assert (count_parameters(generator), count_parameters(discriminator)) == (
        25_856 + 131_584 + 123_120,
        123_392 + 131_328 + 257,
    )
    workflow.train(case, config, tmp_path / "run", None, False)
    rows = read_jsonl(tmp_path / "run" / "log.jsonl")
    assert [r["step"] for r in rows] == [1, 2, 3, 4] and set(rows[0]) == {
        "step",
        "loss_d",
        "loss_g",
    }
