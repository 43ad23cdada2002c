"""A run directory holds everything about one training run: config, logs, checkpoints, samples,
metrics and figures. Layout (names are fixed so tools and people can find things):

    config.yaml        full resolved config (compared on resume)
    run.json           case study, versions, data file, device
    log.jsonl          one line of losses per step
    tb/                TensorBoard event files
    checkpoints/last.pt
    samples/           samples written during training
    samples.jsonl      which sample files were written at which step
    metrics.json, figures/   written by `scigan evaluate`
    cache/             what `scigan evaluate` reuses (blobs: its feature encoder)

No command writes over these (scigan.core.outputs, docs/runs.md) but training and evaluation.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from scigan.core.checkpoint import atomic_write_json, atomic_write_text
from scigan.core.config import differences, dump_yaml, fill_missing, yaml_problem
from scigan.core.errors import ConfigError, InputError, OutputError
from scigan.core.outputs import enclosing_run


def _kind(value: Any) -> str:
    """'a list', 'a string', 'nothing': what a damaged run file holds instead."""
    if value is None:
        return "nothing"
    name = {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}
    return f"a {name.get(type(value), type(value).__name__)}"


@contextmanager
def exclusive_lock(lock_file: Path, what: str) -> Iterator[None]:
    """An OS lock (flock) on `lock_file`, which names the holder: released when the process
    ends however it ends. A second process fails at once with an error naming `what` and the
    process that holds it."""
    import fcntl

    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 300, 0).decode(errors="replace").strip() or "another process"
        os.close(fd)
        raise InputError(
            f"{what} is in use by {holder}",
            "wait for it to finish, or stop it (Ctrl-C or SIGTERM saves and stops)",
        ) from None
    try:
        since = time.strftime("%Y-%m-%d %H:%M:%S")
        holder = f"process {os.getpid()} on {socket.gethostname()} (since {since})"
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder.encode(), 0)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@dataclass(frozen=True)
class RunDir:
    path: Path

    def __post_init__(self) -> None:
        # library users pass strings too: RunDir("runs/dna")
        object.__setattr__(self, "path", Path(self.path))

    @property
    def config_file(self) -> Path:
        return self.path / "config.yaml"

    @property
    def info_file(self) -> Path:
        return self.path / "run.json"

    @property
    def log_file(self) -> Path:
        return self.path / "log.jsonl"

    @property
    def tensorboard_dir(self) -> Path:
        return self.path / "tb"

    @property
    def checkpoint_file(self) -> Path:
        return self.path / "checkpoints" / "last.pt"

    @property
    def samples_dir(self) -> Path:
        return self.path / "samples"

    @property
    def samples_index(self) -> Path:
        """Which sample files were written at which step (kept by the training loop)."""
        return self.path / "samples.jsonl"

    @property
    def metrics_file(self) -> Path:
        return self.path / "metrics.json"

    @property
    def figures_dir(self) -> Path:
        return self.path / "figures"

    @property
    def cache_dir(self) -> Path:
        """What evaluation computes once and reuses (blobs: its feature encoder)."""
        return self.path / "cache"

    def exists(self) -> bool:
        return self.config_file.is_file()

    def read_config(self, defaults: dict[str, Any] | None = None) -> dict[str, Any]:
        """The run's resolved config. Keys of its case study's `defaults` that the saved config
        lacks (options added since the run was made) take their default value: a new option
        defaults to the behaviour that existed before it, so older runs still resume, sample
        and evaluate."""
        if not self.config_file.is_file():
            raise InputError(
                f"{self.path} is not a scigan run directory (no config.yaml)",
                "pass the --run-dir of a `scigan train` run",
            )
        try:
            saved = yaml.safe_load(self.config_file.read_text())
        except yaml.YAMLError as exc:
            problem = f"is not valid YAML ({yaml_problem(exc)})"
            raise self.broken_file(self.config_file, problem) from None
        except UnicodeDecodeError:
            raise self.broken_file(self.config_file, "is not text") from None
        if not isinstance(saved, dict):
            raise self.broken_file(
                self.config_file,
                f"does not hold a mapping of keys to values (it holds {_kind(saved)})",
            )
        return saved if defaults is None else fill_missing(saved, defaults)

    def read_info(self) -> dict[str, Any]:
        """run.json as a dict; a clear error (broken_file) when it is not JSON, not an object,
        or lacks the record of the run's data (`data`, an object), which resuming, sampling
        and evaluating read."""
        info = self._read_info_object()
        if "data" not in info:
            raise self.broken_file(self.info_file, 'records no data set (no "data" key)')
        if not isinstance(info["data"], dict):
            raise self.broken_file(
                self.info_file,
                f'has a "data" entry that is not a JSON object (it holds {_kind(info["data"])})',
            )
        return info

    def _read_info_object(self) -> dict[str, Any]:
        """run.json's JSON object, whatever keys it holds."""
        if not self.info_file.is_file():
            raise InputError(
                f"{self.path} is not a scigan run directory (no run.json)",
                "pass the --run-dir of a `scigan train` run",
            )
        try:
            info = json.loads(self.info_file.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            what = (
                f"{exc.msg}, line {exc.lineno} column {exc.colno}"
                if isinstance(exc, json.JSONDecodeError)
                else "not text"
            )
            raise self.broken_file(self.info_file, f"is not valid JSON ({what})") from None
        if not isinstance(info, dict):
            raise self.broken_file(
                self.info_file, f"does not hold a JSON object (it holds {_kind(info)})"
            )
        return info

    def broken_file(self, file: Path, problem: str) -> InputError:
        """The error for a run file (config.yaml, run.json) that was edited or damaged."""
        return InputError(
            f"run file {file} {problem}",
            f"restore {file} as `scigan train` wrote it (e.g. from a backup), or start a new run "
            "with another --run-dir",
        )

    def case_study_name(self) -> str:
        """The name of the case study that made the run (run.json's `case_study`)."""
        name = self._read_info_object().get("case_study")
        if not isinstance(name, str):
            raise self.broken_file(self.info_file, 'names no case study (no "case_study" key)')
        return name

    def load_last_checkpoint(self, map_location, train_command: str) -> dict[str, Any]:
        """The last checkpoint (loaded weights_only); a clear error if training never saved one."""
        from scigan.core.checkpoint import load_checkpoint

        if not self.checkpoint_file.is_file():
            raise InputError(f"{self.path} has no checkpoint yet", f"train it: {train_command}")
        return load_checkpoint(self.checkpoint_file, map_location=map_location)

    @property
    def lock_file(self) -> Path:
        return self.path / ".lock"

    def check_usable(self) -> None:
        """A clear error unless the path is a run directory, an empty folder or free, and lies
        outside every other run directory (a run inside another's samples/ or checkpoints/
        would mix two runs' files)."""
        if self.path.exists() and not self.path.is_dir():
            raise InputError(
                f"{self.path} is a file, not a run directory", "choose another --run-dir"
            )
        outer = enclosing_run(self.path)
        if outer is not None:
            run, inside = outer
            raise OutputError(
                f"{self.path} is inside the scigan run {run} (at {inside}); a run directory "
                "cannot be made inside another",
                f"choose a --run-dir outside {run}, e.g. next to it: {run.parent / 'NAME'}",
            )
        if self.path.is_dir() and not self.exists():
            if any(p.name != ".lock" for p in self.path.iterdir()):
                raise InputError(
                    f"{self.path} exists, is not empty and is not a scigan run directory",
                    "choose another --run-dir",
                )

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the run directory exclusively while training: an OS lock (flock) on RUN/.lock,
        released when the process ends however it ends, so a killed process never blocks a
        new run. A second process fails at once, naming the process that holds the run."""
        self.check_usable()
        self.path.mkdir(parents=True, exist_ok=True)
        with exclusive_lock(self.lock_file, f"run directory {self.path}"):
            self._remove_stale_temporaries()
            yield

    # Files only the training process writes (atomically, through ".NAME.*.tmp" files).
    _TRAINING_FILES = ("last.pt", "log.jsonl", "samples.jsonl", "config.yaml", "run.json")

    def _remove_stale_temporaries(self) -> None:
        """Delete the temporary files of atomic writes a killed training process left. Only
        under the lock: then no live process can be writing them."""
        for name in self._TRAINING_FILES:
            for tmp in self.path.rglob(f".{name}.*.tmp"):
                tmp.unlink(missing_ok=True)

    def start(
        self,
        config: dict[str, Any],
        info: dict[str, Any],
        may_differ: frozenset[str] = frozenset(),
        defaults: dict[str, Any] | None = None,
        allow_data_change: bool = False,
    ) -> bool:
        """Create the run, or check that an existing one has the same config.

        Returns True when resuming. Keys in `may_differ` (e.g. the device) may change between
        invocations; any other change is refused, because resuming under a different recipe
        would silently mix two experiments. `defaults` fills keys the saved config lacks. The
        data must be the data the run was trained on (its fingerprint in run.json) unless
        `allow_data_change`; then the change is recorded in run.json.
        """
        if self.exists():
            changed = {
                k: v
                for k, v in differences(self.read_config(defaults), config).items()
                if k not in may_differ
            }
            if changed:
                listing = "; ".join(f"{k}: {a!r} -> {b!r}" for k, (a, b) in changed.items())
                raise ConfigError(
                    f"run directory {self.path} was trained with a different config ({listing})",
                    "pass a new --run-dir for the new config, or drop the changed settings to "
                    "resume this run",
                )
            self._check_data(info, allow_data_change)
            # Record the values now in force for keys allowed to differ.
            atomic_write_text(self.config_file, dump_yaml(config))
            return True
        self.check_usable()
        self.path.mkdir(parents=True, exist_ok=True)
        # run.json first: config.yaml is what makes a folder a run (exists()), so a process
        # killed between the two writes leaves a folder that simply starts anew.
        atomic_write_json(self.info_file, info)
        atomic_write_text(self.config_file, dump_yaml(config))
        return False

    def _check_data(self, info: dict[str, Any], allow_change: bool) -> None:
        """Refuse to resume on other data than the run was trained on (sha256, counts, ...),
        comparing the fingerprint keys both records have."""
        recorded = self.read_info()
        old = recorded.get("data") or {}
        new = json.loads(json.dumps(info["data"]))  # as run.json holds it (tuples as lists)
        changed = {k: (old[k], new[k]) for k in old.keys() & new.keys() if old[k] != new[k]}
        if not changed:
            return
        if not allow_change:
            listing = "; ".join(f"{k}: {a!r} -> {b!r}" for k, (a, b) in sorted(changed.items()))
            raise ConfigError(
                f"the data of run {self.path} changed since it was trained ({listing})",
                "restore the original data file, train in a new --run-dir, or pass "
                "--allow-data-change to go on with the new data",
            )
        change = {"at": time.strftime("%Y-%m-%dT%H:%M:%S"), "before": old, "after": new}
        recorded["data_changes"] = [*recorded.get("data_changes", []), change]
        recorded["data"] = new
        atomic_write_json(self.info_file, recorded)
