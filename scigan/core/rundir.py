"""A run directory holds everything about one training run: config, logs, checkpoints, samples,
metrics and figures. Layout (names are fixed so tools and people can find things):

    config.yaml        full resolved config (compared on resume)
    run.json           case study, versions, data file, device
    log.jsonl          one line of losses per step
    tb/                TensorBoard event files
    checkpoints/last.pt
    samples/           samples written during training
    metrics.json, figures/   written by `scigan evaluate`
    cache/             what `scigan evaluate` reuses (blobs: its feature encoder)

No command writes over these (scigan.core.outputs, docs/runs.md) but training and evaluation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from scigan.core.checkpoint import atomic_write_json, atomic_write_text
from scigan.core.config import differences, dump_yaml, fill_missing
from scigan.core.errors import ConfigError, InputError


def _kind(value: Any) -> str:
    """'a list', 'a string', 'nothing': what a damaged run file holds instead."""
    if value is None:
        return "nothing"
    name = {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}
    return f"a {name.get(type(value), type(value).__name__)}"


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
            mark = getattr(exc, "problem_mark", None)
            where = f", line {mark.line + 1} column {mark.column + 1}" if mark else ""
            what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise self.broken_file(self.config_file, f"is not valid YAML ({what}{where})") from None
        except UnicodeDecodeError:
            raise self.broken_file(self.config_file, "is not text") from None
        if not isinstance(saved, dict):
            raise self.broken_file(
                self.config_file,
                f"does not hold a mapping of keys to values (it holds {_kind(saved)})",
            )
        return saved if defaults is None else fill_missing(saved, defaults)

    def read_info(self) -> dict[str, Any]:
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
        name = self.read_info().get("case_study")
        if not isinstance(name, str):
            raise self.broken_file(self.info_file, 'names no case study (no "case_study" key)')
        return name

    def load_last_checkpoint(self, map_location, train_command: str) -> dict[str, Any]:
        """The last checkpoint (loaded weights_only); a clear error if training never saved one."""
        from scigan.core.checkpoint import load_checkpoint

        if not self.checkpoint_file.is_file():
            raise InputError(f"{self.path} has no checkpoint yet", f"train it: {train_command}")
        return load_checkpoint(self.checkpoint_file, map_location=map_location)

    def start(
        self,
        config: dict[str, Any],
        info: dict[str, Any],
        may_differ: frozenset[str] = frozenset(),
        defaults: dict[str, Any] | None = None,
    ) -> bool:
        """Create the run, or check that an existing one has the same config.

        Returns True when resuming. Keys in `may_differ` (e.g. the device) may change between
        invocations; any other change is refused, because resuming under a different recipe
        would silently mix two experiments. `defaults` fills keys the saved config lacks.
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
            # Record the values now in force for keys allowed to differ.
            atomic_write_text(self.config_file, dump_yaml(config))
            return True
        if self.path.exists() and any(self.path.iterdir()):
            raise InputError(
                f"{self.path} exists, is not empty and is not a scigan run directory",
                "choose another --run-dir",
            )
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.config_file, dump_yaml(config))
        atomic_write_json(self.info_file, info)
        return False
