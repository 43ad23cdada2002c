"""Observables, error bars and autocorrelation times on inputs with known answers."""

import numpy as np
from numpy.testing import assert_allclose

from scigan.montecarlo import observables


def test_energy_and_magnetization_of_known_lattices():
    up = np.ones((4, 4), dtype=np.int8)
    checkerboard = (1 - 2 * (np.add.outer(np.arange(4), np.arange(4)) % 2)).astype(np.int8)
    assert observables.energy_per_spin(up) == -2.0
    assert observables.magnetization_per_spin(up) == 1.0
    assert observables.energy_per_spin(checkerboard) == 2.0
    assert observables.magnetization_per_spin(checkerboard) == 0.0
    assert_allclose(observables.correlation_function(up[None]), np.ones(3))
    assert_allclose(observables.correlation_function(checkerboard[None]), [1, -1, 1])


def test_tau_int_of_an_ar1_process():
    # x_t = phi x_{t-1} + noise has rho(t) = phi^t, tau_int = (1 + phi) / (2 (1 - phi)) = 4.5
    phi, chains, n = 0.8, 16, 5000
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(chains, n))
    x = np.empty_like(noise)
    x[:, 0] = noise[:, 0] / np.sqrt(1 - phi**2)
    for t in range(1, n):
        x[:, t] = phi * x[:, t - 1] + noise[:, t]
    tau, window = observables.integrated_autocorrelation_time(x)
    exact_tau = (1 + phi) / (2 * (1 - phi))
    # Sokal/Madras: var(tau) ~ 2 (2W + 1) tau^2 / n
    sigma = np.sqrt(2 * (2 * window + 1) / (chains * n)) * exact_tau
    assert abs(tau - exact_tau) <= 4 * sigma


def test_tau_int_of_a_constant_series_is_one_half():
    assert observables.integrated_autocorrelation_time(np.ones((3, 50))) == (0.5, 0)


def test_jackknife_error_of_a_mean_is_the_standard_error_of_block_means():
    values = np.random.default_rng(1).normal(size=640)
    means, errors = observables.jackknife(
        {"x": values}, lambda m: {"x": m["x"]}, chains=64, n_blocks=32
    )
    # 64 chains, 10 samples each (time-major): blocks are pairs of whole chains
    per_chain = values.reshape(10, 64).T
    block_means = per_chain.reshape(32, 20).mean(axis=1)
    assert_allclose(means["x"], values.mean())
    assert_allclose(errors["x"], block_means.std(ddof=1) / np.sqrt(32), rtol=1e-12)


def test_zero_temperature_summary_is_finite():
    e = np.full(128, -2.0)
    m = np.where(np.arange(128) % 2 == 0, 1.0, -1.0)
    summary = observables.summarize(e, m, 0.0, 9, chains=64)
    assert summary["specific_heat"] == 0.0 and summary["susceptibility"] == 0.0
    assert summary["abs_m"] == 1.0
    assert_allclose(summary["binder"], 2.0 / 3.0, rtol=1e-15)
    assert all(np.isfinite(v) for v in summary.values())
