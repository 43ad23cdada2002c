"""The command line: user mistakes end in one clear message and exit code 2, not a traceback."""

import shutil
from pathlib import Path

import pytest

from scigan.cli import main


def _run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
        raise SystemExit(0)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_data_dna_writes_windows(tmp_path: Path, capsys):
    code, out, _ = _run(capsys, "data", "dna", "--out", str(tmp_path))
    assert code == 0
    assert "26854 training and 2931 held-out windows of 60 nt from MN908947.3" in out
    assert (tmp_path / "windows.h5").is_file()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ("just text\n", "does not look like fasta"),
        (">x\nACGT\n", "no record is at least 60 nt"),
    ],
)
def test_data_dna_bad_files(tmp_path: Path, capsys, content, message):
    f = tmp_path / "in.fa"
    f.write_text(content)
    code, _, err = _run(capsys, "data", "dna", "--fasta", str(f), "--out", str(tmp_path / "o"))
    assert code == 2
    assert message in err and "fix:" in err and "Traceback" not in err


def test_unknown_case_study_and_config_key(tmp_path: Path, capsys):
    code, _, err = _run(capsys, "train", "proteins", "--run-dir", str(tmp_path / "r"))
    assert code == 2 and "unknown case study 'proteins'" in err
    code, _, err = _run(
        capsys, "train", "dna", "--set", "train.stepz=3", "--run-dir", str(tmp_path / "r")
    )
    assert code == 2 and "unknown config key 'train.stepz'" in err
    code, _, err = _run(
        capsys, "train", "dna", "--config", "nonexistent", "--run-dir", str(tmp_path / "r")
    )
    assert code == 2 and "neither a file nor a bundled recipe" in err


def test_train_sample_end_to_end(tmp_path: Path, capsys):
    _run(capsys, "data", "dna", "--out", str(tmp_path / "d"))
    run = tmp_path / "run"
    code, out, _ = _run(
        capsys,
        "train",
        "dna",
        "--data",
        str(tmp_path / "d" / "windows.h5"),
        "--run-dir",
        str(run),
        "--max-steps",
        "5",
        "--no-progress",
        "--config",
        "softmax",
        "--set",
        "log.tensorboard=false",
    )
    assert code == 0 and "step 5/10000" in out
    code, out, _ = _run(capsys, "sample", str(run), "-n", "7", "--out", str(tmp_path / "s.fasta"))
    assert code == 0
    lines = (tmp_path / "s.fasta").read_text().splitlines()
    assert len(lines) == 14 and all(
        len(seq) == 60 and set(seq) <= set("ATCG") for seq in lines[1::2]
    )


def test_sample_from_a_non_run_is_a_clear_error(tmp_path: Path, capsys):
    code, _, err = _run(capsys, "sample", str(tmp_path), "-n", "3")
    assert code == 2 and "not a scigan run directory" in err


# --- what commands write, and what they refuse (docs/runs.md) ---------------------------------

PROTECTED_FIX = (
    "choose another {option}: a run's config, logs, checkpoints, samples, metrics and figures "
    "are written only by `scigan train` and `scigan evaluate` (docs/runs.md)"
)
RUN_FILE_FIX = (
    "restore {file} as `scigan train` wrote it (e.g. from a backup), or start a new run with "
    "another --run-dir"
)


def _train_args(data: Path, run: Path) -> list[str]:
    sets = ["log.tensorboard=false", "train.steps=2", "num_threads=1", "log.sample_every=1"]
    sets += ["evaluate.c2st=false", "evaluate.loglik_max_order=2", "evaluate.markov_orders=[1]"]
    return [
        "train", "dna", "--data", str(data), "--run-dir", str(run), "--no-progress",
        "--config", "softmax", *[x for s in sets for x in ("--set", s)],
    ]  # fmt: skip


@pytest.fixture(scope="module")
def data_files(tmp_path_factory) -> dict[str, Path]:
    """One tiny data file of each case study."""
    from tests.data_kinds import KINDS, tiny_data_file

    root = tmp_path_factory.mktemp("data")
    return {kind: tiny_data_file(kind, root / kind) for kind in KINDS}


@pytest.fixture(scope="module")
def genome_windows(tmp_path_factory) -> Path:
    """The bundled genome's windows (`scigan data dna`)."""
    from scigan.dna.data import build_dataset, save_dataset

    path = tmp_path_factory.mktemp("genome") / "windows.h5"
    save_dataset(build_dataset(), path)
    return path


@pytest.fixture(scope="module")
def trained_dna(genome_windows, tmp_path_factory) -> Path:
    """A DNA run trained two steps (checkpoint, log, samples), evaluated once."""
    import torch

    threads = torch.get_num_threads()
    run = tmp_path_factory.mktemp("trained") / "run"
    try:
        for args in (
            _train_args(genome_windows, run),
            ["evaluate", str(run), "-n", "8", "--no-progress"],
        ):
            with pytest.raises(SystemExit) as exc:
                main(args)
            assert exc.value.code == 0
    finally:
        torch.set_num_threads(threads)
    return run


@pytest.fixture
def dna_run(trained_dna, tmp_path) -> Path:
    """A copy of the trained run, for a test to spoil."""
    run = tmp_path / "run"
    shutil.copytree(trained_dna, run)
    return run


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _error(problem: str, fix: str) -> str:
    return f"error: {problem}\n  fix: {fix}\n"


@pytest.mark.parametrize("flags", [[], ["--overwrite"]], ids=["plain", "overwrite"])
@pytest.mark.parametrize(
    "inside",
    ["checkpoints/last.pt", "config.yaml", "run.json", "log.jsonl", "metrics.json", ".lock",
     "samples/new.fasta", "figures/losses.png", "tb/x", "groups/00/log.jsonl"],
)  # fmt: skip
def test_sample_never_writes_over_a_runs_own_files(dna_run, capsys, inside, flags):
    before = _files(dna_run)
    assert "checkpoints/last.pt" in before and "metrics.json" in before
    target = dna_run / inside
    code, out, err = _run(capsys, "sample", str(dna_run), "-n", "3", "--out", str(target), *flags)
    assert (code, out) == (2, "")
    assert err == _error(
        f"--out {target} is one of the scigan run {dna_run}'s own files ({inside})",
        PROTECTED_FIX.format(option="--out"),
    )
    assert _files(dna_run) == before  # byte for byte


def test_sample_never_writes_into_another_runs_files(dna_run, trained_dna, capsys):
    before = _files(trained_dna)
    target = trained_dna / "checkpoints" / "last.pt"
    code, _, err = _run(capsys, "sample", str(dna_run), "--out", str(target), "--overwrite")
    assert code == 2 and f"is one of the scigan run {trained_dna}'s own files" in err
    assert _files(trained_dna) == before


def test_sample_refuses_an_existing_file_unless_overwrite(dna_run, tmp_path, capsys):
    out = tmp_path / "s.fasta"
    out.write_text("keep me\n")
    code, stdout, err = _run(capsys, "sample", str(dna_run), "-n", "3", "--out", str(out))
    assert (code, stdout) == (2, "")
    assert err == _error(f"{out} exists", "pass --overwrite to replace it, or choose another --out")
    assert out.read_text() == "keep me\n"
    code, stdout, _ = _run(
        capsys, "sample", str(dna_run), "-n", "3", "--out", str(out), "--overwrite"
    )
    assert code == 0 and stdout.startswith(f"{out}: 3 sequences of 60 nt")
    assert out.read_text().count(">") == 3


def test_sample_to_a_folder_is_an_error(dna_run, tmp_path, capsys):
    code, _, err = _run(capsys, "sample", str(dna_run), "--out", str(tmp_path), "--overwrite")
    assert code == 2
    assert err == _error(
        f"--out {tmp_path} is a folder, not a file",
        f"give the name of the file to write, e.g. --out {tmp_path / 'samples'}",
    )


def test_data_dna_refuses_existing_files_unless_overwrite(tmp_path, capsys):
    out = tmp_path / "d"
    assert _run(capsys, "data", "dna", "--out", str(out))[0] == 0
    before = _files(out)
    code, stdout, err = _run(capsys, "data", "dna", "--out", str(out), "--window", "30")
    assert (code, stdout) == (2, "")
    assert err == _error(
        f"{out / 'windows.h5'} exists", "pass --overwrite to replace it, or choose another --out"
    )
    assert _files(out) == before
    code, stdout, _ = _run(
        capsys, "data", "dna", "--out", str(out), "--window", "30", "--overwrite"
    )
    assert code == 0 and "windows of 30 nt" in stdout


def test_data_commands_refuse_a_file_as_out_and_a_runs_folders(dna_run, tmp_path, capsys):
    f = tmp_path / "f.h5"
    f.write_text("mine")
    for case in ("dna", "blobs", "ising"):
        code, _, err = _run(capsys, "data", case, "--out", str(f))
        assert code == 2 and err == _error(
            f"--out {f} is a file, not a folder", "give a folder (new or existing) to --out"
        )
        assert f.read_text() == "mine"
    before = _files(dna_run)
    folder = dna_run / "checkpoints"
    for case, name in (("dna", "windows.h5"), ("blobs", "blobs.h5"), ("ising", "ising.h5")):
        code, _, err = _run(capsys, "data", case, "--out", str(folder), "--overwrite")
        assert code == 2 and err == _error(
            f"--out {folder / name} is one of the scigan run {dna_run}'s own files "
            f"(checkpoints/{name})",
            PROTECTED_FIX.format(option="--out"),
        )
    assert _files(dna_run) == before


def test_data_blobs_refuses_each_existing_file_unless_overwrite(tmp_path, capsys):
    out = tmp_path / "b"
    args = ["data", "blobs", "--n", "8", "--heldout", "4", "--size", "8", "--out", str(out)]
    assert _run(capsys, *args)[0] == 0
    (out / "blobs.h5").unlink()  # only the preview is left
    before = _files(out)
    code, _, err = _run(capsys, *args)
    assert code == 2 and err == _error(
        f"{out / 'preview.png'} exists", "pass --overwrite to replace it, or choose another --out"
    )
    assert _files(out) == before
    assert _run(capsys, *args, "--overwrite")[0] == 0 and (out / "blobs.h5").is_file()


def test_train_run_dir_that_is_a_file(genome_windows, tmp_path, capsys):
    f = tmp_path / "notes.txt"
    f.write_text("mine")
    for run_dir in (f, f / "run"):
        code, _, err = _run(capsys, *_train_args(genome_windows, run_dir))
        assert code == 2 and "Traceback" not in err
        assert err == _error(
            f"--run-dir {run_dir} is a file, not a folder"
            if run_dir == f
            else f"--run-dir {run_dir} cannot be written: {f} is a file, not a folder",
            "give a folder (new or existing) to --run-dir" if run_dir == f else
            "choose another --run-dir",
        )  # fmt: skip
    assert f.read_text() == "mine"


def test_evaluate_writes_only_its_own_metrics_and_figures(dna_run, tmp_path, capsys):
    outside = {p for p in tmp_path.rglob("*") if dna_run not in p.parents and p != dna_run}
    code, _, _ = _run(capsys, "evaluate", str(dna_run), "-n", "8", "--no-progress")
    assert code == 0
    assert {p for p in tmp_path.rglob("*") if dna_run not in p.parents and p != dna_run} == outside


def _spoil_config(run: Path, how: str) -> str:
    """Hand-edit the run's config.yaml; returns the problem the commands must report."""
    import yaml

    file = run / "config.yaml"
    if how == "yaml":
        file.write_text(file.read_text() + "model: [oops\n")
        return (
            f"run file {file} is not valid YAML (expected ',' or ']', but got '<stream end>', "
            f"line {len(file.read_text().splitlines()) + 1} column 1)"
        )
    if how == "list":
        file.write_text("- seed\n- model\n")
        return f"run file {file} does not hold a mapping of keys to values (it holds a list)"
    config = yaml.safe_load(file.read_text())
    config["model"]["hidden"] = config["model"].pop("generator_hidden")  # a renamed key
    config["train"]["steps"] = "many"
    file.write_text(yaml.safe_dump(config))
    return (
        f"run file {file} does not validate (model.hidden: unknown key; train.steps: Input "
        "should be a valid integer, unable to parse string as an integer (got 'many'))"
    )


def _run_command(command: str, run: Path, genome_windows: Path, tmp_path: Path) -> list[str]:
    """The arguments of a command that opens the run `run`: sample, evaluate or a resume."""
    return {
        "sample": ["sample", str(run), "--out", str(tmp_path / "s.fasta")],
        "evaluate": ["evaluate", str(run), "--no-progress"],
        "resume": _train_args(genome_windows, run),
    }[command]


@pytest.mark.parametrize("how", ["yaml", "list", "keys"])
@pytest.mark.parametrize("command", ["sample", "evaluate", "resume"])
def test_a_hand_edited_config_yaml_is_named_with_the_fix(
    dna_run, genome_windows, tmp_path, capsys, how, command
):
    problem = _spoil_config(dna_run, how)
    before = _files(dna_run)
    code, out, err = _run(capsys, *_run_command(command, dna_run, genome_windows, tmp_path))
    assert (code, out) == (2, "")
    assert err == _error(problem, RUN_FILE_FIX.format(file=dna_run / "config.yaml"))
    assert _files(dna_run) == before
    assert not (tmp_path / "s.fasta").exists()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{", "is not valid JSON (Expecting property name enclosed in double quotes, line 1 "
              "column 2)"),
        ("[1, 2]", "does not hold a JSON object (it holds a list)"),
        ('{"scigan": "0.1.0"}', "names no case study (no \"case_study\" key)"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("command", ["sample", "evaluate"])
def test_a_corrupt_run_json_is_named_with_the_fix(dna_run, capsys, content, problem, command):
    (dna_run / "run.json").write_text(content)
    args = ["sample", str(dna_run), "--out", str(dna_run.parent / "s.fasta")]
    if command == "evaluate":
        args = ["evaluate", str(dna_run)]
    code, out, err = _run(capsys, *args)
    assert (code, out) == (2, "")
    file = dna_run / "run.json"
    assert err == _error(f"run file {file} {problem}", RUN_FILE_FIX.format(file=file))


@pytest.mark.parametrize("command", ["sample", "evaluate", "resume"])
def test_a_run_json_without_its_data_record_is_named_with_the_fix(
    dna_run, genome_windows, tmp_path, capsys, command
):
    import json

    file = dna_run / "run.json"
    info = json.loads(file.read_text())
    del info["data"]  # a hand edit
    file.write_text(json.dumps(info))
    before = _files(dna_run)
    code, out, err = _run(capsys, *_run_command(command, dna_run, genome_windows, tmp_path))
    assert (code, out) == (2, "")
    assert err == _error(
        f'run file {file} records no data set (no "data" key)', RUN_FILE_FIX.format(file=file)
    )
    assert _files(dna_run) == before  # .lock included: refused before the run is held
    assert not (tmp_path / "s.fasta").exists()


@pytest.mark.parametrize("inside", ["samples", "samples/new", "checkpoints", "figures/a/b", "mine"])
def test_train_refuses_a_run_dir_inside_another_run(dna_run, genome_windows, capsys, inside):
    before = _files(dna_run)
    folder = dna_run / inside
    existed = folder.exists()
    code, out, err = _run(capsys, *_train_args(genome_windows, folder))
    assert (code, out) == (2, "")
    assert err == _error(
        f"{folder} is inside the scigan run {dna_run} (at {inside}); a run directory cannot be "
        "made inside another",
        f"choose a --run-dir outside {dna_run}, e.g. next to it: {dna_run.parent / 'NAME'}",
    )
    assert _files(dna_run) == before and folder.exists() == existed


def test_sample_without_out_writes_the_case_studys_file(dna_run, tmp_path, capsys, monkeypatch):
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    code, out, _ = _run(capsys, "sample", str(dna_run), "-n", "3")
    assert code == 0 and out.startswith("samples.fasta: 3 sequences of 60 nt")
    assert sorted(p.name for p in here.iterdir()) == ["samples.fasta"]
    assert (here / "samples.fasta").read_text().count(">") == 3
    code, _, err = _run(capsys, "sample", str(dna_run), "-n", "3")  # the default is checked too
    assert code == 2 and err == _error(
        "samples.fasta exists", "pass --overwrite to replace it, or choose another --out"
    )


FIXES = {
    "dna": "make one with `scigan data dna --out DIR` and pass --data DIR/windows.h5 (a file "
    "made by `scigan data blobs` or `scigan data ising` is for that case study)",
    "blobs": "build one with `scigan data blobs --out DIR` and pass --data DIR/blobs.h5 (a file "
    "made by `scigan data dna` or `scigan data ising` is for that case study)",
    "ising": "build one with `scigan data ising --out DIR` and pass --data DIR/ising.h5 (a file "
    "made by `scigan data dna` or `scigan data blobs` is for that case study)",
}
MISSING = {  # (case study, the other's file): what the file lacks
    ("dna", "blobs"): "train/codes, heldout/codes, genome/codes",
    ("dna", "ising"): "train/codes, heldout/codes, genome/codes, attribute format_version",
    ("blobs", "dna"): "train/images, heldout/images, attribute meta",
    ("blobs", "ising"): "train/images, heldout/images, attribute format_version, attribute meta",
    ("ising", "dna"): "temperatures, spins, done, attribute parameters",
    ("ising", "blobs"): "temperatures, spins, done, attribute parameters",
}


@pytest.mark.parametrize(("case", "other"), sorted(MISSING))
def test_another_case_studys_data_file_is_named_with_the_fix(
    data_files, tmp_path, capsys, case, other
):
    path = data_files[other]
    missing = "it has no " + MISSING[case, other]
    args = ["train", case, "--data", str(path), "--run-dir", str(tmp_path / "r"), "--no-progress"]
    code, out, err = _run(capsys, *args)
    assert (code, out) == (2, "")
    article = "an" if case == "ising" else "a"
    assert err == _error(f"{path} is not {article} {case} data set ({missing})", FIXES[case])
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("option", ["--fasta", "--genbank"])
def test_data_dna_a_folder_as_the_sequence_file(tmp_path, capsys, option):
    code, _, err = _run(capsys, "data", "dna", option, str(tmp_path), "--out", str(tmp_path / "o"))
    fmt = option.removeprefix("--")
    assert code == 2 and err == _error(
        f"sequence file {tmp_path} is a folder, not a {fmt} file",
        f"give the {fmt} file itself: {option} {tmp_path}/NAME",
    )
