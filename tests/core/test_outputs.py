"""What commands may write: a run's own files never, an existing file only with --overwrite, a
folder never where a file belongs (scigan.core.outputs), and workflow.sample checks every file
a case study would write before it generates anything."""

from pathlib import Path

import pytest
import torch
from torch import nn

from scigan.core import workflow
from scigan.core.casestudy import CaseStudy
from scigan.core.checkpoint import save_checkpoint
from scigan.core.config import RunConfig, StrictModel
from scigan.core.errors import OutputError
from scigan.core.outputs import (
    check_not_a_folder,
    check_output_file,
    check_output_folder,
    is_run_directory,
    owning_run,
)
from scigan.core.rundir import RunDir


def _run_dir(folder: Path) -> Path:
    """A scigan run directory: config.yaml and run.json (what makes one), and its files."""
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text("seed: 0\n")
    (folder / "run.json").write_text('{"case_study": "toy"}')
    (folder / "checkpoints").mkdir()
    (folder / "checkpoints" / "last.pt").write_bytes(b"weights")
    return folder


OWN = [
    "config.yaml",
    "run.json",
    "log.jsonl",
    "samples.jsonl",
    "metrics.json",
    ".lock",
    "checkpoints/last.pt",
    "checkpoints/new.pt",
    "samples/step_0000010.fasta",
    "figures/losses.png",
    "tb/events.out",
    "groups/00/checkpoints/last.pt",
    "groups/00/log.jsonl",
    "cache/encoder-abc.pt",
    "samples",
]


@pytest.mark.parametrize("inside", OWN)
def test_a_runs_own_files_are_refused_even_with_overwrite(tmp_path, inside):
    run = _run_dir(tmp_path / "run")
    path = run / inside
    assert owning_run(path) == (run, Path(inside))
    for overwrite in (False, True):
        with pytest.raises(OutputError) as exc:
            check_output_file(path, overwrite=overwrite)
        assert (
            exc.value.problem
            == f"--out {path} is one of the scigan run {run}'s own files ({inside})"
        )
        assert exc.value.fix == (
            "choose another --out: a run's config, logs, checkpoints, samples, metrics and figures "
            "are written only by `scigan train` and `scigan evaluate` (docs/runs.md)"
        )
    assert (run / "checkpoints" / "last.pt").read_bytes() == b"weights"


def test_other_paths_in_and_near_a_run_are_not_its_own(tmp_path):
    run = _run_dir(tmp_path / "run")
    for path in (run / "mine.fasta", run / "notes" / "config.yaml", tmp_path / "config.yaml"):
        assert owning_run(path) is None
        assert check_output_file(path) == path
    assert is_run_directory(run) and not is_run_directory(tmp_path)
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "config.yaml").write_text("")  # no run.json: not a run directory
    assert owning_run(tmp_path / "half" / "checkpoints" / "last.pt") is None


def test_a_run_inside_another_runs_folder_and_relative_paths(tmp_path, monkeypatch):
    outer = _run_dir(tmp_path / "outer")
    inner = _run_dir(outer / "samples" / "inner")
    assert owning_run(inner / "config.yaml") == (inner, Path("config.yaml"))
    assert owning_run(inner / "mine.txt") == (outer, Path("samples/inner/mine.txt"))
    monkeypatch.chdir(outer)
    assert owning_run(Path("checkpoints/last.pt")) == (outer, Path("checkpoints/last.pt"))


def test_a_link_into_a_run_is_its_own_file(tmp_path):
    run = _run_dir(tmp_path / "run")
    link = tmp_path / "innocent.pt"
    link.symlink_to(run / "checkpoints" / "last.pt")
    assert owning_run(link) == (run, Path("checkpoints/last.pt"))
    with pytest.raises(OutputError, match="own files"):
        check_output_file(link, overwrite=True)
    folder_link = tmp_path / "elsewhere"
    folder_link.symlink_to(run / "samples", target_is_directory=True)
    assert owning_run(folder_link / "x.fasta") == (run, Path("samples/x.fasta"))


def test_an_existing_file_needs_overwrite(tmp_path):
    path = tmp_path / "samples.fasta"
    path.write_text("keep me")
    with pytest.raises(OutputError) as exc:
        check_output_file(path, option="--out")
    assert exc.value.problem == f"{path} exists"
    assert exc.value.fix == "pass --overwrite to replace it, or choose another --out"
    assert path.read_text() == "keep me"
    assert check_output_file(path, overwrite=True) == path


def test_a_folder_is_not_a_file_and_a_file_is_not_a_folder(tmp_path):
    with pytest.raises(OutputError) as exc:
        check_output_file(tmp_path, overwrite=True)
    assert exc.value.problem == f"--out {tmp_path} is a folder, not a file"
    assert exc.value.fix == f"give the name of the file to write, e.g. --out {tmp_path / 'samples'}"
    with pytest.raises(OutputError, match="is a folder, not a file"):
        check_not_a_folder(tmp_path)
    f = tmp_path / "f.txt"
    f.write_text("")
    with pytest.raises(OutputError) as exc:
        check_output_folder(f, option="--run-dir")
    assert exc.value.problem == f"--run-dir {f} is a file, not a folder"
    assert exc.value.fix == "give a folder (new or existing) to --run-dir"
    with pytest.raises(OutputError) as exc:
        check_output_file(f / "deeper" / "x.fasta")
    assert (
        exc.value.problem
        == f"--out {f / 'deeper' / 'x.fasta'} cannot be written: {f} is a file, not a folder"
    )
    with pytest.raises(OutputError, match="is a file, not a folder"):
        check_output_folder(f / "sub", option="--out")
    assert check_output_folder(tmp_path) == tmp_path
    assert check_output_folder(tmp_path / "new" / "folder") == tmp_path / "new" / "folder"


class Data(StrictModel):
    path: str | None


class Config(RunConfig):
    data: Data


CONFIG = {"seed": 0, "device": "cpu", "num_threads": 1, "data": {"path": "x"}}


class TwoFiles(CaseStudy):
    """Writes OUT.a and OUT.b, as blobs writes OUT.npy and OUT.png."""

    name, config_model, package = "twofiles", Config, "scigan"
    default_data = load_data = training_units = evaluate = None
    generated = 0

    def build_generator(self, config, info) -> nn.Module:
        return nn.Linear(1, 1)

    def sample_paths(self, out: Path) -> list[Path]:
        return [out.with_suffix(".a"), out.with_suffix(".b")]

    def generate(self, trained, n, seed):
        self.generated += 1
        return n

    def save_samples(self, trained, samples, out: Path) -> str:
        for path in self.sample_paths(out):
            path.write_text(f"{samples}\n")
        return f"{out}: {samples}"


@pytest.fixture
def two_files(tmp_path, monkeypatch):
    case = TwoFiles()
    defaults = tmp_path / "defaults.yaml"
    defaults.write_text("seed: 0\n")
    monkeypatch.setattr(case, "defaults_path", lambda: defaults)
    run = RunDir(tmp_path / "run")
    run.start(CONFIG, {"case_study": "twofiles", "data": {}})
    save_checkpoint(
        run.checkpoint_file, {"step": 3, "task": {"generator": nn.Linear(1, 1).state_dict()}}
    )
    return case, run


def test_the_default_sample_paths_are_the_out_file():
    class One(TwoFiles):
        sample_paths = CaseStudy.sample_paths

    assert One().sample_paths(Path("x.fasta")) == [Path("x.fasta")]


def test_sample_checks_every_file_the_case_study_writes_before_generating(tmp_path, two_files):
    case, run = two_files
    (tmp_path / "s.b").write_text("old\n")
    with pytest.raises(OutputError) as exc:
        workflow.sample(case, run.path, 5, tmp_path / "s.txt")
    assert exc.value.problem == f"{tmp_path / 's.b'} exists"
    assert case.generated == 0 and not (tmp_path / "s.a").exists()
    assert (tmp_path / "s.b").read_text() == "old\n"
    assert workflow.sample(case, run.path, 5, tmp_path / "s.txt", overwrite=True) == (
        f"{tmp_path / 's.txt'}: 5"
    )
    assert (tmp_path / "s.a").read_text() == (tmp_path / "s.b").read_text() == "5\n"


def test_sample_refuses_a_folder_and_the_runs_own_files(tmp_path, two_files):
    case, run = two_files
    with pytest.raises(OutputError, match="is a folder, not a file"):
        workflow.sample(case, run.path, 5, tmp_path, overwrite=True)
    before = run.checkpoint_file.read_bytes()
    with pytest.raises(OutputError, match="own files"):
        workflow.sample(case, run.path, 5, run.path / "checkpoints" / "last.pt", overwrite=True)
    assert case.generated == 0 and run.checkpoint_file.read_bytes() == before
    assert torch.load(run.checkpoint_file, weights_only=True)["step"] == 3
