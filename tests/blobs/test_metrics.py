import itertools

import numpy as np
import pytest

from scigan.blobs import metrics as m
from scigan.blobs.data import build_dataset


@pytest.fixture(scope="module")
def real():
    d = build_dataset(400, 400, seed=0)
    return d.train, d.heldout


def _gauss(x0, y0, sx, sy, size=32):
    y, x = np.mgrid[0:size, 0:size]
    return np.exp(-((x - x0) ** 2 / (2 * sx**2) + (y - y0) ** 2 / (2 * sy**2)))


def test_peaks_of_separated_blobs_and_border_peaks():
    image = 0.5 * (_gauss(6, 6, 2, 2) + _gauss(24, 20, 3, 2) + _gauss(0, 31, 2, 2))
    mask = m.peak_mask(image[None], 0.05)[0]
    assert sorted(zip(*np.nonzero(mask), strict=True)) == [(6, 6), (20, 24), (31, 0)]
    assert m.peak_counts(image[None], 0.05).tolist() == [3]
    assert m.peak_counts(image[None], 0.6).tolist() == [0]
    assert m.peak_counts(np.zeros((2, 8, 8)), 0.0).tolist() == [0, 0]  # flat: no strict maximum


def test_width_is_exact_for_one_gaussian():
    image = 0.3 * _gauss(15, 12, 2.0, 4.5)
    np.testing.assert_allclose(m.peak_widths(image[None], 0.05), [3.0])  # sqrt(2 * 4.5)


def test_total_intensity():
    images = np.stack([np.full((4, 4), 0.25), np.zeros((4, 4))])
    np.testing.assert_allclose(m.total_intensity(images), [4.0, 0.0])


def test_radial_spectrum_of_a_cosine():
    x = np.arange(32)
    image = np.cos(2 * np.pi * 3 * x / 32)[None, :].repeat(32, axis=0)
    spectrum = m.radial_power_spectrum(image[None])[0]
    assert spectrum.shape == (16,)
    expected = np.zeros(16)
    # |FFT|^2 = (32*32/2)^2 at (0, +-3); ring 3 holds those 2 of its pixels (rounded radius 3)
    ring = np.rint(np.hypot(*np.meshgrid(np.fft.fftfreq(32) * 32, np.fft.fftfreq(32) * 32)))
    expected[2] = 2 * (512**2) / 32**2 / (ring == 3).sum()
    np.testing.assert_allclose(spectrum, expected, atol=1e-9)


def test_identical_sets_score_perfect(real):
    train, _ = real
    assert m.spectrum_distance(m.radial_power_spectrum(train), m.radial_power_spectrum(train)) == 0
    assert m.diversity_ratio(train, train) == 1.0
    f = np.random.default_rng(0).normal(size=(300, 8))
    np.testing.assert_allclose(m.frechet_distance(f, f), 0.0, atol=1e-8)
    assert m.prdc(f, f, k=5) | {"density": None} == {
        "precision": 1.0,
        "recall": 1.0,
        "density": None,
        "coverage": 1.0,
    }
    np.testing.assert_allclose(m.nearest_distances(train[:50], train), np.zeros(50))
    assert m.copy_rate(np.zeros(50), 1e-3) == 1.0


def test_real_images_are_not_collapsed_copies_are(real):
    train, heldout = real
    thr = m.duplicate_threshold(train, 0.05)
    div, dup = m.diversity_ratio(heldout, train), m.duplicate_rate(heldout, thr)
    assert m.mode_collapse(div, dup) is False
    copies = np.repeat(heldout[:1], 400, axis=0)
    assert m.diversity_ratio(copies, train) == 0.0
    assert m.duplicate_rate(copies, thr) == 1.0
    assert m.mode_collapse(m.diversity_ratio(copies, train), m.duplicate_rate(copies, thr))
    # A few modes repeated: spread stays high, but every sample has a twin.
    few = np.repeat(heldout[:8], 50, axis=0)
    assert m.duplicate_rate(few, thr) == 1.0
    assert m.mode_collapse(m.diversity_ratio(few, train), m.duplicate_rate(few, thr))
    # Equally varied but fainter images are not collapsed.
    assert m.diversity_ratio(0.3 * heldout, train) == pytest.approx(
        m.diversity_ratio(heldout, train)
    )


def test_mode_collapse_rule():
    assert [m.mode_collapse(d, u) for d, u in [(1.0, 0.05), (0.49, 0.0), (1.0, 0.51)]] == [
        False,
        True,
        True,
    ]


def test_mmd_matches_brute_force():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(6, 3)), rng.normal(1.0, size=(5, 3))

    def k(x, y):
        return (x @ y / 3 + 1) ** 3

    aa = np.mean([k(a[i], a[j]) for i, j in itertools.permutations(range(6), 2)])
    bb = np.mean([k(b[i], b[j]) for i, j in itertools.permutations(range(5), 2)])
    ab = np.mean([k(x, y) for x in a for y in b])
    np.testing.assert_allclose(m.mmd2_unbiased(a, b), aa + bb - 2 * ab)
    kd = m.kernel_distance(a, b, subsets=3, subset_size=10, rng=np.random.default_rng(0))
    np.testing.assert_allclose(kd, aa + bb - 2 * ab)  # subsets of all points: the same value


def test_frechet_distance_of_shifted_gaussians():
    rng = np.random.default_rng(0)
    f = rng.normal(size=(2000, 4))
    np.testing.assert_allclose(m.frechet_distance(f, f + 2.0), 16.0, rtol=1e-9)


def test_prdc_of_disjoint_sets():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(100, 2))
    assert m.prdc(a, a + 100.0, k=5) == {
        "precision": 0.0,
        "recall": 0.0,
        "density": 0.0,
        "coverage": 0.0,
    }


def test_nearest_distances_kth_and_self_exclusion():
    x = np.array([[0.0], [1.0], [3.0]])
    np.testing.assert_allclose(m.nearest_distances(x, x, exclude_self=True), [1, 1, 2])
    np.testing.assert_allclose(m.nearest_distances(x, x, exclude_self=True, k=2), [3, 2, 3])
    np.testing.assert_allclose(m.nearest_distances(x, x, exclude_self=True, chunk=1), [1, 1, 2])
