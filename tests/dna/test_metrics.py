import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon

from scigan.dna.metrics import (
    LongestMatchIndex,
    gc_content,
    jsd_bits,
    kmer_counts,
    kmer_jsd,
    reverse_complement,
    sequence_set_metrics,
    unique_rate,
)

_CODE = {"A": 0, "T": 1, "C": 2, "G": 3}


def enc(*rows: str) -> np.ndarray:
    return np.array([[_CODE[c] for c in r] for r in rows], dtype=np.uint8)


def seg(s: str) -> np.ndarray:
    return enc(s)[0]


# --- k-mers ---------------------------------------------------------------------------------


def test_kmer_counts_hand_example_never_spans_rows():
    codes = enc("ATCG", "AAAA")
    expected = np.zeros(16, dtype=np.int64)
    expected[0] = 3  # AA x3 in row 2
    expected[1] = 1  # AT = 0*4 + 1
    expected[6] = 1  # TC = 1*4 + 2
    expected[11] = 1  # CG = 2*4 + 3
    got = kmer_counts(codes, 2)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, expected)  # GA (12), across the row break, is absent
    np.testing.assert_array_equal(kmer_counts(codes, 1), [5, 1, 1, 1])
    counts3 = kmer_counts(codes, 3)
    assert counts3[0 * 16 + 1 * 4 + 2] == 1  # ATC: first nucleotide most significant


@pytest.mark.parametrize("k", [1, 2, 3, 6])
def test_kmer_counts_sum_to_windows_per_row(k):
    codes = np.random.default_rng(k).integers(0, 4, (37, 11)).astype(np.uint8)
    counts = kmer_counts(codes, k)
    assert counts.shape == (4**k,)
    assert counts.sum() == 37 * (11 - k + 1)


def test_kmer_counts_k_longer_than_rows_is_all_zero():
    np.testing.assert_array_equal(kmer_counts(enc("ACG"), 4), np.zeros(256, dtype=np.int64))


# --- JSD ------------------------------------------------------------------------------------


def test_jsd_identical_is_zero_and_scaled_counts_are_identical_distributions():
    p = np.array([5, 0, 3, 7, 1])
    assert jsd_bits(p, p) == 0.0
    np.testing.assert_allclose(jsd_bits(p, 3 * p), 0.0, rtol=0, atol=1e-12)


def test_jsd_disjoint_supports_is_exactly_one():
    assert jsd_bits(np.array([3, 0, 4, 0]), np.array([0, 7, 0, 1])) == 1.0


def test_jsd_hand_case_and_symmetry():
    # P = (1, 0), Q = (1/2, 1/2), M = (3/4, 1/4)
    expected = 0.5 * math.log2(4 / 3) + 0.5 * (0.5 * math.log2(2 / 3) + 0.5 * math.log2(2))
    np.testing.assert_allclose(jsd_bits([1, 0], [1, 1]), expected, rtol=1e-13)
    np.testing.assert_allclose(jsd_bits([1, 1], [1, 0]), expected, rtol=1e-13)


def test_jsd_matches_scipy_on_random_counts():
    rng = np.random.default_rng(0)
    for _ in range(5):
        p, q = rng.integers(0, 20, 64), rng.integers(0, 20, 64)
        np.testing.assert_allclose(jsd_bits(p, q), jensenshannon(p, q, base=2) ** 2, rtol=1e-10)
        assert jsd_bits(p, q) == jsd_bits(q, p)


def test_kmer_jsd_keys_and_zero_for_the_reference_itself():
    codes = np.random.default_rng(1).integers(0, 4, (50, 20)).astype(np.uint8)
    ref = {k: kmer_counts(codes, k) for k in range(1, 4)}
    assert kmer_jsd(codes, ref, ks=range(1, 4)) == {"1": 0.0, "2": 0.0, "3": 0.0}


# --- simple statistics ----------------------------------------------------------------------


def test_gc_content_hand_case():
    np.testing.assert_allclose(gc_content(enc("ATCG", "GGGC", "AAAT")), [0.5, 1.0, 0.0])


def test_unique_rate_hand_cases():
    assert unique_rate(enc("AT", "AT", "TA")) == 2 / 3
    assert unique_rate(enc("ACGT", "ACGA", "TCGT")) == 1.0
    assert unique_rate(enc("GGG", "GGG", "GGG", "GGG")) == 0.25


def test_reverse_complement():
    np.testing.assert_array_equal(reverse_complement(seg("AACGT")), seg("ACGTT"))


# --- longest match --------------------------------------------------------------------------


def brute_longest_match(segments: list[np.ndarray], row: np.ndarray, both: bool) -> int:
    texts = ["".join(map(str, s)) for s in segments]
    if both:
        texts += ["".join(map(str, reverse_complement(s))) for s in segments]
    r = "".join(map(str, row))
    best = 0
    for i in range(len(r)):
        for j in range(i + best + 1, len(r) + 1):
            if any(r[i:j] in t for t in texts):
                best = j - i
            else:
                break
    return best


@st.composite
def match_cases(draw):
    alphabet = draw(st.sampled_from([1, 2, 4]))  # small alphabets make long matches likely
    symbols = st.integers(0, alphabet - 1)
    segments = draw(st.lists(st.lists(symbols, max_size=40), max_size=4))
    w = draw(st.integers(1, 70))  # up to 3 packed words
    rows = draw(st.lists(st.lists(symbols, min_size=w, max_size=w), min_size=1, max_size=4))
    return [np.array(s, dtype=np.uint8) for s in segments], np.array(rows, dtype=np.uint8)


@settings(max_examples=50, deadline=None)
@given(match_cases(), st.booleans())
def test_longest_match_equals_brute_force(case, both):
    segments, codes = case
    got = LongestMatchIndex(segments, both_strands=both).longest_match(codes)
    expected = [brute_longest_match(segments, row, both) for row in codes]
    np.testing.assert_array_equal(got, expected)


def test_longest_match_random_rows_against_brute_force():
    rng = np.random.default_rng(3)
    segments = [rng.integers(0, 2, n).astype(np.uint8) for n in (200, 150, 5)]
    codes = rng.integers(0, 2, (30, 45)).astype(np.uint8)
    for both in (False, True):
        index = LongestMatchIndex(segments, both_strands=both)
        expected = [brute_longest_match(segments, row, both) for row in codes]
        np.testing.assert_array_equal(index.longest_match(codes), expected)


def test_no_match_spans_segment_boundaries():
    segments = [seg("ACG"), seg("TTA")]
    for both in (False, True):
        # ACGTTA would match whole if the segments were joined; only ACG (or CGT) matches.
        assert LongestMatchIndex(segments, both).longest_match(enc("ACGTTA")).tolist() == [3]


def test_planted_reference_windows_match_whole():
    rng = np.random.default_rng(4)
    genome = rng.integers(0, 4, 2000).astype(np.uint8)
    segments = [genome[:900], genome[900:]]
    starts = rng.integers(0, 900 - 60, 25)
    planted = np.stack([genome[s : s + 60] for s in starts])
    index = LongestMatchIndex(segments, both_strands=False)
    np.testing.assert_array_equal(index.longest_match(planted), np.full(25, 60))
    assert index.exact_hit_rate(planted) == 1.0


def test_reverse_complement_matches_whole_only_with_both_strands():
    rng = np.random.default_rng(5)
    genome = rng.integers(0, 4, 3000).astype(np.uint8)
    rc_rows = np.stack([reverse_complement(genome[s : s + 40]) for s in (0, 500, 1234, 2960)])
    both = LongestMatchIndex([genome], both_strands=True)
    single = LongestMatchIndex([genome], both_strands=False)
    np.testing.assert_array_equal(both.longest_match(rc_rows), [40, 40, 40, 40])
    assert both.exact_hit_rate(rc_rows) == 1.0
    expected = [brute_longest_match([genome], row, False) for row in rc_rows]
    got = single.longest_match(rc_rows)
    np.testing.assert_array_equal(got, expected)
    assert single.exact_hit_rate(rc_rows) == 0.0


def test_longest_match_empty_reference_is_zero():
    np.testing.assert_array_equal(LongestMatchIndex([]).longest_match(enc("ACGT")), [0])


# --- the whole pipeline for one set ---------------------------------------------------------


def test_sequence_set_metrics_on_planted_copies():
    rng = np.random.default_rng(8)
    genome = rng.integers(0, 4, 1500).astype(np.uint8)
    train = np.stack([genome[s : s + 30] for s in range(0, 1470, 3)])
    codes = train[:40]
    result = sequence_set_metrics(
        codes,
        train_kmer_counts={k: kmer_counts(codes, k) for k in (1, 2, 3)},
        match_index=LongestMatchIndex([genome], both_strands=True),
        c2st_reference=None,
        seed=0,
        ks=(1, 2, 3),
    )
    assert json.loads(json.dumps(result)) == result
    assert result == {
        "n": 40,
        "kmer_jsd": {"1": 0.0, "2": 0.0, "3": 0.0},
        "gc_mean": float(gc_content(codes).mean()),
        "gc_std": float(gc_content(codes).std()),
        "lcs_median": 30.0,
        "lcs_p95": 30.0,
        "lcs_mean": 30.0,
        "exact_hit_rate": 1.0,
        "unique_rate": 1.0,
        "c2st_auc": None,
        "c2st_auc_folds": None,
    }


def test_sequence_set_metrics_with_c2st_is_a_float():
    rng = np.random.default_rng(9)
    codes = rng.integers(0, 4, (120, 16)).astype(np.uint8)
    reference = rng.integers(0, 4, (120, 16)).astype(np.uint8)
    result = sequence_set_metrics(
        codes,
        train_kmer_counts={1: kmer_counts(reference, 1)},
        match_index=LongestMatchIndex([rng.integers(0, 4, 300).astype(np.uint8)]),
        c2st_reference=reference,
        seed=1,
        ks=(1,),
    )
    assert isinstance(result["c2st_auc"], float)
    assert isinstance(result["n"], int) and isinstance(result["lcs_median"], float)
    assert json.loads(json.dumps(result)) == result
