"""DNA evaluation metrics: k-mer spectra, GC content, memorization (longest exact match in the
training genome), diversity, and (from c2st.py) a classifier two-sample test.

A set of sequences is `codes`, uint8 of shape (n, w) with A=0, T=1, C=2, G=3. Reference genome
material is a list of 1-D code arrays (segments); no match runs across a segment boundary.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from scigan.dna.c2st import c2st_auc_folds
from scigan.dna.data import _as_codes

_WORD = 32  # nucleotides packed per uint64 (2 bits each)


def kmer_index(codes: np.ndarray, k: int) -> np.ndarray:
    """(n, w-k+1) int64 base-4 index of the k-mer starting at each position (first nt most
    significant)."""
    codes = _as_codes(codes)
    n, w = codes.shape
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    m = w - k + 1
    if m <= 0:
        return np.zeros((n, 0), dtype=np.int64)
    idx = codes[:, :m].astype(np.int64)
    for j in range(1, k):
        idx <<= 2
        idx |= codes[:, j : j + m]
    return idx


def kmer_counts(codes: np.ndarray, k: int) -> np.ndarray:
    """Counts (length 4**k, int64) of all overlapping k-mers within each row."""
    return np.bincount(kmer_index(codes, k).ravel(), minlength=4**k).astype(np.int64)


def jsd_bits(p_counts: np.ndarray, q_counts: np.ndarray) -> float:
    """Jensen-Shannon divergence (bits, in [0, 1]) between two normalized count vectors."""
    p = np.asarray(p_counts, dtype=np.float64)
    q = np.asarray(q_counts, dtype=np.float64)
    if p.shape != q.shape:
        raise ValueError(f"count vectors differ in shape: {p.shape} vs {q.shape}")
    sp, sq = p.sum(), q.sum()
    if sp <= 0 or sq <= 0:
        raise ValueError("a count vector sums to zero")
    pn, qn = p / sp, q / sq
    total = 0.0
    # Weight the log-ratios by the raw counts and divide by the total at the end: disjoint
    # supports then give exactly 1.0 and identical spectra exactly 0.0 (2p/(p+p) == 1 exactly).
    for counts, own, s in ((p, pn, sp), (q, qn, sq)):
        nz = counts > 0
        ratio = 2.0 * own[nz] / (pn[nz] + qn[nz])
        total += 0.5 * float(np.dot(counts[nz], np.log2(ratio))) / s
    return float(min(max(total, 0.0), 1.0))


def kmer_jsd(
    codes: np.ndarray, reference_counts: dict[int, np.ndarray], ks: Iterable[int] = range(1, 7)
) -> dict[str, float]:
    """JSD (bits) of the set's k-mer spectrum from the reference spectrum, for each k."""
    return {str(k): jsd_bits(kmer_counts(codes, k), reference_counts[k]) for k in ks}


def gc_content(codes: np.ndarray) -> np.ndarray:
    """Per-row fraction of C or G."""
    codes = _as_codes(codes)
    return (codes >= 2).mean(axis=1)


def unique_rate(codes: np.ndarray) -> float:
    """Number of distinct rows / number of rows."""
    codes = _as_codes(codes)
    n, w = codes.shape
    if n == 0:
        return 0.0
    rows = np.ascontiguousarray(codes, dtype=np.uint8).view(np.dtype((np.void, max(w, 1))))
    return len(np.unique(rows)) / n


def reverse_complement(seq: np.ndarray) -> np.ndarray:
    """Reverse complement of a 1-D code array (A<->T is 0<->1, C<->G is 2<->3: code ^ 1)."""
    return (np.asarray(seq, dtype=np.uint8)[::-1] ^ 1).astype(np.uint8)


def _pack_words(text: np.ndarray, length: int, width: int) -> list[np.ndarray]:
    """Pack text[..., i + c] for c < width, at every position i < length, into
    ceil(width / 32) big-endian uint64 words (so comparing the word tuples compares the
    strings lexicographically). `text` has at least length + width - 1 entries on its last axis."""
    words = []
    for w0 in range(0, width, _WORD):
        word = np.zeros(text.shape[:-1] + (length,), dtype=np.uint64)
        for c in range(w0, w0 + _WORD):
            word <<= np.uint64(2)
            if c < width:
                word |= text[..., c : c + length]
        words.append(word.ravel())
    return words


def _bit_length(x: np.ndarray) -> np.ndarray:
    """Number of significant bits of each uint64."""
    x = x.copy()
    for s in (1, 2, 4, 8, 16, 32):
        x |= x >> np.uint64(s)
    if hasattr(np, "bitwise_count"):  # numpy >= 2.0
        return np.bitwise_count(x).astype(np.int64)
    table = np.array([bin(i).count("1") for i in range(256)], dtype=np.int64)
    return table[np.ascontiguousarray(x).view(np.uint8)].reshape(x.shape + (8,)).sum(axis=-1)


def _common_prefix(a: list[np.ndarray], b: list[np.ndarray]) -> np.ndarray:
    """Common prefix length (nt) of packed strings a and b."""
    lcp = np.zeros(a[0].shape, dtype=np.int64)
    open_ = np.ones(a[0].shape, dtype=bool)  # still equal on all previous words
    for wa, wb in zip(a, b, strict=True):
        equal_nt = (64 - _bit_length(wa ^ wb)) // 2
        lcp += np.where(open_, equal_nt, 0)
        open_ &= equal_nt == _WORD
    return lcp


def _search_range(
    sorted_vals: np.ndarray, lo: np.ndarray, hi: np.ndarray, v: np.ndarray, right: bool
):
    """Vectorized binary search of v[i] in sorted_vals[lo[i]:hi[i]] (numpy's searchsorted
    semantics, side left or right); returns absolute positions."""
    lo, hi = lo.copy(), hi.copy()
    active = np.flatnonzero(lo < hi)
    while len(active):
        mid = (lo[active] + hi[active]) // 2
        vals = sorted_vals[mid]
        go_right = vals <= v[active] if right else vals < v[active]
        lo[active] = np.where(go_right, mid + 1, lo[active])
        hi[active] = np.where(go_right, hi[active], mid)
        active = active[lo[active] < hi[active]]
    return lo


class LongestMatchIndex:
    """Longest exact match of sequences in reference segments (optionally both strands).

    A truncated suffix array: every suffix of the reference, cut to the query width w and padded
    with A (code 0, the smallest symbol) past its segment's end, sorted once; each query suffix is
    located in it by a vectorized binary search. With the smallest symbol as padding, the
    reference suffix sharing the longest real prefix with a query suffix is always one of the
    query's two sorted neighbours, so no per-character Python work is needed.
    """

    def __init__(self, segments: Sequence[np.ndarray], both_strands: bool = True):
        segs = [np.asarray(s, dtype=np.uint8).ravel() for s in segments]
        segs = [s for s in segs if len(s)]
        if any(int(s.max()) > 3 for s in segs):
            raise ValueError("reference segments must hold codes 0..3 only")
        if both_strands:
            segs = segs + [reverse_complement(s) for s in segs]
        self.both_strands = both_strands
        self.segments = segs
        self.total_length = int(sum(len(s) for s in segs))
        self._cache: dict[int, tuple[list[np.ndarray], np.ndarray]] = {}

    def _reference_keys(self, width: int) -> tuple[list[np.ndarray], np.ndarray]:
        """Packed width-nt prefixes of every reference suffix and their real lengths (<= width),
        sorted by (prefix, length)."""
        if width not in self._cache:
            pieces, starts, lengths, offset = [], [], [], 0
            for s in self.segments:
                pieces.append(s)
                pieces.append(np.zeros(width, dtype=np.uint8))  # A padding past the segment
                starts.append(offset + np.arange(len(s)))
                lengths.append(np.minimum(np.arange(len(s), 0, -1), width))
                offset += len(s) + width
            text = np.concatenate(pieces).astype(np.uint64)
            start = np.concatenate(starts)
            words = [word[start] for word in _pack_words(text, len(text) - width + 1, width)]
            length = np.concatenate(lengths).astype(np.int64)
            order = np.lexsort([length, *reversed(words)])
            # Only the latest width is kept: a run evaluates one window size.
            self._cache = {width: ([word[order] for word in words], length[order])}
        return self._cache[width]

    def longest_match(self, codes: np.ndarray) -> np.ndarray:
        """(n,) int64: per row, the length of its longest substring found in the reference."""
        codes = _as_codes(codes)
        n, w = codes.shape
        if n == 0 or w == 0 or self.total_length == 0:
            return np.zeros(n, dtype=np.int64)
        if int(codes.max()) > 3:
            raise ValueError("codes must be 0..3")
        ref_words, ref_len = self._reference_keys(w)
        n_ref = len(ref_len)

        # Every suffix of every row, A-padded to width w.
        padded = np.zeros((n, 2 * w - 1), dtype=np.uint64)
        padded[:, :w] = codes
        q_words = _pack_words(padded, w, w)
        q_len = np.tile(np.arange(w, 0, -1), n)

        # Narrow, word by word, to the references whose packed prefix equals the query's; the
        # query is placed after all of them, so its left neighbour is the longest equal one.
        lo = np.searchsorted(ref_words[0], q_words[0], side="left")
        hi = lo.copy()
        eq = np.flatnonzero(ref_words[0][np.minimum(lo, n_ref - 1)] == q_words[0])
        hi[eq] = np.searchsorted(ref_words[0], q_words[0][eq], side="right")
        for rw, qw in zip(ref_words[1:], q_words[1:], strict=True):
            tied = np.flatnonzero(lo < hi)
            if len(tied) == 0:
                break
            t_lo, t_hi = lo[tied], hi[tied]
            lo[tied] = _search_range(rw, t_lo, t_hi, qw[tied], right=False)
            hi[tied] = _search_range(rw, t_lo, t_hi, qw[tied], right=True)
        position = hi

        best = np.zeros(len(q_len), dtype=np.int64)
        for nb in (position - 1, position):
            ok = (nb >= 0) & (nb < n_ref)
            r_id, qi = nb[ok], np.flatnonzero(ok)
            lcp = _common_prefix([k[r_id] for k in ref_words], [k[qi] for k in q_words])
            lcp = np.minimum(np.minimum(lcp, ref_len[r_id]), q_len[qi])
            best[qi] = np.maximum(best[qi], lcp)
        return best.reshape(n, w).max(axis=1)

    def exact_hit_rate(self, codes: np.ndarray) -> float:
        """Fraction of rows found whole in the reference."""
        codes = _as_codes(codes)
        if len(codes) == 0:
            return 0.0
        return float(np.mean(self.longest_match(codes) == codes.shape[1]))


def _percentile(values: np.ndarray, q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


def sequence_set_metrics(
    codes: np.ndarray,
    *,
    train_kmer_counts: dict[int, np.ndarray],
    match_index: LongestMatchIndex,
    c2st_reference: np.ndarray | None,
    seed: int,
    c2st_reference_ordered: bool = False,
    ks: Iterable[int] = range(1, 7),
    device: str = "cpu",
) -> dict[str, Any]:
    """All metrics of one set of sequences, as a JSON-serializable dict."""
    codes = _as_codes(codes)
    n, w = codes.shape
    gc = gc_content(codes)
    lcs = match_index.longest_match(codes)
    c2st_folds = (
        None
        if c2st_reference is None
        else c2st_auc_folds(
            codes,
            c2st_reference,
            seed=seed,
            device=device,
            ordered_b=c2st_reference_ordered,
            gap=w - 1,
        )  # fmt: skip
    )
    return {
        "n": int(n),
        "kmer_jsd": kmer_jsd(codes, train_kmer_counts, ks),
        "gc_mean": float(gc.mean()) if n else float("nan"),
        "gc_std": float(gc.std()) if n else float("nan"),
        "lcs_median": float(np.median(lcs)) if n else float("nan"),
        "lcs_p95": _percentile(lcs, 95),
        "lcs_mean": float(lcs.mean()) if n else float("nan"),
        "exact_hit_rate": float(np.mean(lcs == w)) if n else 0.0,
        "unique_rate": float(unique_rate(codes)),
        "c2st_auc": None if c2st_reference is None else float(np.mean(c2st_folds)),
        "c2st_auc_folds": c2st_folds,
    }
