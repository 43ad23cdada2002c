import itertools
import math
from collections import Counter

import numpy as np
import pytest

from scigan.dna.markov import MarkovChain, fit_markov, markov_loglik_table

_CODE = {"A": 0, "T": 1, "C": 2, "G": 3}


def enc(*rows: str) -> np.ndarray:
    return np.array([[_CODE[c] for c in r] for r in rows], dtype=np.uint8)


def reference_fit(codes: np.ndarray, order: int, pc: float) -> list[dict]:
    """Plain-Python counting: per order i, {context tuple: [P(A), P(T), P(C), P(G)]}."""
    tables = []
    for i in range(order + 1):
        counts: Counter = Counter()
        for row in codes.tolist():
            for s in range(len(row) - i):
                counts[tuple(row[s : s + i + 1])] += 1
        table = {}
        for ctx in itertools.product(range(4), repeat=i):
            c = [counts[ctx + (x,)] + pc for x in range(4)]
            total = sum(c)
            table[ctx] = [x / total for x in c] if total > 0 else [0.25] * 4
        tables.append(table)
    return tables


def reference_loglik_on(train: np.ndarray, held: np.ndarray, order: int, pc: float) -> float:
    tables = reference_fit(train, order, pc)
    logs = [
        math.log2(tables[min(j, order)][tuple(row[j - min(j, order) : j])][x])
        for row in held.tolist()
        for j, x in enumerate(row)
    ]
    return sum(logs) / len(logs)


def test_order0_probabilities_hand_computed():
    chain = MarkovChain.fit(enc("AAT", "ACG"), 0, pseudocount=0.5)
    # counts A=3, T=1, C=1, G=1; +0.5 each over 6 + 2
    np.testing.assert_allclose(chain.probs[0], [[3.5 / 8, 1.5 / 8, 1.5 / 8, 1.5 / 8]], rtol=1e-15)


def test_order0_on_perfectly_uniform_rows_is_two_bits():
    rows = np.array(list(itertools.product(range(4), repeat=4)), dtype=np.uint8)
    assert MarkovChain.fit(rows, 0).log_likelihood_bits_per_nt(rows) == -2.0


def test_fit_matches_plain_python_counting():
    rng = np.random.default_rng(0)
    codes = rng.choice(4, size=(40, 12), p=[0.4, 0.3, 0.2, 0.1]).astype(np.uint8)
    chain = fit_markov(codes, 2, pseudocount=0.5)
    ref = reference_fit(codes, 2, 0.5)
    for i in range(3):
        expected = [ref[i][ctx] for ctx in itertools.product(range(4), repeat=i)]
        np.testing.assert_allclose(chain.probs[i], expected, rtol=1e-13)
    held = rng.integers(0, 4, (15, 12)).astype(np.uint8)
    np.testing.assert_allclose(
        chain.log_likelihood_bits_per_nt(held), reference_loglik_on(codes, held, 2, 0.5), rtol=1e-13
    )


def test_loglik_constant_row_hand_computed():
    row = enc("A" * 10)
    # position 0: order 0, P(A) = (10 + .5) / (10 + 2); positions 1-9: P(A|A) = (9 + .5) / (9 + 2)
    expected = (math.log2(10.5 / 12) + 9 * math.log2(9.5 / 11)) / 10
    got = MarkovChain.fit(row, 1, 0.5).log_likelihood_bits_per_nt(row)
    np.testing.assert_allclose(got, expected, rtol=1e-14)


def test_loglik_period_two_row_hand_computed():
    row = enc("ATATATATAT")
    # order 0: A 5, T 5 -> 5.5/12.  order 1: A->T 5 times -> 5.5/7.
    # order 2 (positions 2-9): ATA x4, TAT x4 -> 4.5/6 each.
    expected = (math.log2(5.5 / 12) + math.log2(5.5 / 7) + 8 * math.log2(4.5 / 6)) / 10
    got = MarkovChain.fit(row, 2, 0.5).log_likelihood_bits_per_nt(row)
    np.testing.assert_allclose(got, expected, rtol=1e-14)


def test_deterministic_cycle_with_no_pseudocount_is_exact():
    rows = enc(*["AACGT" * 6] * 3)  # period 5, not determined by one nucleotide (A->A, A->C)
    chain = MarkovChain.fit(rows, 5, pseudocount=0.0)
    probs = chain.position_log2probs(rows)
    # With contexts of >= 5 nt every transition is certain.
    np.testing.assert_array_equal(probs[:, 5:], np.zeros((3, 25)))
    # position 0: P(A) = 12/30 (2 A's per 5)
    np.testing.assert_allclose(probs[:, 0], math.log2(12 / 30), rtol=1e-15)


def test_unseen_context_with_zero_pseudocount_is_uniform():
    chain = MarkovChain.fit(enc("AAAA"), 1, pseudocount=0.0)
    np.testing.assert_array_equal(chain.probs[1][_CODE["A"]], [1.0, 0.0, 0.0, 0.0])
    for c in "TCG":
        np.testing.assert_array_equal(chain.probs[1][_CODE[c]], [0.25] * 4)
    assert chain.log_likelihood_bits_per_nt(enc("AT")) == -math.inf


def test_sampling_a_deterministic_cycle_reproduces_it():
    rows = enc(*["AACGT" * 6] * 3)
    chain = MarkovChain.fit(rows, 5, pseudocount=0.0)
    samples = chain.sample(500, 40, np.random.default_rng(0))
    assert samples.dtype == np.uint8 and samples.shape == (500, 40)
    # Every sample is a stretch of the cycle: period 5 throughout, starting anywhere.
    np.testing.assert_array_equal(samples[:, 5:], samples[:, :-5])
    cycle = "AACGT" * 3
    starts = {cycle.find("".join("ATCG"[c] for c in s[:5])) for s in samples}
    assert starts == {0, 1, 2, 3, 4}


def test_sample_is_seeded():
    chain = MarkovChain.fit(np.random.default_rng(1).integers(0, 4, (50, 20)), 3)
    a = chain.sample(100, 30, np.random.default_rng(5))
    b = chain.sample(100, 30, np.random.default_rng(5))
    c = chain.sample(100, 30, np.random.default_rng(6))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_sampled_transition_frequencies_match_the_chain():
    rng = np.random.default_rng(2)
    train = rng.choice(4, size=(200, 30), p=[0.1, 0.2, 0.3, 0.4]).astype(np.uint8)
    chain = MarkovChain.fit(train, 2, pseudocount=0.5)
    n = 20_000
    samples = chain.sample(n, 30, rng)
    # Position 0 follows the order-0 chain: 5 binomial standard errors.
    p0 = chain.probs[0][0]
    freq0 = np.bincount(samples[:, 0], minlength=4) / n
    np.testing.assert_allclose(freq0, p0, rtol=0, atol=5 * np.sqrt(p0 * (1 - p0) / n).max())
    # Positions >= 2 follow the order-2 chain. Given its context each draw is independent, so
    # per context the frequencies are multinomial around the chain's probabilities.
    idx = (samples[:, :-2].astype(np.int64) * 16 + samples[:, 1:-1] * 4 + samples[:, 2:]).ravel()
    counts = np.bincount(idx, minlength=64).reshape(16, 4)
    per_ctx = counts.sum(axis=1, keepdims=True)
    p2 = chain.probs[2]
    atol = 5 * np.sqrt(p2 * (1 - p2) / per_ctx).max()
    np.testing.assert_allclose(counts / per_ctx, p2, rtol=0, atol=atol)


def test_loglik_table_equals_separate_fits():
    rng = np.random.default_rng(3)
    train = rng.choice(4, size=(80, 25), p=[0.3, 0.3, 0.2, 0.2]).astype(np.uint8)
    held = rng.integers(0, 4, (20, 25)).astype(np.uint8)
    table = markov_loglik_table(train, held, orders=range(0, 5), pseudocount=0.5)
    assert list(table) == ["0", "1", "2", "3", "4"]
    for o in range(5):
        expected = MarkovChain.fit(train, o, 0.5).log_likelihood_bits_per_nt(held)
        assert table[str(o)] == expected
    np.testing.assert_allclose(table["3"], reference_loglik_on(train, held, 3, 0.5), rtol=1e-13)


def test_default_loglik_table_has_orders_0_to_10():
    codes = np.random.default_rng(4).integers(0, 4, (10, 15)).astype(np.uint8)
    assert list(markov_loglik_table(codes, codes)) == [str(o) for o in range(11)]


def test_dict_round_trip():
    chain = MarkovChain.fit(np.random.default_rng(5).integers(0, 4, (20, 10)), 2)
    back = MarkovChain.from_dict(chain.to_dict())
    assert back.order == 2 and back.pseudocount == 0.5
    for p, q in zip(chain.probs, back.probs, strict=True):
        np.testing.assert_array_equal(p, q)


def test_negative_order_is_rejected():
    with pytest.raises(ValueError):
        MarkovChain.fit(enc("ACGT"), -1)
