import platform

import pytest
import torch
from torch import nn

import scigan
from scigan.core.checkpoint import save_checkpoint
from scigan.core.config import StrictModel
from scigan.core.errors import InputError
from scigan.core.rundir import RunDir
from scigan.core.runs import load_generator, open_run, resumable_keys, run_info


class Config(StrictModel):
    seed: int
    device: str
    num_threads: int
    width: int


CONFIG = {"seed": 0, "device": "cpu", "num_threads": 1, "width": 3}


def test_run_info_records_case_versions_data_and_extras():
    assert run_info("toy", {"n": 5}, temperatures=[1.0]) == {
        "case_study": "toy",
        "scigan": scigan.__version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "data": {"n": 5},
        "temperatures": [1.0],
    }


def test_resumable_keys_are_the_named_keys_and_whole_sections():
    config = {"device": "cpu", "train": {"steps": 1, "lr": 2}, "log": {"every": 1, "tb": False}}
    assert resumable_keys(config, {"device", "train.steps"}) == {
        "device",
        "train.steps",
        "log.every",
        "log.tb",
    }
    assert resumable_keys(config, (), ("train", "log")) == {
        "train.steps",
        "train.lr",
        "log.every",
        "log.tb",
    }


def _trained_run(tmp_path) -> tuple[RunDir, nn.Module]:
    run = RunDir(tmp_path / "run")
    run.start(CONFIG, {"data": {"width": 3}})  # no registered case study: config read as saved
    generator = nn.Linear(2, 3)
    save_checkpoint(run.checkpoint_file, {"step": 7, "task": {"generator": generator.state_dict()}})
    return run, generator


def test_open_run_validates_the_config_and_sets_its_threads(tmp_path):
    run, _ = _trained_run(tmp_path)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        cfg, device = open_run(run, Config)
        assert cfg == Config(**CONFIG)
        assert device == torch.device("cpu") and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_load_generator_builds_from_run_info_and_loads_the_last_weights(tmp_path):
    run, trained = _trained_run(tmp_path)

    def build(cfg: Config, info: dict) -> nn.Module:
        assert cfg.width == info["data"]["width"] == 3
        return nn.Linear(2, info["data"]["width"])

    cfg, generator, step = load_generator(run, torch.device("cpu"), "toy", Config, build)
    assert step == 7 and cfg.width == 3
    for key, value in trained.state_dict().items():
        assert torch.equal(generator.state_dict()[key], value)


def test_load_generator_without_a_checkpoint_names_the_train_command(tmp_path):
    run = RunDir(tmp_path / "run")
    run.start(CONFIG, {"data": {}})
    with pytest.raises(InputError, match="scigan train toy --run-dir"):
        load_generator(run, torch.device("cpu"), "toy", Config, lambda cfg, info: nn.Linear(1, 1))
