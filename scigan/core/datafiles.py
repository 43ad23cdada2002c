"""Opening a case study's HDF5 data file, with one clear error for every file it cannot use:
missing, a folder, not HDF5, or a file of another kind (e.g. another case study's data set):
"PATH is not a blobs data set (it has no train/images, heldout/images)" and the fix."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from scigan.core.errors import InputError


def a_data_set(kind: str) -> str:
    """'a blobs data set', 'an ising data set'."""
    return f"{'an' if kind[:1].lower() in 'aeiou' else 'a'} {kind} data set"


def not_this_kind(path: Path, kind: str, reason: str, fix: str) -> InputError:
    """The error for a file that is not `kind`'s data set, `reason` saying why."""
    return InputError(f"{path} is not {a_data_set(kind)} ({reason})", fix)


@contextmanager
def open_data_file(
    path: Path,
    kind: str,
    fix: str,
    datasets: Sequence[str] = (),
    attrs: Sequence[str] = (),
    file_name: str | None = None,
) -> Iterator[Any]:
    """The open h5py.File of `kind`'s data set at `path` once it holds `datasets` (HDF5 paths)
    and `attrs`; an InputError with `fix` otherwise (for a folder: pass the file in it, e.g.
    `file_name`). An entry missing or unreadable while the file is read is reported the same
    way."""
    import h5py

    path = Path(path)
    if path.is_dir():
        inside = f", e.g. --data {path / file_name}" if file_name else ""
        raise InputError(
            f"{path} is a folder, not {a_data_set(kind)} file",
            f"pass the data file itself{inside}",
        )
    if not path.is_file():
        raise InputError(f"{kind} data file {path} does not exist", fix)
    try:
        handle = h5py.File(path, "r")
    except OSError:
        raise not_this_kind(path, kind, "not a readable HDF5 file", fix) from None
    with handle:
        missing = [name for name in datasets if name not in handle]
        missing += [f"attribute {name}" for name in attrs if name not in handle.attrs]
        if missing:
            raise not_this_kind(path, kind, "it has no " + ", ".join(missing), fix)
        try:
            yield handle
        except KeyError as exc:
            raise not_this_kind(path, kind, f"it lacks {exc}", fix) from None
        except OSError:
            raise not_this_kind(path, kind, "not a readable HDF5 file", fix) from None
