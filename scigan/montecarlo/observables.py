"""Observables of Ising samples and their statistical errors.

Per sample: energy per spin e (E = -sum over bonds s_i s_j, each bond once) and
magnetization per spin m. Per temperature: means of e, m, |m|, m^2, m^4; specific heat
c = N (<e^2> - <e>^2) / T^2; susceptibility chi' = N (<m^2> - <|m|>^2) / T (the finite-lattice
form, since <m> = 0 by symmetry); Binder cumulant U4 = 1 - <m^4> / (3 <m^2>^2); spin-spin
correlation G(r) = <s_0 s_r>. At T = 0, c and chi are defined as 0 (their T -> 0+ limit).

Errors: jackknife over blocks of whole chains when there are at least as many chains as blocks
(independent by construction), else over consecutive time bins of each chain (binning).
Integrated autocorrelation times by Sokal's automatic window, reported alongside.
"""

from __future__ import annotations

import numpy as np

N_BLOCKS = 32
SOKAL_WINDOW = 6.0


def energy_per_spin(lattices: np.ndarray) -> np.ndarray:
    """e for each lattice of a (..., L, L) array."""
    s = lattices.astype(np.int32)
    bonds = s * np.roll(s, -1, axis=-1) + s * np.roll(s, -1, axis=-2)
    return -bonds.sum(axis=(-2, -1)) / (s.shape[-1] * s.shape[-2])


def magnetization_per_spin(lattices: np.ndarray) -> np.ndarray:
    """m for each lattice of a (..., L, L) array."""
    return lattices.astype(np.int32).sum(axis=(-2, -1)) / (lattices.shape[-1] * lattices.shape[-2])


def correlation_function(lattices: np.ndarray) -> np.ndarray:
    """G(r) = <s_i s_{i+r}> for r = 0..L//2 along both axes, averaged over sites and samples."""
    s = lattices.astype(np.float64)
    L = s.shape[-1]
    return np.array(
        [
            0.5 * np.mean(s * np.roll(s, r, axis=-1)) + 0.5 * np.mean(s * np.roll(s, r, axis=-2))
            for r in range(L // 2 + 1)
        ]
    )


def integrated_autocorrelation_time(series: np.ndarray) -> tuple[float, int]:
    """tau_int = 1/2 + sum_t rho(t) with Sokal's window (smallest W >= 6 tau(W)).

    series: (chains, time) or (time,). Returns (tau in units of the time step, window). A
    constant series (e.g. a frozen chain at T = 0) has tau = 1/2 by definition.
    """
    x = np.atleast_2d(np.asarray(series, dtype=np.float64))
    if x.size == 0:  # fewer samples than chains: no time series to measure
        return 0.5, 0
    x = x - x.mean()
    n = x.shape[1]
    variance = np.mean(x * x)
    if n < 2 or variance <= 1e-300:
        return 0.5, 0
    size = 1 << int(np.ceil(np.log2(2 * n)))
    spectrum = np.fft.rfft(x, size, axis=1)
    autocov = np.fft.irfft(spectrum * np.conj(spectrum), size, axis=1)[:, :n].mean(axis=0)
    rho = autocov / (np.arange(n, 0, -1) * variance)
    tau = 0.5
    for window in range(1, n):
        tau += rho[window]
        if window >= SOKAL_WINDOW * tau:
            return float(tau), window
    return float(tau), n - 1


def _block_labels(n_samples: int, chains: int, n_blocks: int) -> np.ndarray:
    """Block of each sample (samples stored time-major: sample k is chain k % chains)."""
    chain = np.arange(n_samples) % chains
    step = np.arange(n_samples) // chains
    order = np.lexsort((step, chain))  # chain-major: whole chains, then time bins within one
    labels = np.empty(n_samples, dtype=np.int64)
    labels[order] = np.arange(n_samples) * n_blocks // n_samples
    return labels


def jackknife(
    columns: dict[str, np.ndarray], estimator, chains: int, n_blocks: int = N_BLOCKS
) -> tuple[dict, dict]:
    """Estimates from all samples and their jackknife errors over blocks.

    columns: per-sample arrays (time-major); estimator maps a dict of column means to a dict
    of derived quantities.
    """
    n = len(next(iter(columns.values())))
    n_blocks = max(2, min(n_blocks, n))
    labels = _block_labels(n, chains, n_blocks)
    counts = np.bincount(labels, minlength=n_blocks).astype(np.float64)
    sums = {k: np.bincount(labels, weights=v, minlength=n_blocks) for k, v in columns.items()}
    full = estimator({k: s.sum() / n for k, s in sums.items()})
    leave_out = [
        estimator({k: (s.sum() - s[b]) / (n - counts[b]) for k, s in sums.items()})
        for b in range(n_blocks)
    ]
    errors = {}
    for key in full:
        values = np.array([est[key] for est in leave_out])
        errors[key] = float(np.sqrt((n_blocks - 1) * np.mean((values - values.mean()) ** 2)))
    return {k: float(v) for k, v in full.items()}, errors


def _thermodynamics(temperature: float, n_spins: int):
    def estimator(mean: dict) -> dict:
        heat = n_spins * (mean["e2"] - mean["e"] ** 2) / temperature**2 if temperature > 0 else 0.0
        chi = n_spins * (mean["m2"] - mean["abs_m"] ** 2) / temperature if temperature > 0 else 0.0
        return {
            "e": mean["e"],
            "m": mean["m"],
            "abs_m": mean["abs_m"],
            "m2": mean["m2"],
            "specific_heat": heat,
            "susceptibility": chi,
            "binder": 1.0 - mean["m4"] / (3.0 * mean["m2"] ** 2),
        }

    return estimator


def summarize(
    energy: np.ndarray,
    magnetization: np.ndarray,
    temperature: float,
    L: int,
    chains: int,
    interval: int = 1,
) -> dict:
    """Per-temperature means with errors, and tau_int (in sweeps) of e and |m|.

    energy, magnetization: per-spin values of each sample, time-major over `chains` chains.
    """
    e = np.asarray(energy, dtype=np.float64)
    m = np.asarray(magnetization, dtype=np.float64)
    columns = {"e": e, "e2": e * e, "m": m, "abs_m": np.abs(m), "m2": m * m, "m4": m**4}
    values, errors = jackknife(columns, _thermodynamics(temperature, L * L), chains)
    summary = {"temperature": float(temperature), "samples": int(e.size)}
    for key, value in values.items():
        summary[key] = value
        summary[f"{key}_err"] = errors[key]
    whole = (e.size // chains) * chains  # complete time slices, for per-chain series
    for key, series in (("e", e), ("abs_m", np.abs(m))):
        tau, _ = integrated_autocorrelation_time(series[:whole].reshape(-1, chains).T)
        summary[f"tau_{key}_sweeps"] = tau * interval
    return summary
