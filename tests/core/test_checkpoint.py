from pathlib import Path

import pytest
import torch

from scigan.core.checkpoint import atomic_write_text, load_checkpoint, save_checkpoint
from scigan.core.errors import InputError


def test_checkpoint_round_trip(tmp_path: Path):
    state = {"step": 3, "w": torch.arange(4.0), "nested": {"lr": 0.1, "names": ["a"]}}
    save_checkpoint(tmp_path / "c" / "last.pt", state)
    got = load_checkpoint(tmp_path / "c" / "last.pt")
    assert got["step"] == 3 and got["nested"] == {"lr": 0.1, "names": ["a"]}
    torch.testing.assert_close(got["w"], torch.arange(4.0))
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["last.pt"]  # no temp files


class _Arbitrary:
    pass


def test_load_refuses_arbitrary_pickles(tmp_path: Path):
    torch.save({"obj": _Arbitrary()}, tmp_path / "evil.pt")
    with pytest.raises(InputError, match="cannot be loaded safely"):
        load_checkpoint(tmp_path / "evil.pt")


def test_load_reports_corrupt_and_missing_files(tmp_path: Path):
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="cannot be loaded safely"):
        load_checkpoint(tmp_path / "bad.pt")
    with pytest.raises(InputError, match="does not exist"):
        load_checkpoint(tmp_path / "none.pt")


def test_failed_write_keeps_the_old_file(tmp_path: Path):
    target = tmp_path / "f.txt"
    atomic_write_text(target, "old")

    def boom(handle):
        handle.write(b"partial")
        raise RuntimeError("disk full")

    from scigan.core.checkpoint import atomic_write

    with pytest.raises(RuntimeError):
        atomic_write(target, boom)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_run_without_checkpoint_is_a_clear_error(tmp_path):
    from scigan.core.errors import InputError
    from scigan.core.rundir import RunDir

    with pytest.raises(InputError, match="has no checkpoint yet"):
        RunDir(tmp_path).load_last_checkpoint("cpu", "scigan train dna --run-dir x")


def test_run_dir_accepts_a_string_path(tmp_path):
    from scigan.core.rundir import RunDir

    run = RunDir(str(tmp_path / "r"))
    assert run.path == tmp_path / "r" and run.config_file == tmp_path / "r" / "config.yaml"
