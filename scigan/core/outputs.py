"""What a command may write, checked before it writes anything (docs/runs.md).

- A scigan run directory's own files are never written over, whatever the flags: its
  config.yaml, run.json, log.jsonl, samples.jsonl, metrics.json and .lock, and anything under
  its checkpoints/, samples/, figures/, tb/, groups/ and cache/ folders. Only `scigan train` and
  `scigan evaluate` write them, through the run directory itself.
- An existing file is replaced only when the user says so (`--overwrite`).
- A folder where a file is wanted, or a file where a folder is wanted, is an error.
- A run directory is never made inside another one (in its samples/, checkpoints/ or any
  folder below it): `scigan train` refuses such a --run-dir, naming the enclosing run
  (scigan.core.rundir.RunDir.check_usable).

Every command that writes (sample, data, train) checks its paths here, so the rules are the
same everywhere.
"""

from __future__ import annotations

import os
from pathlib import Path

from scigan.core.errors import OutputError

#: a run directory's own files (at its top level) and folders
RUN_FILES = frozenset(
    {"config.yaml", "run.json", "log.jsonl", "samples.jsonl", "metrics.json", ".lock"}
)
RUN_FOLDERS = frozenset({"checkpoints", "samples", "figures", "tb", "groups", "cache"})

PROTECTED_FIX = (
    "choose another {option}: a run's config, logs, checkpoints, samples, metrics and figures "
    "are written only by `scigan train` and `scigan evaluate` (docs/runs.md)"
)


def is_run_directory(folder: Path) -> bool:
    """A scigan run directory: a folder holding config.yaml and run.json."""
    folder = Path(folder)
    return (folder / "config.yaml").is_file() and (folder / "run.json").is_file()


def owning_run(path: Path) -> tuple[Path, Path] | None:
    """(run directory, the path inside it) when `path` is one of a scigan run directory's own
    files (or inside one of its own folders), else None. Both the path as given and the one its
    links lead to are checked, since a write follows links."""
    given = Path(path)
    for candidate in dict.fromkeys((Path(os.path.abspath(given)), given.resolve())):
        for folder in candidate.parents:
            if is_run_directory(folder):
                inside = candidate.relative_to(folder)
                if inside.parts and inside.parts[0] in RUN_FILES | RUN_FOLDERS:
                    return folder, inside
    return None


def enclosing_run(path: Path) -> tuple[Path, Path] | None:
    """(run directory, the path inside it) when `path` lies anywhere inside a scigan run
    directory (a folder above it holds config.yaml and run.json), else None; the nearest such
    folder. As in owning_run, the path as given and the one its links lead to are checked."""
    given = Path(path)
    for candidate in dict.fromkeys((Path(os.path.abspath(given)), given.resolve())):
        for folder in candidate.parents:
            if is_run_directory(folder):
                return folder, candidate.relative_to(folder)
    return None


def _refuse_run_files(path: Path, option: str) -> None:
    owner = owning_run(path)
    if owner is not None:
        run, inside = owner
        raise OutputError(
            f"{option} {path} is one of the scigan run {run}'s own files ({inside})",
            PROTECTED_FIX.format(option=option),
        )


def _refuse_file_ancestor(path: Path, option: str) -> None:
    for folder in Path(path).parents:
        if folder.exists() or folder.is_symlink():
            if not folder.is_dir():
                raise OutputError(
                    f"{option} {path} cannot be written: {folder} is a file, not a folder",
                    f"choose another {option}",
                )
            return


def check_not_a_folder(path: Path, option: str = "--out") -> Path:
    """`path` as given, or an OutputError when it is an existing folder."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(
            f"{option} {path} is a folder, not a file",
            f"give the name of the file to write, e.g. {option} {path / 'samples'}",
        )
    return path


def check_output_file(path: Path, overwrite: bool = False, option: str = "--out") -> Path:
    """`path` as given when a command may write the file there; an OutputError naming the
    problem and the fix when it may not: a run's own file (whatever `overwrite` says), a
    folder, a path below a file, or an existing file without `overwrite`."""
    path = check_not_a_folder(path, option)
    _refuse_run_files(path, option)
    _refuse_file_ancestor(path, option)
    if (path.exists() or path.is_symlink()) and not overwrite:
        raise OutputError(
            f"{path} exists", f"pass --overwrite to replace it, or choose another {option}"
        )
    return path


def check_output_folder(path: Path, option: str = "--out") -> Path:
    """`path` as given when a command may write a folder there (it is one, or does not exist
    yet); an OutputError when it is a file or lies below one."""
    path = Path(path)
    if (path.exists() or path.is_symlink()) and not path.is_dir():
        raise OutputError(
            f"{option} {path} is a file, not a folder",
            f"give a folder (new or existing) to {option}",
        )
    _refuse_file_ancestor(path, option)
    return path
