from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scigan.blobs.data import (
    MAX_BLOBS_STORED,
    BlobParams,
    build_dataset,
    dataset_from_images,
    load_dataset,
    read_user_images,
    render,
    sample_params,
    save_dataset,
)
from scigan.cli import main
from scigan.core.errors import InputError


def _one_blob(x0, y0, sx, sy) -> BlobParams:
    pad = np.full((1, MAX_BLOBS_STORED), np.nan)
    values = {k: pad.copy() for k in ("x0", "y0", "sx", "sy")}
    for k, v in zip(("x0", "y0", "sx", "sy"), (x0, y0, sx, sy), strict=True):
        values[k][0, 0] = v
    return BlobParams(count=np.array([1]), **values)


def test_render_is_equation_4_1():
    image = render(_one_blob(10.5, 20.0, 2.5, 4.0))[0]
    y, x = np.mgrid[0:32, 0:32]
    expected = np.exp(-((x - 10.5) ** 2 / (2 * 2.5**2) + (y - 20.0) ** 2 / (2 * 4.0**2)))
    np.testing.assert_allclose(image, expected, rtol=1e-12)
    assert np.unravel_index(image.argmax(), image.shape) == (20, 10)  # image[y, x]


def test_parameter_distributions_are_the_thesis_ones():
    n = 20_000
    p = sample_params(n, np.random.default_rng(1))
    assert sorted(np.unique(p.count)) == list(range(3, 10))
    # Uniform counts: each of the 7 values has probability 1/7 (4-sigma tolerance, two-sided).
    share = np.bincount(p.count, minlength=10)[3:] / n
    np.testing.assert_allclose(share, np.full(7, 1 / 7), atol=4 * np.sqrt((1 / 7) * (6 / 7) / n))
    used = np.arange(MAX_BLOBS_STORED)[None, :] < p.count[:, None]
    for key, low, high in (("x0", 0, 28), ("y0", 0, 28), ("sx", 2, 5), ("sy", 2, 5)):
        v = getattr(p, key)
        assert np.isnan(v[~used]).all() and np.isfinite(v[used]).all()
        values = v[used]
        assert (values.min() >= low, values.max() < high) == (True, True)
        sd = (high - low) / np.sqrt(12)
        np.testing.assert_allclose(
            values.mean(), (low + high) / 2, atol=4 * sd / np.sqrt(len(values))
        )
        np.testing.assert_allclose(values.std(), sd, rtol=0.02)


def test_dataset_scaling_seeds_and_round_trip(tmp_path: Path):
    a = build_dataset(200, 50, seed=3)
    b = build_dataset(200, 50, seed=3)
    c = build_dataset(200, 50, seed=4)
    np.testing.assert_array_equal(a.train, b.train)
    assert not np.array_equal(a.train, c.train)
    assert not np.array_equal(a.train[:50], a.heldout)  # independent streams
    raw = render(a.train_params)
    np.testing.assert_allclose(a.train, np.clip(raw / 5.0, 0, 1).astype(np.float32))
    assert a.train.dtype == np.float32 and a.train.shape == (200, 32, 32)
    save_dataset(a, tmp_path / "d.h5")
    back = load_dataset(tmp_path / "d.h5")
    np.testing.assert_array_equal(back.train, a.train)
    np.testing.assert_array_equal(back.heldout_params.count, a.heldout_params.count)
    np.testing.assert_allclose(back.train_params.sx, a.train_params.sx, rtol=1e-6)
    assert back.meta == a.meta and back.meta["n_clipped_pixels"] == int((raw > 5).sum())


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


def test_cli_data_blobs(tmp_path: Path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["data", "blobs", "--n", "40", "--heldout", "10", "--out", str(tmp_path / "d")])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "40 training and 10 held-out images of 32x32 (sum of blobs / 5.0" in out
    assert load_dataset(tmp_path / "d" / "blobs.h5").train.shape == (40, 32, 32)
    np.save(tmp_path / "bad.npy", np.full((3, 16, 16), np.nan, np.float32))
    with pytest.raises(SystemExit) as exc:
        main(["data", "blobs", "--images", str(tmp_path / "bad.npy"), "--out", str(tmp_path / "e")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "NaN" in err and "fix:" in err and "Traceback" not in err
