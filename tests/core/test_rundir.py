import json
import os
import signal
import subprocess
import sys
import time

import pytest

from scigan.core.errors import ConfigError, InputError, OutputError
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


RUN_FILE_FIX = (
    "restore {file} as `scigan train` wrote it (e.g. from a backup), or start a new run with "
    "another --run-dir"
)


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda info: info.pop("data"), 'records no data set (no "data" key)'),
        (lambda info: info.update(data=None), 'has a "data" entry that is not a JSON object '
         "(it holds nothing)"),
        (lambda info: info.update(data=[1]), 'has a "data" entry that is not a JSON object '
         "(it holds a list)"),
    ],
    ids=["no-data", "null", "list"],
)  # fmt: skip
def test_a_run_json_without_its_data_record_is_a_broken_run_file(tmp_path, edit, problem):
    run = RunDir(tmp_path / "run")
    run.start(CONFIG, {"case_study": "toy", "data": {"sha256": "a"}})
    info = json.loads(run.info_file.read_text())
    edit(info)
    run.info_file.write_text(json.dumps(info))
    for read in (run.read_info, lambda: run.start(CONFIG, {"data": {"sha256": "a"}})):
        with pytest.raises(InputError) as exc:
            read()
        assert exc.value.problem == f"run file {run.info_file} {problem}"
        assert exc.value.fix == RUN_FILE_FIX.format(file=run.info_file)
    assert run.case_study_name() == "toy"  # still named: the error names the run.json problem


def _a_run(folder) -> RunDir:
    run = RunDir(folder)
    run.start(CONFIG, {"case_study": "toy", "data": {}})
    (run.samples_dir / "step_1.txt").parent.mkdir()
    (run.samples_dir / "step_1.txt").write_text("x")
    return run


@pytest.mark.parametrize(
    "inside", ["samples", "samples/new", "checkpoints", "checkpoints/a/b", "notes", "groups/00"]
)
def test_a_run_directory_inside_another_run_is_refused_naming_it(tmp_path, inside):
    outer = _a_run(tmp_path / "outer")
    before = sorted(p for p in outer.path.rglob("*"))
    inner = RunDir(outer.path / inside)
    for attempt in (inner.check_usable, inner.lock().__enter__, lambda: inner.start(CONFIG, {})):
        with pytest.raises(OutputError) as exc:
            attempt()
        assert exc.value.problem == (
            f"{inner.path} is inside the scigan run {outer.path} (at {inside}); a run directory "
            "cannot be made inside another"
        )
        assert exc.value.fix == (
            f"choose a --run-dir outside {outer.path}, e.g. next to it: {tmp_path / 'NAME'}"
        )
    assert sorted(p for p in outer.path.rglob("*")) == before  # nothing made or written


def test_a_link_into_a_run_and_a_folder_beside_it(tmp_path):
    outer = _a_run(tmp_path / "outer")
    (tmp_path / "link").symlink_to(outer.samples_dir, target_is_directory=True)
    with pytest.raises(OutputError) as exc:
        RunDir(tmp_path / "link" / "run").check_usable()
    assert exc.value.problem.startswith(
        f"{tmp_path / 'link' / 'run'} is inside the scigan run {outer.path} (at samples/run)"
    )
    beside = RunDir(tmp_path / "beside")
    with beside.lock():
        assert beside.start(CONFIG, {"data": {}}) is False
    outer.check_usable()  # the run itself is usable (resumed)
