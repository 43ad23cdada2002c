"""One clear error for every data file a case study cannot use (scigan.core.datafiles)."""

import h5py
import pytest

from scigan.core.datafiles import a_data_set, open_data_file
from scigan.core.errors import InputError

FIX = "build one with `scigan data toy --out DIR`"


def _open(path, **kwargs):
    with open_data_file(path, "toy", FIX, ("train/x",), ("version",), **kwargs) as f:
        return f["train/x"][()]


def test_a_file_of_the_right_layout_opens(tmp_path):
    with h5py.File(tmp_path / "toy.h5", "w") as f:
        f["train/x"] = [1, 2]
        f.attrs["version"] = 1
    assert _open(tmp_path / "toy.h5").tolist() == [1, 2]


def test_articles():
    assert (a_data_set("blobs"), a_data_set("ising")) == ("a blobs data set", "an ising data set")


def test_missing_folder_not_hdf5_and_missing_entries(tmp_path):
    cases = []
    with pytest.raises(InputError) as exc:
        _open(tmp_path / "none.h5")
    cases.append((exc.value, f"toy data file {tmp_path / 'none.h5'} does not exist", FIX))
    with pytest.raises(InputError) as exc:
        _open(tmp_path, file_name="toy.h5")
    cases.append(
        (
            exc.value,
            f"{tmp_path} is a folder, not a toy data set file",
            f"pass the data file itself, e.g. --data {tmp_path / 'toy.h5'}",
        )
    )
    (tmp_path / "text.h5").write_text("hello")
    with pytest.raises(InputError) as exc:
        _open(tmp_path / "text.h5")
    cases.append(
        (exc.value, f"{tmp_path / 'text.h5'} is not a toy data set (not a readable HDF5 file)", FIX)
    )
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["heldout/x"] = [1]
    with pytest.raises(InputError) as exc:
        _open(tmp_path / "other.h5")
    cases.append(
        (
            exc.value,
            f"{tmp_path / 'other.h5'} is not a toy data set (it has no train/x, attribute version)",
            FIX,
        )
    )
    for error, problem, fix in cases:
        assert (error.problem, error.fix) == (problem, fix)


def test_an_entry_missing_while_reading_is_the_same_error(tmp_path):
    with h5py.File(tmp_path / "toy.h5", "w") as f:
        f["train/x"] = [1]
        f.attrs["version"] = 1
    with pytest.raises(InputError) as exc:
        with open_data_file(tmp_path / "toy.h5", "toy", FIX, ("train/x",)) as f:
            f["train/y"]
    assert exc.value.problem.startswith(f"{tmp_path / 'toy.h5'} is not a toy data set (it lacks ")
    assert exc.value.fix == FIX
