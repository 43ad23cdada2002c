"""Every engine against exact finite-lattice results, within 4 sigma (jackknife over chains)."""

import numpy as np
import pytest

from scigan.montecarlo import exact, lattice, mc, observables
from scigan.montecarlo.torch_mc import TorchChains

CHECKED = ("e", "abs_m", "specific_heat", "binder")
EXACT_KEY = {"e": "energy", "abs_m": "abs_m", "specific_heat": "specific_heat", "binder": "binder"}


def sample(batch, n_temps, chains, L, equilibration, samples, interval):
    """(temperature, sample) arrays of e and m, time-major over chains."""
    batch.equilibrate(equilibration)
    lattices = []
    for _ in range(samples):
        batch.sweep(interval)
        lattices.append(batch.lattices().reshape(n_temps, chains, L, L))
    stacked = np.stack(lattices, axis=1).reshape(n_temps, -1, L, L)
    return (observables.energy_per_spin(stacked), observables.magnetization_per_spin(stacked))


def assert_matches_exact(energy, magnetization, temperatures, L, chains):
    reference = exact.exact_observables(L, temperatures)
    for k, t in enumerate(temperatures):
        summary = observables.summarize(energy[k], magnetization[k], t, L, chains)
        for key in CHECKED:
            expected = reference[EXACT_KEY[key]][k]
            sigma = summary[f"{key}_err"]
            assert sigma > 0, (key, t)
            assert abs(summary[key] - expected) <= 4 * sigma, (
                f"{key} at T={t}, L={L}: {summary[key]:.5f} +- {sigma:.5f}, exact {expected:.5f}"
            )


CASES = [  # L, temperatures, samples per chain, interval
    (4, (1.5, 2.3, 3.0), 200, 2),
    (9, (1.0, 2.0, 2.3, 2.5, 3.0), 200, 10),
]


@pytest.mark.parametrize("algorithm", mc.ALGORITHMS)
@pytest.mark.parametrize("L,temperatures,samples,interval", CASES)
def test_engine_agrees_with_exact(algorithm, L, temperatures, samples, interval):
    chains = 64
    if algorithm == "metropolis":
        interval *= 2  # its tau_int is ~4x the sublattice one
    batch = mc.make_chains(L, temperatures, chains, 11, range(len(temperatures)), algorithm, "hot")
    energy, magnetization = sample(batch, len(temperatures), chains, L, 300, samples, interval)
    assert_matches_exact(energy, magnetization, temperatures, L, chains)


@pytest.mark.parametrize("L,temperatures", [(4, (1.5, 3.0)), (9, (2.3,))])
def test_torch_sublattice_agrees_with_exact(L, temperatures):
    chains = 64
    per_chain = np.repeat(temperatures, chains)
    batch = TorchChains(L, per_chain, 5, list(range(len(temperatures))), "hot", "cpu")
    energy, magnetization = sample(batch, len(temperatures), chains, L, 100, 80, 5)
    assert_matches_exact(energy, magnetization, temperatures, L, chains)


def test_two_colour_checkerboard_is_wrong_on_odd_lattices():
    # the pitfall the three-colour scheme avoids: at L = 9 the checkerboard puts neighbours
    # across the boundary in the same colour, and the torch engine then samples nonsense
    L, t, chains = 9, 2.5, 64
    batch = TorchChains(L, np.full(chains, t), 5, [0], "hot", "cpu")
    i = np.arange(L)
    checkerboard = (i[:, None] + i[None, :]) % 2
    import torch

    batch.masks = [torch.as_tensor(checkerboard == c) for c in (0, 1)]
    energy, magnetization = sample(batch, 1, chains, L, 200, 100, 5)
    summary = observables.summarize(energy[0], magnetization[0], t, L, chains)
    expected = exact.kaufman(L, t)["energy"]
    assert abs(summary["e"] - expected) > 10 * summary["e_err"]


@pytest.mark.parametrize("L", range(2, 17))
def test_colouring_is_proper(L):
    colouring = lattice.lattice_colouring(L).reshape(-1)
    neighbours = lattice.neighbour_table(L)
    for direction in range(4):
        assert np.all(colouring[neighbours[:, direction]] != colouring)
    assert colouring.max() + 1 == (2 if L % 2 == 0 else 3)


def test_probability_bits_encode_the_thresholds():
    p = np.random.default_rng(0).random(128)
    p[:3] = [0.0, 1.0, 0.5]
    bits = mc.probability_bits(p)
    lanes = (bits[:, None, :] >> np.arange(64, dtype=np.uint64)[None, :, None]) & np.uint64(1)
    digits = lanes.reshape(128, 32)
    value = (digits * (np.uint64(1) << np.arange(31, -1, -1, dtype=np.uint64))).sum(axis=1)
    expected = np.minimum(np.floor(p * 2**32), 2**32 - 1).astype(np.uint64)
    np.testing.assert_array_equal(value, expected)


@pytest.mark.parametrize("algorithm", mc.ALGORITHMS)
def test_zero_temperature_keeps_the_ground_state(algorithm):
    batch = mc.make_chains(6, [0.0], 64, 1, [0], algorithm, "cold")
    batch.equilibrate(20)
    batch.sweep(20)
    lattices = batch.lattices()
    assert np.all(np.abs(observables.magnetization_per_spin(lattices)) == 1.0)
    assert np.all(observables.energy_per_spin(lattices) == -2.0)


@pytest.mark.parametrize("algorithm", mc.ALGORITHMS)
def test_a_temperature_chains_do_not_depend_on_the_batch(algorithm):
    def run(temperatures, indices):
        batch = mc.make_chains(5, temperatures, 3, 42, indices, algorithm, "hot")
        batch.equilibrate(10)
        batch.sweep(5)
        batch.global_flip()
        return batch.lattices().reshape(len(temperatures), 3, 5, 5)

    together = run([1.0, 2.0, 3.0], [0, 1, 2])
    alone = run([2.0], [1])
    np.testing.assert_array_equal(together[1], alone[0])
    assert not np.array_equal(together[0], together[2])


def test_thesis_python_loop_agrees_with_exact():
    L, t, sweeps = 4, 3.0, 5000
    rng = np.random.default_rng(3)
    lattice = np.ones((L, L), dtype=np.int8)
    mc.metropolis_python(lattice, t, 200 * L * L, rng)
    lattices = np.empty((sweeps, L, L), dtype=np.int8)
    for k in range(sweeps):
        lattices[k] = mc.metropolis_python(lattice, t, L * L, rng)
    summary = observables.summarize(
        observables.energy_per_spin(lattices), observables.magnetization_per_spin(lattices), t, L, 1
    )
    reference = exact.brute_force(L, t)
    for key in ("e", "abs_m"):
        expected = reference[EXACT_KEY[key]]
        assert abs(summary[key] - expected) <= 4 * summary[f"{key}_err"], key
