from pathlib import Path

import numpy as np
import pytest

from scigan.blobs.data import (
    MAX_BLOBS_STORED,
    BlobParams,
    build_dataset,
    render,
    sample_params,
)
from scigan.blobs.storage import load_dataset, save_dataset
from scigan.cli import main


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
