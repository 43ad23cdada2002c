"""The numba kernels of the Monte Carlo engines (mc.py drives them): each updates a batch of
chains in place, chain by chain (or 64-chain word by word) in parallel, with the chain's own
xoroshiro128+ stream, whose state (s0, s1) is read from and written back to `rng`.

Acceptance compares the high 32 bits of a random word with 32-bit integer thresholds
floor(p * 2^32) (mc.metropolis_thresholds, mc.wolff_thresholds, mc.probability_bits).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(inline="always")
def _xoroshiro128p(s0, s1):
    """One xoroshiro128+ step: (64-bit output, new s0, new s1). Use the high 32 bits."""
    result = s0 + s1
    s1 ^= s0
    n0 = ((s0 << np.uint64(24)) | (s0 >> np.uint64(40))) ^ s1 ^ (s1 << np.uint64(16))
    n1 = (s1 << np.uint64(37)) | (s1 >> np.uint64(27))
    return result, n0, n1


@njit(inline="always")
def _below(u, n):
    """Uniform integer in [0, n) from the high 32 bits of u (multiply-shift)."""
    return np.int64(((u >> np.uint64(32)) * np.uint64(n)) >> np.uint64(32))


@njit(inline="always")
def _lanes_below(undecided, probability_bits, s0, s1):
    """Lanes (bits) where a fresh uniform 32-bit U_b < p_b, resolved only for `undecided` lanes.

    p_b is given bit-sliced, probability_bits[j] = lanes whose p has binary digit j (from
    2^-1) set. Digits of U are drawn one random word at a time, most significant first; a lane
    is decided at its first digit differing from p's, so ~log2(lanes) + 2 words suffice.
    Exactly equivalent to U32 < floor(p 2^32) lane by lane.
    """
    accepted = np.uint64(0)
    for j in range(probability_bits.size):
        if undecided == 0:
            break
        u, s0, s1 = _xoroshiro128p(s0, s1)
        pj = probability_bits[j]
        accepted |= undecided & ~u & pj
        undecided &= ~(u ^ pj)
    return accepted, s0, s1


@njit(cache=True, parallel=True)
def multispin_sweeps(words, neighbours, order, offsets, p4_bits, p8_bits, rng, n_sweeps):
    """Multi-spin-coded sublattice Metropolis: bit b of words[w, site] is the spin (1 = up) of
    chain 64 w + b, so one word operation updates a site in 64 independent chains, each with its
    own temperature (bit-sliced acceptance probabilities) and its own random digits.

    With a = number of antiparallel neighbours, dE = 8 - 4a: flip if a >= 2, with probability
    p4 = exp(-4/T) if a = 1 and p8 = exp(-8/T) if a = 0. Returns attempts made.
    """
    n_words, n_sites = words.shape
    n_colours = offsets.size - 1
    for w in prange(n_words):
        s0, s1 = rng[w, 0], rng[w, 1]
        lattice = words[w]
        p4, p8 = p4_bits[w], p8_bits[w]
        for _ in range(n_sweeps):
            for colour in range(n_colours):
                for k in range(offsets[colour], offsets[colour + 1]):
                    site = order[k]
                    nb = neighbours[site]
                    spin = lattice[site]
                    x1 = spin ^ lattice[nb[0]]
                    x2 = spin ^ lattice[nb[1]]
                    x3 = spin ^ lattice[nb[2]]
                    x4 = spin ^ lattice[nb[3]]
                    s12, s34 = x1 ^ x2, x3 ^ x4
                    at_least_two = (x1 & x2) | (x3 & x4) | (s12 & s34)
                    exactly_one = (s12 ^ s34) & ~at_least_two
                    none = ~(x1 | x2 | x3 | x4)
                    flip = at_least_two
                    if exactly_one:
                        accepted, s0, s1 = _lanes_below(exactly_one, p4, s0, s1)
                        flip |= accepted
                    if none:
                        accepted, s0, s1 = _lanes_below(none, p8, s0, s1)
                        flip |= accepted
                    lattice[site] = spin ^ flip
        rng[w, 0], rng[w, 1] = s0, s1
    return n_words * 64 * n_sweeps * n_sites


@njit(cache=True, parallel=True)
def random_site_sweeps(spins, neighbours, thresholds, rng, n_sweeps):
    """The thesis's Metropolis: N attempts per sweep, each at a uniformly random site."""
    n_chains, n_sites = spins.shape
    for r in prange(n_chains):
        s0, s1 = rng[r, 0], rng[r, 1]
        lattice = spins[r]
        thr4, thr8 = thresholds[r, 0], thresholds[r, 1]
        for _ in range(n_sweeps * n_sites):
            u, s0, s1 = _xoroshiro128p(s0, s1)
            site = _below(u, n_sites)
            nb = neighbours[site]
            field = np.int32(lattice[nb[0]]) + lattice[nb[1]] + lattice[nb[2]] + lattice[nb[3]]
            x = lattice[site] * field
            if x <= 0:
                lattice[site] = -lattice[site]
            else:
                u, s0, s1 = _xoroshiro128p(s0, s1)
                if (u >> np.uint64(32)) < (thr4 if x == 2 else thr8):
                    lattice[site] = -lattice[site]
        rng[r, 0], rng[r, 1] = s0, s1
    return n_chains * n_sweeps * n_sites


@njit(cache=True, parallel=True)
def wolff_sweeps(spins, neighbours, add_thresholds, rng, clusters_per_sweep, n_sweeps):
    """Wolff cluster updates, clusters_per_sweep[r] clusters per sweep for chain r.

    Returns the number of spins flipped per chain. The number of clusters is fixed in advance:
    "grow clusters until N spins flipped" is a state-dependent stopping rule that biases the
    sampled states towards the aftermath of large clusters (<|m|> 0.91 instead of 0.83 at
    L = 4, T = 2.3). Sites are flipped as they join, so a neighbour still carrying the old
    sign is exactly a candidate not yet in the cluster.
    """
    n_chains, n_sites = spins.shape
    flipped_per_chain = np.zeros(n_chains, dtype=np.int64)
    for r in prange(n_chains):
        s0, s1 = rng[r, 0], rng[r, 1]
        lattice = spins[r]
        threshold = add_thresholds[r]
        stack = np.empty(n_sites, dtype=np.int32)
        flipped = 0
        for _ in range(n_sweeps * clusters_per_sweep[r]):
            u, s0, s1 = _xoroshiro128p(s0, s1)
            seed_site = _below(u, n_sites)
            sign = lattice[seed_site]
            lattice[seed_site] = -sign
            stack[0] = seed_site
            top = 1
            flipped += 1
            while top > 0:
                top -= 1
                site = stack[top]
                for d in range(4):
                    other = neighbours[site, d]
                    if lattice[other] == sign:
                        u, s0, s1 = _xoroshiro128p(s0, s1)
                        if (u >> np.uint64(32)) < threshold:
                            lattice[other] = -sign
                            stack[top] = other
                            top += 1
                            flipped += 1
        flipped_per_chain[r] = flipped
        rng[r, 0], rng[r, 1] = s0, s1
    return flipped_per_chain


@njit(cache=True)
def random_spins(spins, rng):
    """Hot start: every spin +-1 with probability 1/2, from each chain's own stream."""
    n_chains, n_sites = spins.shape
    for r in range(n_chains):
        s0, s1 = rng[r, 0], rng[r, 1]
        for i in range(n_sites):
            u, s0, s1 = _xoroshiro128p(s0, s1)
            spins[r, i] = 1 if (u >> np.uint64(63)) else -1
        rng[r, 0], rng[r, 1] = s0, s1


@njit(cache=True)
def global_flips(spins, rng):
    """Flip each whole lattice with probability 1/2: an exact symmetry move (dE = 0) that lets
    a chain visit both ordered states below Tc, where local updates never tunnel."""
    n_chains, n_sites = spins.shape
    for r in range(n_chains):
        u, s0, s1 = _xoroshiro128p(rng[r, 0], rng[r, 1])
        rng[r, 0], rng[r, 1] = s0, s1
        if u >> np.uint64(63):
            for i in range(n_sites):
                spins[r, i] = -spins[r, i]


@njit(cache=True)
def random_words(words, rng):
    """Hot start for multi-spin words: every bit (spin of one chain) up with probability 1/2."""
    n_words, n_sites = words.shape
    for w in range(n_words):
        s0, s1 = rng[w, 0], rng[w, 1]
        for i in range(n_sites):
            u, s0, s1 = _xoroshiro128p(s0, s1)
            words[w, i] = u
        rng[w, 0], rng[w, 1] = s0, s1


@njit(cache=True)
def global_lane_flips(words, rng):
    """global_flips for multi-spin words: one random word flips each lane with probability 1/2."""
    n_words, n_sites = words.shape
    for w in range(n_words):
        u, s0, s1 = _xoroshiro128p(rng[w, 0], rng[w, 1])
        rng[w, 0], rng[w, 1] = s0, s1
        for i in range(n_sites):
            words[w, i] ^= u
