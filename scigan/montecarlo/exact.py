"""Exact results for the 2D Ising model, J = 1, k_B = 1, periodic boundaries.

- Onsager: critical temperature, spontaneous magnetization, energy and specific heat per
  spin of the infinite lattice.
- Kaufman (1949): the partition function of a finite rows x cols torus as a signed sum of four
  products; energy and specific heat follow from its first two derivatives, taken
  analytically (no finite differences), so they are exact to machine precision.
- Row transfer matrix: the exact distribution P(M) of the total magnetization of a small torus
  (cols <= 10), from which <|m|>, <m^2>, <m^4>, the Binder cumulant and chi follow.
- Brute-force enumeration of all 2^N states (N <= ~20), the reference the others are
  tested against.

Energy convention: E = -sum over nearest-neighbour bonds of s_i s_j, each site bonded to its
right and lower neighbour (so an L = 2 torus has doubled bonds, as its sites have the same
neighbour on both sides). T = 0 rule, used everywhere: the T -> 0+ limit, i.e. one of the two
ground states (all up or all down) with equal probability: e = -2, |m| = 1, c = chi = 0.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

CRITICAL_TEMPERATURE = 2.0 / math.log(1.0 + math.sqrt(2.0))

# Below this temperature Kaufman's terms overflow; the deviation from the ground state there
# is ~exp(-8/T) < 1e-170, so the T = 0 values are exact to double precision.
_GROUND_STATE_BELOW = 0.02


def _as_temperatures(temperature) -> np.ndarray:
    temperatures = np.atleast_1d(np.asarray(temperature, dtype=np.float64))
    if np.any(temperatures < 0) or not np.all(np.isfinite(temperatures)):
        raise ValueError("temperatures must be finite and >= 0")
    return temperatures


def _like_input(values: np.ndarray, temperature):
    return values if np.ndim(temperature) else float(values[0])


# ---------------------------------------------------------------- Onsager, infinite lattice


def onsager_magnetization(temperature):
    """Spontaneous magnetization per spin (Yang): (1 - sinh(2/T)^-4)^(1/8) below Tc, else 0."""
    t = _as_temperatures(temperature)
    m = np.zeros_like(t)
    below = t < CRITICAL_TEMPERATURE
    m[below & (t == 0)] = 1.0
    finite = below & (t > 0)
    m[finite] = (1.0 - np.sinh(2.0 / t[finite]) ** -4.0) ** 0.125
    return _like_input(m, temperature)


def _onsager_terms(t: np.ndarray):
    k = 1.0 / t
    tanh2 = np.tanh(2 * k)
    modulus = 2.0 * np.sinh(2 * k) / np.cosh(2 * k) ** 2
    return k, tanh2, special.ellipk(modulus**2), special.ellipe(modulus**2)


def onsager_energy(temperature):
    """Energy per spin of the infinite lattice, u = -coth 2K [1 + 2/pi (2 tanh^2 2K - 1) K1]."""
    t = _as_temperatures(temperature)
    u = np.full_like(t, -2.0)
    positive = t > 0
    k, tanh2, k1, _ = _onsager_terms(t[positive])
    with np.errstate(invalid="ignore"):
        value = -(1.0 / tanh2) * (1.0 + 2.0 / np.pi * (2.0 * tanh2**2 - 1.0) * k1)
    # At Tc the elliptic integral diverges while its prefactor vanishes: the limit is -sqrt 2.
    u[positive] = np.where(np.isfinite(k1), value, -math.sqrt(2.0))
    return _like_input(u, temperature)


def onsager_specific_heat(temperature):
    """Specific heat per spin of the infinite lattice (diverges logarithmically at Tc).

    c = 4/pi (K coth 2K)^2 {K1 - E1 - (1 - tanh^2 2K)[pi/2 + (2 tanh^2 2K - 1) K1]}; the form
    with 2/pi and 2K1 - 2E1 quoted in some textbooks is off by the last term's factor 2.
    """
    t = _as_temperatures(temperature)
    c = np.zeros_like(t)
    positive = t > 0
    k, tanh2, k1, e1 = _onsager_terms(t[positive])
    with np.errstate(invalid="ignore"):
        value = (
            4.0
            / np.pi
            * (k / tanh2) ** 2
            * (k1 - e1 - (1.0 - tanh2**2) * (np.pi / 2.0 + (2.0 * tanh2**2 - 1.0) * k1))
        )
    c[positive] = np.where(np.isfinite(k1), value, np.inf)
    return _like_input(c, temperature)


# ---------------------------------------------------------------- Kaufman, finite torus


def _log_2cosh(x):
    ax = np.abs(x)
    return ax + np.log1p(np.exp(-2.0 * ax))


def _log_abs_2sinh(x):
    ax = np.abs(x)
    with np.errstate(divide="ignore"):
        return ax + np.log1p(-np.exp(-2.0 * ax))


def _exclusive_cumsum(a):
    return np.cumsum(a) - a


def _kaufman_one(rows: int, cols: int, coupling: float) -> tuple[float, float, float]:
    """(ln Z, d lnZ/dK, d2 lnZ/dK2) at K = 1/T for a rows x cols torus."""
    m, n, k = rows, cols, coupling
    # gamma_0 = 2K + ln tanh K changes sign at Kc; exactly zero makes one term's derivative
    # a 0 * inf limit, so step one ulp away (a relative change of 1e-16).
    if 2.0 * k + math.log(math.tanh(k)) == 0.0:
        k = math.nextafter(k, math.inf)
    s2, c2 = math.sinh(2 * k), math.cosh(2 * k)
    # cosh gamma_l = c(K) - cos(pi l / n), with c = cosh^2 2K / sinh 2K and its derivatives.
    c = c2 * c2 / s2
    dc = 2.0 * c2 * (s2 * s2 - 1.0) / (s2 * s2)
    d2c = 4.0 * s2 - 4.0 / s2 + 8.0 * c2 * c2 / s2**3
    index = np.arange(2 * n)
    gamma = np.empty(2 * n)
    dgamma = np.empty(2 * n)
    d2gamma = np.empty(2 * n)
    gamma[1:] = np.arccosh(c - np.cos(np.pi * index[1:] / n))
    dgamma[1:] = dc / np.sinh(gamma[1:])
    d2gamma[1:] = (d2c - np.cosh(gamma[1:]) * dgamma[1:] ** 2) / np.sinh(gamma[1:])
    # gamma_0 carries its sign (negative above Tc): the arccosh branch would lose it.
    gamma[0] = 2.0 * k + math.log(math.tanh(k))
    dgamma[0] = 2.0 + 2.0 / s2
    d2gamma[0] = -4.0 * c2 / s2**2
    x, dx, d2x = m * gamma / 2, m * dgamma / 2, m * d2gamma / 2

    log_abs, signs, first, second = [], [], [], []
    for parity in (1, 0):  # odd gammas: terms 1, 2; even gammas: terms 3, 4
        sel = slice(parity, None, 2)
        for hyperbolic in ("cosh", "sinh"):
            xs, dxs, d2xs = x[sel], dx[sel], d2x[sel]
            if hyperbolic == "cosh":
                logs, sign, ratio = _log_2cosh(xs), 1.0, np.tanh(xs)
            else:
                logs, sign = _log_abs_2sinh(xs), float(np.prod(np.sign(xs)))
                with np.errstate(divide="ignore"):
                    ratio = 1.0 / np.tanh(xs)
            a = dxs * ratio  # g_r' / g_r for each factor g_r of the product
            log_abs.append(float(np.sum(logs)))
            signs.append(sign)
            first.append(float(np.sum(a)))  # Z_i' / Z_i
            # Z_i'' / Z_i = sum g''/g + 2 sum_{r<s} a_r a_s, the cross sum without cancellation
            cross = 2 * np.sum(a * _exclusive_cumsum(a))
            second.append(float(np.sum(d2xs * ratio + dxs**2) + cross))
    log_abs, signs = np.array(log_abs), np.array(signs)
    first, second = np.array(first), np.array(second)
    top = log_abs.max()
    scaled = signs * np.exp(log_abs - top)
    total = scaled.sum()
    weights = scaled / total  # Z_i / Z, signed
    spins = m * n
    log_z = math.log(0.5) + spins / 2 * math.log(2 * s2) + top + math.log(total)
    mean_first = float(np.sum(weights * first))
    d_log_z = spins * c2 / s2 + mean_first
    d2_log_z = -2.0 * spins / s2**2 + float(np.sum(weights * second)) - mean_first**2
    return log_z, d_log_z, d2_log_z


def kaufman(rows: int, temperature, cols: int | None = None) -> dict:
    """Exact ln Z, energy and specific heat per spin of a rows x cols periodic lattice.

    Returns arrays (or floats for a scalar temperature) under 'log_z', 'energy',
    'specific_heat'. At T = 0, ln Z = -N e0 / T diverges: 'log_z' is reported as inf.
    """
    cols = rows if cols is None else cols
    if rows < 2 or cols < 2:
        raise ValueError("the lattice needs at least 2 rows and 2 columns")
    t = _as_temperatures(temperature)
    spins = rows * cols
    log_z = np.full_like(t, np.inf)
    energy = np.full_like(t, -2.0)
    specific_heat = np.zeros_like(t)
    for i, ti in enumerate(t):
        if ti < _GROUND_STATE_BELOW:
            continue
        lz, d1, d2 = _kaufman_one(rows, cols, 1.0 / ti)
        log_z[i], energy[i], specific_heat[i] = lz, -d1 / spins, d2 / (ti * ti * spins)
    return {
        "log_z": _like_input(log_z, temperature),
        "energy": _like_input(energy, temperature),
        "specific_heat": _like_input(specific_heat, temperature),
    }


# ---------------------------------------------------------------- transfer matrix, P(M)


def _row_spins(cols: int) -> np.ndarray:
    """All 2^cols rows as +-1 spins, row index = bit pattern (bit j = site j up)."""
    bits = (np.arange(2**cols)[:, None] >> np.arange(cols)) & 1
    return (2 * bits - 1).astype(np.int64)


def _momentum_bases(cols: int) -> list[np.ndarray]:
    """Unitary bases of the eigenspaces of the one-site row translation, one per momentum.

    The transfer matrix and the magnetization fugacity both commute with translations, so in
    this basis the problem splits into `cols` blocks of size ~2^cols / cols.
    """
    n_states = 2**cols
    mask = n_states - 1
    rotations = np.empty((cols, n_states), dtype=np.int64)
    states = np.arange(n_states)
    rotations[0] = states
    for j in range(1, cols):
        prev = rotations[j - 1]
        rotations[j] = ((prev << 1) | (prev >> (cols - 1))) & mask
    representative = rotations.min(axis=0)
    reps = np.flatnonzero(representative == states)
    # period = smallest j >= 1 with R^j s = s (R^cols is the identity)
    returns = np.vstack([rotations[1:, reps] == reps, np.ones((1, reps.size), dtype=bool)])
    periods = np.argmax(returns, axis=0) + 1
    bases = []
    for momentum in range(cols):
        allowed = (momentum * periods) % cols == 0
        basis = np.zeros((n_states, int(allowed.sum())), dtype=np.complex128)
        for column, (rep, period) in enumerate(zip(reps[allowed], periods[allowed], strict=True)):
            phases = np.exp(2j * np.pi * momentum * np.arange(period) / cols) / math.sqrt(period)
            basis[rotations[:period, rep], column] = phases
        bases.append(basis)
    return bases


def _flushed_power(matrices: np.ndarray, power: int) -> np.ndarray:
    """matrices ** power by repeated squaring, zeroing entries below 1e-150 of the largest
    after each product (see magnetization_distribution: avoids subnormal arithmetic)."""

    def flush(x):
        return np.where(np.abs(x) < 1e-150 * np.abs(x).max(), 0.0, x)

    result, base = None, matrices
    while power:
        if power & 1:
            result = base if result is None else flush(result @ base)
        power >>= 1
        if power:
            base = flush(base @ base)
    return result


def magnetization_distribution(
    rows: int, temperature: float, cols: int | None = None, bases: list[np.ndarray] | None = None
):
    """Exact P(M) of the total magnetization M = sum s_i on a rows x cols torus.

    Z(z) = sum_M Z_M z^{(M+N)/2} = Tr (T D_z)^rows, evaluated on the N+1 roots of unity and
    inverted by FFT; T is the row transfer matrix, D_z = diag(z^{up spins of the row}).
    Returns (M values -N, -N+2, ..., N; probabilities). Round-off (~1e-16 absolute) is
    clipped at zero and the distribution symmetrized under M -> -M. `bases`: the result of
    _momentum_bases(cols), to reuse across temperatures.
    """
    cols = rows if cols is None else cols
    if rows < 2 or cols < 2:
        raise ValueError("the lattice needs at least 2 rows and 2 columns")
    if cols > 12:
        raise ValueError("the transfer matrix is limited to rows of at most 12 spins")
    t = float(temperature)
    spins = rows * cols
    totals = np.arange(-spins, spins + 1, 2)
    if t < 0 or not math.isfinite(t):
        raise ValueError("temperature must be finite and >= 0")
    if t == 0:
        probs = np.zeros(spins + 1)
        probs[[0, -1]] = 0.5
        return totals, probs
    k = 1.0 / t
    row = _row_spins(cols)
    row_energy = -np.sum(row * np.roll(row, -1, axis=1), axis=1)
    between = -(row @ row.T)
    log_t = -k * (row_energy[:, None] / 2 + row_energy[None, :] / 2 + between)
    # scaled so the largest entry is 1 (the normalization drops out); entries below 1e-150
    # are dropped: they change Z by < 1e-140 relative, and their products would be
    # subnormal numbers, which make matrix products ~10x slower
    log_t -= log_t.max()
    transfer = np.where(log_t > -345.0, np.exp(np.maximum(log_t, -345.0)), 0.0)
    ups = (row.sum(axis=1) + cols) // 2
    # G(theta) for theta_j = 2 pi j / (N+1); G(-theta) = conj G(theta) halves the work.
    n_theta = spins + 1
    half = np.arange(n_theta // 2 + 1)
    fugacity = np.exp(2j * np.pi * half[:, None] / n_theta)
    generating = np.zeros(half.size, dtype=np.complex128)
    bases = bases if bases is not None else _momentum_bases(cols)
    for momentum, basis in enumerate(bases):
        # reflecting rows maps momentum k to -k and commutes with T and D_z: equal traces
        if basis.shape[1] == 0 or momentum > cols // 2:
            continue
        weight = 1.0 if momentum == 0 or 2 * momentum == cols else 2.0
        projected = transfer @ basis.real + 1j * (transfer @ basis.imag)  # real products
        block = basis.conj().T @ projected
        block_ups = ups[np.argmax(np.abs(basis) > 0, axis=0)]  # constant on each orbit
        twisted = block[None, :, :] * (fugacity ** block_ups[None, :])[:, None, :]
        generating += weight * np.trace(_flushed_power(twisted, rows), axis1=1, axis2=2)
    full = np.empty(n_theta, dtype=np.complex128)
    full[half] = generating
    rest = np.arange(half.size, n_theta)
    full[rest] = np.conj(generating[n_theta - rest])
    coefficients = np.fft.fft(full).real / n_theta  # index = number of up spins
    coefficients = np.clip(coefficients, 0.0, None)
    coefficients = (coefficients + coefficients[::-1]) / 2
    return totals, coefficients / coefficients.sum()


def moments_from_distribution(totals: np.ndarray, probs: np.ndarray, temperature: float) -> dict:
    """<|m|>, <m^2>, <m^4>, Binder U4 = 1 - <m^4>/(3<m^2>^2) and chi' = N(<m^2> - <|m|>^2)/T."""
    spins = int(np.max(np.abs(totals)))
    m = totals / spins
    abs_m = float(np.sum(probs * np.abs(m)))
    m2 = float(np.sum(probs * m**2))
    m4 = float(np.sum(probs * m**4))
    chi = spins * (m2 - abs_m**2) / temperature if temperature > 0 else 0.0
    return {
        "abs_m": abs_m,
        "m2": m2,
        "m4": m4,
        "binder": 1.0 - m4 / (3.0 * m2**2),
        "susceptibility": chi,
    }


def exact_observables(L: int, temperatures) -> dict:
    """Exact per-spin observables of an L x L torus at each temperature, as arrays.

    energy, specific_heat from Kaufman (any L); abs_m, m2, m4, binder, susceptibility from
    the transfer matrix when L <= 10, else NaN.
    """
    t = _as_temperatures(temperatures)
    result = {
        key: np.asarray(val, dtype=np.float64).reshape(-1) for key, val in kaufman(L, t).items()
    }
    keys = ("abs_m", "m2", "m4", "binder", "susceptibility")
    for key in keys:
        result[key] = np.full_like(t, np.nan)
    if L <= 10:
        from threadpoolctl import threadpool_limits

        bases = _momentum_bases(L)
        # the ~60 x 60 matrix products gain nothing from BLAS threads, and with other work
        # on the cores, spinning threads made them 5x slower
        with threadpool_limits(limits=1, user_api="blas"):
            for i, ti in enumerate(t):
                moments = moments_from_distribution(
                    *magnetization_distribution(L, ti, bases=bases), ti
                )
                for key in keys:
                    result[key][i] = moments[key]
    result["temperature"] = t
    return result


# ---------------------------------------------------------------- brute force


def enumerate_states(rows: int, cols: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Energy and total magnetization of every one of the 2^(rows*cols) states."""
    cols = rows if cols is None else cols
    spins = rows * cols
    if spins > 24:
        raise ValueError("brute force is limited to 24 spins")
    bits = (np.arange(2**spins, dtype=np.int64)[:, None] >> np.arange(spins)) & 1
    lattice = (2 * bits - 1).astype(np.int8).reshape(-1, rows, cols)
    bonds = lattice * np.roll(lattice, -1, axis=1) + lattice * np.roll(lattice, -1, axis=2)
    energies = -bonds.reshape(len(lattice), -1).sum(axis=1, dtype=np.int64)
    magnetizations = lattice.reshape(len(lattice), -1).sum(axis=1, dtype=np.int64)
    return energies, magnetizations


def brute_force(rows: int, temperature: float, cols: int | None = None) -> dict:
    """Exact observables per spin by summing over all states (T > 0)."""
    cols = rows if cols is None else cols
    energies, magnetizations = enumerate_states(rows, cols)
    spins = rows * cols
    t = float(temperature)
    if t <= 0:
        raise ValueError("brute force needs T > 0")
    log_w = -energies / t
    top = log_w.max()
    w = np.exp(log_w - top)
    z = w.sum()
    p = w / z
    e, m = energies / spins, magnetizations / spins
    mean_e = float(np.sum(p * e))
    m2 = float(np.sum(p * m**2))
    m4 = float(np.sum(p * m**4))
    abs_m = float(np.sum(p * np.abs(m)))
    return {
        "log_z": float(top + math.log(z)),
        "energy": mean_e,
        "specific_heat": float(spins * np.sum(p * (e - mean_e) ** 2) / t**2),
        "abs_m": abs_m,
        "m2": m2,
        "m4": m4,
        "binder": 1.0 - m4 / (3.0 * m2**2),
        "susceptibility": spins * (m2 - abs_m**2) / t,
    }
