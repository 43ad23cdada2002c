"""Blob data in files: users' PNG folders and .npy arrays, and what is refused."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scigan.blobs.data import dataset_from_images
from scigan.blobs.storage import read_user_images
from scigan.core.errors import InputError


def _png(path: Path, array: np.ndarray, mode: str = "L") -> None:
    Image.fromarray(array, mode=mode).save(path)


def test_user_png_folder(tmp_path: Path):
    rng = np.random.default_rng(0)
    arrays = rng.integers(0, 256, (5, 16, 16), dtype=np.uint8)
    for i, a in enumerate(arrays):
        _png(tmp_path / f"{i}.png", a)
    images = read_user_images(tmp_path)
    np.testing.assert_allclose(images, arrays / 255.0, rtol=1e-6)
    d = dataset_from_images(images, 0.2, seed=0)
    assert (len(d.train), len(d.heldout), d.size) == (4, 1, 16)


def test_user_npy(tmp_path: Path):
    x = np.random.default_rng(0).random((6, 1, 24, 24)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    np.testing.assert_array_equal(read_user_images(tmp_path / "x.npy"), x[:, 0])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: None, "holds no .png files"),
        (lambda d: (d / "a.png").write_bytes(b"not a png"), "cannot be read as an image"),
        (
            lambda d: (
                _png(d / "a.png", np.zeros((16, 16), np.uint8)),
                _png(d / "b.png", np.zeros((24, 24), np.uint8)),
            ),
            "have different sizes",
        ),
        (lambda d: _png(d / "a.png", np.zeros((16, 24), np.uint8)), "not square"),
        (lambda d: _png(d / "a.png", np.zeros((12, 12), np.uint8)), "multiple of 8"),
        (
            lambda d: _png(
                d / "a.png",
                np.dstack([np.zeros((16, 16, 2)), np.ones((16, 16, 1))]).astype(np.uint8) * 255,
                "RGB",
            ),
            "colour image",
        ),
    ],
)
def test_bad_png_folders(tmp_path: Path, make, message):
    make(tmp_path)
    with pytest.raises(InputError, match=message):
        read_user_images(tmp_path)


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((0, 16, 16), np.float32), "holds no images"),
        (np.full((3, 16, 16), np.nan, np.float32), "NaN or infinite"),
        (np.full((3, 16, 16), 2.0, np.float32), "outside \\[0, 1\\]"),
        (np.zeros((3, 16), np.float32), "not \\(n, size, size\\)"),
        (np.zeros((1, 16, 16), np.float32), "a single image"),
    ],
)
def test_bad_npy(tmp_path: Path, array, message):
    np.save(tmp_path / "x.npy", array)
    with pytest.raises(InputError, match=message):
        read_user_images(tmp_path / "x.npy")


def test_unreadable_npy_and_missing_path(tmp_path: Path):
    (tmp_path / "x.npy").write_bytes(b"garbage")
    with pytest.raises(InputError, match="cannot be read as a .npy"):
        read_user_images(tmp_path / "x.npy")
    with pytest.raises(InputError, match="does not exist"):
        read_user_images(tmp_path / "nothing.npy")


@pytest.mark.parametrize(
    ("other", "missing"),
    [
        ("dna", "train/images, heldout/images, attribute meta"),
        ("ising", "train/images, heldout/images, attribute format_version, attribute meta"),
    ],
)
def test_another_case_studys_data_set_is_named(tmp_path: Path, other, missing):
    from scigan.blobs.storage import DATA_FIX, load_dataset
    from tests.data_kinds import tiny_data_file

    path = tiny_data_file(other, tmp_path)
    with pytest.raises(InputError) as exc:
        load_dataset(path)
    assert exc.value.problem == f"{path} is not a blobs data set (it has no {missing})"
    assert exc.value.fix == DATA_FIX
    assert DATA_FIX == (
        "build one with `scigan data blobs --out DIR` and pass --data DIR/blobs.h5 (a file made "
        "by `scigan data dna` or `scigan data ising` is for that case study)"
    )


def test_a_folder_as_the_data_file_is_called_a_folder(tmp_path: Path):
    from scigan.blobs.storage import load_dataset

    with pytest.raises(InputError) as exc:
        load_dataset(tmp_path)
    assert exc.value.problem == f"{tmp_path} is a folder, not a blobs data set file"
    assert exc.value.fix == f"pass the data file itself, e.g. --data {tmp_path / 'blobs.h5'}"
