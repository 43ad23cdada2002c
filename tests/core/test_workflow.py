import platform

import pytest
import torch
from torch import nn

import scigan
from scigan.core import workflow
from scigan.core.casestudy import CaseStudy
from scigan.core.checkpoint import save_checkpoint
from scigan.core.config import RunConfig, StrictModel
from scigan.core.errors import InputError
from scigan.core.rundir import RunDir
from scigan.core.workflow import open_trained_run, resumable_keys, run_info


class Data(StrictModel):
    path: str | None


class Config(RunConfig):
    data: Data
    width: int


CONFIG = {"seed": 0, "device": "cpu", "num_threads": 1, "data": {"path": "x"}, "width": 3}


class Toy(CaseStudy):
    """Only what opening a trained run needs; the rest of the contract is not used here."""

    name, config_model, package = "toy", Config, "scigan"
    default_data = load_data = training_units = generate = save_samples = evaluate = None

    def build_generator(self, config: Config, info: dict) -> nn.Module:
        assert config.width == info["data"]["width"] == 3
        return nn.Linear(2, info["data"]["width"])


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
    run.start(CONFIG, {"data": {"width": 3}})
    generator = nn.Linear(2, 3)
    save_checkpoint(run.checkpoint_file, {"step": 7, "task": {"generator": generator.state_dict()}})
    return run, generator


@pytest.fixture
def toy(tmp_path, monkeypatch):
    case = Toy()
    defaults = tmp_path / "defaults.yaml"
    defaults.write_text("width: 3\n")
    monkeypatch.setattr(case, "defaults_path", lambda: defaults)
    return case


def test_open_trained_run_validates_the_config_sets_threads_and_loads_the_last_weights(
    tmp_path, toy
):
    run, trained = _trained_run(tmp_path)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        opened = open_trained_run(toy, run.path)
        assert opened.config == Config(**CONFIG)
        assert opened.device == torch.device("cpu") and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    assert opened.step == 7 and opened.info == {"data": {"width": 3}}
    for key, value in trained.state_dict().items():
        assert torch.equal(opened.generator.state_dict()[key], value)


def test_open_trained_run_without_a_checkpoint_names_the_train_command(tmp_path, toy):
    run = RunDir(tmp_path / "run")
    run.start(CONFIG, {"data": {}})
    with pytest.raises(InputError, match="scigan train toy --run-dir"):
        workflow.open_trained_run(toy, run.path)
