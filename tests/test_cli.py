"""The command line: user mistakes end in one clear message and exit code 2, not a traceback."""

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
