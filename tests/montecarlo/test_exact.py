"""Exact results against brute-force enumeration (machine precision) and known limits."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from scigan.montecarlo import exact

SHAPES = [(2, 2), (2, 3), (3, 3), (3, 4), (4, 3), (4, 4)]
TEMPERATURES = [0.5, 1.0, 2.0, exact.CRITICAL_TEMPERATURE, 2.5, 3.0, 10.0]


@pytest.mark.parametrize("rows,cols", SHAPES)
def test_kaufman_equals_brute_force(rows, cols):
    for t in TEMPERATURES:
        brute = exact.brute_force(rows, t, cols)
        kaufman = exact.kaufman(rows, t, cols)
        for key in ("log_z", "energy", "specific_heat"):
            assert_allclose(kaufman[key], brute[key], rtol=1e-13, atol=1e-13, err_msg=key)


@pytest.mark.parametrize("rows,cols", SHAPES)
def test_transfer_matrix_moments_equal_brute_force(rows, cols):
    for t in TEMPERATURES:
        brute = exact.brute_force(rows, t, cols)
        totals, probs = exact.magnetization_distribution(rows, t, cols)
        moments = exact.moments_from_distribution(totals, probs, t)
        for key in ("abs_m", "m2", "m4", "binder", "susceptibility"):
            assert_allclose(moments[key], brute[key], rtol=1e-12, atol=1e-13, err_msg=key)


def test_transfer_matrix_distribution_equals_brute_force_histogram():
    energies, magnetizations = exact.enumerate_states(4)
    t = 2.3
    weights = np.exp(-(energies - energies.min()) / t)
    totals, probs = exact.magnetization_distribution(4, t)
    histogram = np.array([weights[magnetizations == m].sum() for m in totals]) / weights.sum()
    assert_allclose(probs, histogram, atol=1e-15)


def test_kaufman_large_lattice_approaches_onsager_away_from_tc():
    t = np.array([1.0, 1.5, 3.0, 4.0])
    kaufman = exact.kaufman(256, t)
    assert_allclose(kaufman["energy"], exact.onsager_energy(t), rtol=1e-12)
    assert_allclose(kaufman["specific_heat"], exact.onsager_specific_heat(t), rtol=1e-9)


def test_onsager_specific_heat_is_the_derivative_of_the_energy():
    t = np.array([0.8, 1.5, 2.0, 2.5, 3.5])
    h = 1e-5
    derivative = (exact.onsager_energy(t + h) - exact.onsager_energy(t - h)) / (2 * h)
    assert_allclose(exact.onsager_specific_heat(t), derivative, rtol=1e-7)


def test_onsager_values_at_known_points():
    assert exact.CRITICAL_TEMPERATURE == pytest.approx(2.269185314213022, rel=1e-15)
    assert exact.onsager_energy(exact.CRITICAL_TEMPERATURE) == pytest.approx(-np.sqrt(2))
    assert exact.onsager_magnetization(2.5) == 0.0
    # Yang's formula at T = 2: (1 - sinh(1)^-4)^(1/8)
    assert exact.onsager_magnetization(2.0) == pytest.approx((1 - np.sinh(1.0) ** -4) ** 0.125)


def test_zero_temperature_rule_gives_ground_state_without_nan():
    values = exact.exact_observables(9, [0.0])
    assert values["energy"][0] == -2.0
    assert values["specific_heat"][0] == 0.0
    assert values["abs_m"][0] == 1.0
    assert values["susceptibility"][0] == 0.0
    assert exact.onsager_specific_heat(0.0) == 0.0
    totals, probs = exact.magnetization_distribution(9, 0.0)
    assert probs[0] == probs[-1] == 0.5 and totals[-1] == 81


def test_kaufman_is_continuous_at_the_ground_state_switch():
    below, above = exact.kaufman(9, [0.0199, 0.0201])["energy"]
    assert below == -2.0
    assert_allclose(above, -2.0, atol=1e-15)


def test_kaufman_near_tc_has_no_singular_term():
    t = exact.CRITICAL_TEMPERATURE * np.array([1 - 1e-12, 1.0, 1 + 1e-12])
    values = exact.kaufman(9, t)
    assert np.all(np.isfinite(values["specific_heat"]))
    assert_allclose(values["specific_heat"], values["specific_heat"][1], rtol=1e-9)


def test_negative_temperature_is_an_error():
    with pytest.raises(ValueError):
        exact.kaufman(4, -1.0)
