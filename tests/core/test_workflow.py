import copy
import platform
import signal
from types import SimpleNamespace

import pytest
import torch
from torch import nn

import scigan
from scigan.core import workflow
from scigan.core.casestudy import CaseStudy, TrainingUnit
from scigan.core.checkpoint import save_checkpoint
from scigan.core.config import RunConfig, StrictModel
from scigan.core.errors import InputError
from scigan.core.rundir import RunDir
from scigan.core.trainer import LoopSettings
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


def test_sample_file_defaults_to_samples_and_each_case_study_names_its_format():
    from scigan.blobs.casestudy import BlobsCaseStudy
    from scigan.dna.casestudy import DnaCaseStudy
    from scigan.ising.casestudy import IsingCaseStudy

    assert CaseStudy.sample_file == Toy.sample_file == "samples"
    assert DnaCaseStudy.sample_file == "samples.fasta"
    assert BlobsCaseStudy.sample_file == "samples.npy"
    assert IsingCaseStudy.sample_file == "samples.npz"


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


# --- the summary line of a run with several training units ----------------------------------


class CountingTask:
    """The smallest GANTask: one number, one "loss" per step."""

    def __init__(self, interrupt_at: int | None = None):
        self.value, self.interrupt_at = torch.zeros(()), interrupt_at

    def train_step(self) -> dict:
        self.value = self.value + 1
        if self.value.item() == self.interrupt_at:  # as if Ctrl-C came during this step
            signal.raise_signal(signal.SIGINT)
        return {"loss": self.value.clone()}

    def state_dict(self) -> dict:
        return {"value": self.value.clone()}

    def load_state_dict(self, state: dict) -> None:
        self.value = state["value"].clone()

    def write_samples(self, step: int, directory) -> None:
        pass


class Units(Toy):
    """A plug-in whose run trains several units, in the run directory or in sub-runs."""

    name = "units"

    def __init__(self, subdirs: list[str | None], interrupt_first: bool = False):
        self.subdirs, self.interrupt_first = subdirs, interrupt_first

    def load_data(self, config):
        return SimpleNamespace(meta={"width": 3})

    def training_units(self, config, data, device) -> list[TrainingUnit]:
        settings = LoopSettings(steps=2, log_every=1, sample_every=0, tensorboard=False)
        return [
            TrainingUnit(
                lambda first=(i == 0): CountingTask(2 if first and self.interrupt_first else None),
                settings,
                subdir=subdir,
                name=f"unit {i}",
                models=i + 1,  # unit i stacks i + 1 GANs
            )
            for i, subdir in enumerate(self.subdirs)
        ]


def _units(tmp_path, monkeypatch, *args) -> Units:
    case = Units(*args)
    defaults = tmp_path / "defaults.yaml"
    defaults.write_text("width: 3\n")
    monkeypatch.setattr(case, "defaults_path", lambda: defaults)
    return case


@pytest.mark.parametrize(
    ("subdirs", "losses"),
    [
        ([None, None], "{run}/log.jsonl"),
        (["groups/00", "groups/01", "groups/02"], "{run}/groups/*/log.jsonl"),
        ([None, "extra/b"], "{run}/log.jsonl, {run}/extra/b/log.jsonl"),
        (["groups/00", "groups/01", "last"], "{run}/groups/*/log.jsonl, {run}/last/log.jsonl"),
    ],
    ids=["in-the-run", "sub-runs", "run-and-sub-run", "sub-runs-and-one-more"],
)
def test_a_multi_unit_summary_names_the_log_files_that_exist(
    tmp_path, monkeypatch, subdirs, losses
):
    case = _units(tmp_path, monkeypatch, subdirs)
    run = tmp_path / "run"
    outcome = workflow.train(case, copy.deepcopy(CONFIG), run, progress=False)
    parts = "; ".join(f"unit {i}: step 2/2" for i in range(len(subdirs)))
    assert outcome.summary == (
        f"{run}: {parts} (new run; done) on cpu with 1 thread(s); "
        f"losses in {losses.format(run=run)}"
    )
    assert not outcome.interrupted
    # 2 steps of 1, 2, ... stacked GANs; a unit sharing an earlier one's folder finds it done
    firsts = [i for i, d in enumerate(subdirs) if d not in subdirs[:i]]
    assert outcome.gan_steps == sum(2 * (i + 1) for i in firsts)


def test_a_multi_unit_summary_after_an_interruption_names_only_the_logs_written(
    tmp_path, monkeypatch
):
    case = _units(tmp_path, monkeypatch, ["groups/00", "groups/01"], True)
    run = tmp_path / "run"
    outcome = workflow.train(case, copy.deepcopy(CONFIG), run, progress=False)
    assert outcome.interrupted
    assert outcome.summary == (
        f"{run}: unit 0: step 2/2 (new run; interrupted; checkpoint saved, run again to resume) "
        f"on cpu with 1 thread(s); losses in {run}/groups/00/log.jsonl"
    )
    assert not (run / "groups" / "01").exists()
