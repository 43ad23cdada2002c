import json
import os
import signal
import subprocess
import sys
import time

import pytest

from scigan.core.errors import ConfigError, InputError
from scigan.core.rundir import RunDir

CONFIG = {"seed": 0, "train": {"steps": 3}}


def test_a_second_holder_of_a_run_fails_naming_the_first(tmp_path):
    run = RunDir(tmp_path / "run")
    with run.lock():
        with pytest.raises(
            InputError, match=rf"run directory .*run is in use by process {os.getpid()} on "
        ):
            with run.lock():
                pass
    with run.lock():  # released on exit
        pass


def test_a_lock_left_by_a_killed_process_does_not_block(tmp_path):
    code = (
        "import sys, time\nfrom scigan.core.rundir import RunDir\n"
        "with RunDir(sys.argv[1]).lock():\n    print('held', flush=True)\n    time.sleep(60)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path / "run")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(InputError, match=f"in use by process {holder.pid} "):
            with RunDir(tmp_path / "run").lock():
                pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    deadline = time.monotonic() + 10
    while True:  # the kernel drops the lock with the process
        try:
            with RunDir(tmp_path / "run").lock():
                break
        except InputError:
            assert time.monotonic() < deadline
            time.sleep(0.05)


def test_the_lock_file_does_not_make_a_new_folder_look_foreign(tmp_path):
    run = RunDir(tmp_path / "run")
    with run.lock():
        assert run.start(CONFIG, {"data": {"sha256": "a"}}) is False
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="is not empty and is not a scigan run directory"):
        with RunDir(tmp_path / "other").lock():
            pass
    assert sorted(p.name for p in (tmp_path / "other").iterdir()) == ["notes.txt"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="is a file, not a run directory"):
        RunDir(tmp_path / "file").check_usable()


def test_resuming_on_changed_data_is_refused_unless_allowed(tmp_path):
    run = RunDir(tmp_path / "run")
    run.start(CONFIG, {"data": {"sha256": "aaa", "n_train": 5, "window": [1, 2]}})
    # the same data, recorded again (tuples become lists in JSON)
    assert run.start(CONFIG, {"data": {"sha256": "aaa", "n_train": 5, "window": (1, 2)}})
    changed = {"data": {"sha256": "bbb", "n_train": 6, "window": [1, 2]}}
    with pytest.raises(ConfigError) as exc:
        run.start(CONFIG, changed)
    assert exc.value.problem == (
        f"the data of run {run.path} changed since it was trained "
        "(n_train: 5 -> 6; sha256: 'aaa' -> 'bbb')"
    )
    assert "--allow-data-change" in exc.value.fix
    assert run.start(CONFIG, changed, allow_data_change=True)
    info = json.loads(run.info_file.read_text())
    assert info["data"] == changed["data"]
    [change] = info["data_changes"]
    assert change["before"] == {"sha256": "aaa", "n_train": 5, "window": [1, 2]}
    assert change["after"] == changed["data"]
    assert run.start(CONFIG, changed)  # the new data is now the run's
