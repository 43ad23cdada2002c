"""Monte Carlo engines for the 2D Ising model (J = 1, periodic boundaries); their numba
kernels are in kernels.py.

A batch holds independent chains, each with its own temperature. Per-chain engines keep
int8 lattices of +-1, flattened to (chains, L*L), and one xoroshiro128+ stream per chain; the
multi-spin engine packs 64 chains of one temperature into the bits of a uint64 per site, with
one stream per word. Streams are seeded from numpy SeedSequence keyed by (temperature index,
chain or word), so a temperature's chains never depend on how temperatures are batched,
parallelized or resumed.

Algorithms:
- random-site Metropolis (the thesis): N attempts per sweep at uniformly random sites;
- sublattice Metropolis: sweeps the sites colour by colour with a proper colouring of the
  torus (2 colours for even L; 3 for odd L, where the checkerboard is not proper);
- Wolff single-cluster updates; one "sweep" = a fixed number of clusters per chain, chosen
  during equilibration so that they flip ~N spins on average (N / mean cluster size).

T = 0 rule (no division): the Boltzmann factor exp(-dE/T) is replaced by its T -> 0+ limit,
1 for dE <= 0 and 0 for dE > 0; the Wolff bond probability 1 - exp(-2/T) becomes 1.
Acceptance uses 32-bit integer thresholds floor(p * 2^32) (resolution 2.3e-10).
"""

from __future__ import annotations

import math
from contextlib import contextmanager

import numba
import numpy as np

from scigan.montecarlo.kernels import (
    global_flips,
    global_lane_flips,
    multispin_sweeps,
    random_site_sweeps,
    random_spins,
    random_words,
    wolff_sweeps,
)
from scigan.montecarlo.lattice import (
    boltzmann_factor,
    lattice_colouring,
    neighbour_table,
    sites_by_colour,
)

ALGORITHMS = ("metropolis", "sublattice", "wolff")
_TWO_32 = 2**32
# Site updates (per-chain lattices or multi-spin words) below which a kernel call runs on one
# thread: starting and joining threads costs ~10 ms when other work shares the cores, which
# made the data set's short per-sample calls 18x slower than on one thread.
PARALLEL_MIN_WORK = 1 << 22


@contextmanager
def threads_for(work: int):
    """Run numba parallel regions in this block on all threads only if `work` is large."""
    previous = numba.get_num_threads()
    numba.set_num_threads(previous if work >= PARALLEL_MIN_WORK else 1)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


# ---------------------------------------------------------------- seeds and thresholds


def chain_seed_sequences(seed: int, temperature_index: int, chains: int) -> list:
    """Independent seed sequences of the chains of one temperature: key (temperature, chain).

    Keyed rather than offset (seed + r collides across calls, see SPEC pitfalls), and
    independent of how many temperatures or chains exist elsewhere.
    """
    return [np.random.SeedSequence(seed, spawn_key=(temperature_index, r)) for r in range(chains)]


def rng_states(seed_sequences) -> np.ndarray:
    """(chains, 2) uint64 xoroshiro128+ states; the all-zero state is invalid and avoided."""
    states = np.stack([ss.generate_state(2, np.uint64) for ss in seed_sequences])
    states[(states == 0).all(axis=1), 1] = 1
    return states


def metropolis_thresholds(temperatures) -> np.ndarray:
    """(chains, 2) uint64 thresholds for dE = 4 and 8: floor(exp(-dE/T) 2^32); 0 at T = 0."""
    factors = np.stack(
        [boltzmann_factor(temperatures, 4.0), boltzmann_factor(temperatures, 8.0)], axis=1
    )
    return np.floor(factors * _TWO_32).astype(np.uint64)


def wolff_thresholds(temperatures) -> np.ndarray:
    """(chains,) uint64 thresholds of the bond probability 1 - exp(-2/T); 2^32 (always) at T = 0."""
    t = np.asarray(temperatures, dtype=np.float64)
    out = np.full(t.size, _TWO_32, dtype=np.uint64)
    positive = t > 0
    out[positive] = np.floor(-np.expm1(-2.0 / t[positive]) * _TWO_32).astype(np.uint64)
    return out


def probability_bits(probabilities) -> np.ndarray:
    """Bit-sliced probabilities: (lanes,) -> (lanes / 64, 32) uint64, digit j of lane b's
    floor(p 2^32) (most significant first) in bit b of entry j."""
    p = np.asarray(probabilities, dtype=np.float64)
    p_int = np.minimum(np.floor(p * _TWO_32), _TWO_32 - 1).astype(np.uint64)
    digits = (p_int[:, None] >> np.arange(31, -1, -1, dtype=np.uint64)) & np.uint64(1)
    lanes = digits.reshape(-1, 64, 32) << np.arange(64, dtype=np.uint64)[None, :, None]
    return np.bitwise_or.reduce(lanes, axis=1)


# ---------------------------------------------------------------- batches of chains


class CpuChains:
    """Chains updated one by one (random-site Metropolis or Wolff), each with its own seed.

    temperatures: one per chain; seed_sequences: one per chain.
    """

    def __init__(self, L: int, temperatures, seed_sequences, algorithm: str, start: str):
        if algorithm not in ("metropolis", "wolff"):
            raise ValueError(f"CpuChains runs metropolis or wolff, not {algorithm!r}")
        self.L = L
        self.algorithm = algorithm
        self.temperatures = np.asarray(temperatures, dtype=np.float64)
        self.rng = rng_states(seed_sequences)
        self.neighbours = neighbour_table(L)
        self.thresholds = metropolis_thresholds(self.temperatures)
        self.add_thresholds = wolff_thresholds(self.temperatures)
        self.clusters_per_sweep = np.ones(self.temperatures.size, dtype=np.int64)
        self.spins = np.ones((self.temperatures.size, L * L), dtype=np.int8)
        if start == "hot":
            random_spins(self.spins, self.rng)

    def sweep(self, n_sweeps: int) -> int:
        """Advance every chain by n_sweeps; returns spin-flip attempts (Wolff: spins flipped)."""
        if n_sweeps <= 0:
            return 0
        with threads_for(self.spins.size * n_sweeps):
            if self.algorithm == "metropolis":
                return int(
                    random_site_sweeps(
                        self.spins, self.neighbours, self.thresholds, self.rng, n_sweeps
                    )
                )
            return int(
                wolff_sweeps(
                    self.spins,
                    self.neighbours,
                    self.add_thresholds,
                    self.rng,
                    self.clusters_per_sweep,
                    n_sweeps,
                ).sum()
            )

    def equilibrate(self, n_sweeps: int, chunk: int = 10) -> int:
        """Sweeps before sampling. Wolff: also sets each chain's clusters per sweep from the
        cluster sizes seen here (adapting only here keeps the sampling schedule fixed)."""
        if self.algorithm != "wolff":
            return self.sweep(n_sweeps)
        n_sites = self.L * self.L
        done = 0
        for start in range(0, n_sweeps, chunk):
            n = min(chunk, n_sweeps - start)
            with threads_for(self.spins.size * n):
                flipped = wolff_sweeps(
                    self.spins,
                    self.neighbours,
                    self.add_thresholds,
                    self.rng,
                    self.clusters_per_sweep,
                    n,
                )
            wanted = np.rint(n_sites * n * self.clusters_per_sweep / np.maximum(flipped, 1))
            # at most doubling per chunk: sizes from a hot start understate those near Tc
            self.clusters_per_sweep = np.clip(wanted, 1, 2 * self.clusters_per_sweep).astype(
                np.int64
            )
            done += int(flipped.sum())
        return done

    def global_flip(self) -> None:
        global_flips(self.spins, self.rng)

    def lattices(self) -> np.ndarray:
        """Copy of the current lattices, (chains, L, L) int8."""
        return self.spins.reshape(-1, self.L, self.L).copy()


class MultispinChains:
    """Sublattice Metropolis, 64 chains per machine word (see multispin_sweeps).

    `chains` chains at each of `temperatures`; each temperature gets ceil(chains / 64) words of
    its own (spare lanes are simulated and dropped), so words never mix temperatures.
    seed_sequences: one per word, temperature-major.
    """

    algorithm = "sublattice"

    def __init__(self, L: int, temperatures, chains: int, seed_sequences, start: str):
        self.L = L
        self.temperatures = np.asarray(temperatures, dtype=np.float64)
        self.chains = chains
        self.words_per_temperature = -(-chains // 64)
        n_words = self.words_per_temperature * self.temperatures.size
        if len(seed_sequences) != n_words:
            raise ValueError(f"need one seed sequence per word of 64 chains ({n_words})")
        lanes = np.repeat(self.temperatures, self.words_per_temperature * 64)
        self.p4_bits = probability_bits(boltzmann_factor(lanes, 4.0))
        self.p8_bits = probability_bits(boltzmann_factor(lanes, 8.0))
        self.rng = rng_states(seed_sequences)
        self.neighbours = neighbour_table(L)
        self.order, self.offsets = sites_by_colour(lattice_colouring(L))
        self.words = np.full((n_words, L * L), np.iinfo(np.uint64).max, dtype=np.uint64)
        if start == "hot":
            random_words(self.words, self.rng)

    def sweep(self, n_sweeps: int) -> int:
        """Advance every chain by n_sweeps; returns the attempts made for real chains."""
        if n_sweeps <= 0:
            return 0
        with threads_for(self.words.size * n_sweeps):
            multispin_sweeps(
                self.words,
                self.neighbours,
                self.order,
                self.offsets,
                self.p4_bits,
                self.p8_bits,
                self.rng,
                n_sweeps,
            )
        return self.temperatures.size * self.chains * n_sweeps * self.L * self.L

    equilibrate = sweep

    def global_flip(self) -> None:
        global_lane_flips(self.words, self.rng)

    def lattices(self) -> np.ndarray:
        """Current lattices, (temperatures * chains, L, L) int8, unpacked from the words."""
        as_bytes = self.words.view(np.uint8).reshape(self.words.shape[0], -1, 8)
        bits = np.unpackbits(as_bytes, axis=2, bitorder="little")  # (words, sites, 64)
        lanes = bits.transpose(0, 2, 1).reshape(self.temperatures.size, -1, self.L, self.L)
        return (2 * lanes[:, : self.chains].astype(np.int8) - 1).reshape(-1, self.L, self.L)


def make_chains(
    L: int,
    temperatures,
    chains: int,
    seed: int,
    temperature_indices,
    algorithm: str,
    start: str,
    device: str = "cpu",
):
    """chains independent chains at each temperature, temperature-major.

    Seeds are keyed by (temperature index, chain) for per-chain algorithms and by
    (temperature index, word) for the multi-spin one, so a temperature's chains depend only on
    the seed and its index: batching and resuming do not change the data.
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r}; choose one of {', '.join(ALGORITHMS)}")
    if start not in ("hot", "cold"):
        raise ValueError(f"unknown start {start!r}; choose hot or cold")
    per_chain = np.repeat(np.asarray(temperatures, dtype=np.float64), chains)
    if device != "cpu":
        if algorithm != "sublattice":
            raise ValueError(f"the {device} path runs the sublattice algorithm, not {algorithm!r}")
        from scigan.montecarlo.torch_mc import TorchChains

        return TorchChains(L, per_chain, seed, list(temperature_indices), start, device)
    if algorithm == "sublattice":
        n_words = -(-chains // 64)
        seeds = [ss for k in temperature_indices for ss in chain_seed_sequences(seed, k, n_words)]
        return MultispinChains(L, temperatures, chains, seeds, start)
    seeds = [ss for k in temperature_indices for ss in chain_seed_sequences(seed, k, chains)]
    return CpuChains(L, per_chain, seeds, algorithm, start)


# ---------------------------------------------------------------- the thesis's Python loop


def metropolis_python(
    lattice: np.ndarray, temperature: float, attempts: int, rng: np.random.Generator
) -> np.ndarray:
    """Random-site Metropolis written as the thesis does: one Python iteration per attempt.

    Kept for fidelity and as the speed baseline; the numba kernels implement the same rule.
    """
    L = lattice.shape[0]
    for _ in range(attempts):
        i, j = rng.integers(L), rng.integers(L)
        field = (
            lattice[(i + 1) % L, j]
            + lattice[(i - 1) % L, j]
            + lattice[i, (j + 1) % L]
            + lattice[i, (j - 1) % L]
        )
        delta = 2 * int(lattice[i, j]) * int(field)
        if delta <= 0 or (temperature > 0 and rng.random() < math.exp(-delta / temperature)):
            lattice[i, j] = -lattice[i, j]
    return lattice
