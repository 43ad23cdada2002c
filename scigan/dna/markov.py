"""Markov-chain baselines over DNA windows (codes A=0, T=1, C=2, G=3).

An order-k chain is fitted on all (k+1)-mers inside the training windows. A window's first k
positions have no full context, so position i < k uses the order-i chain fitted on the same
rows: every window gets a proper likelihood and can be sampled from scratch.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from scigan.dna.metrics import kmer_index


def _transition_probs(codes: np.ndarray, order: int, pseudocount: float) -> np.ndarray:
    """(4**order, 4) P(next | context) from the (order+1)-mers of the rows; contexts never seen
    with pseudocount 0 are uniform."""
    counts = np.bincount(kmer_index(codes, order + 1).ravel(), minlength=4 ** (order + 1))
    counts = counts.reshape(4**order, 4).astype(np.float64) + pseudocount
    totals = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        probs = np.where(totals > 0, counts / totals, 0.25)
    return probs


def _sampling_cdf(probs: np.ndarray) -> np.ndarray:
    """Cumulative probabilities (first 3 columns) for inverse-CDF sampling, made exactly 1.0
    once no probability mass is left, so a zero-probability symbol is never drawn."""
    cdf = np.cumsum(probs, axis=1)
    tail_empty = np.cumsum(probs[:, ::-1], axis=1)[:, ::-1] <= 0  # no mass at or after j
    cdf[:, :-1][tail_empty[:, 1:]] = 1.0
    return cdf[:, :3]


@dataclass
class MarkovChain:
    """Chains of orders 0..order; `probs[i]` is (4**i, 4) with the context as a base-4 index
    (first nucleotide most significant)."""

    order: int
    pseudocount: float
    probs: list[np.ndarray]
    _cdf: list[np.ndarray] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def fit(cls, codes: np.ndarray, order: int, pseudocount: float = 0.5) -> MarkovChain:
        if order < 0:
            raise ValueError(f"order must be >= 0, got {order}")
        if pseudocount < 0:
            raise ValueError(f"pseudocount must be >= 0, got {pseudocount}")
        codes = np.asarray(codes)
        if codes.ndim != 2:
            raise ValueError(f"codes must have shape (n, w), got {codes.shape}")
        probs = [_transition_probs(codes, i, pseudocount) for i in range(order + 1)]
        return cls(order=order, pseudocount=float(pseudocount), probs=probs)

    def truncate(self, order: int) -> MarkovChain:
        """The order-`order` chain (<= self.order) fitted on the same rows, without refitting."""
        if not 0 <= order <= self.order:
            raise ValueError(f"order {order} is outside 0..{self.order}")
        return MarkovChain(order, self.pseudocount, self.probs[: order + 1])

    def position_log2probs(self, codes: np.ndarray) -> np.ndarray:
        """(n, w) log2 P(codes[:, j] | preceding context) under the chain."""
        codes = np.asarray(codes)
        n, w = codes.shape
        out = np.empty((n, w), dtype=np.float64)
        with np.errstate(divide="ignore"):
            for j in range(min(self.order, w)):
                idx = kmer_index(codes[:, : j + 1], j + 1)[:, 0]
                out[:, j] = np.log2(self.probs[j].ravel()[idx])
            if w > self.order:
                idx = kmer_index(codes, self.order + 1)
                out[:, self.order :] = np.log2(self.probs[self.order].ravel())[idx]
        return out

    def log_likelihood_bits_per_nt(self, codes: np.ndarray) -> float:
        """Mean log2 probability per nucleotide over all positions of all rows (-inf when a
        transition has probability zero, possible only with pseudocount 0)."""
        codes = np.asarray(codes)
        if codes.size == 0:
            raise ValueError("no nucleotides to score")
        return float(self.position_log2probs(codes).mean())

    def sample(self, n: int, length: int, rng: np.random.Generator) -> np.ndarray:
        """(n, length) uint8 windows drawn from the chain (inverse CDF, vectorized over n)."""
        if self._cdf is None:
            self._cdf = [_sampling_cdf(p) for p in self.probs]
        out = np.empty((n, length), dtype=np.uint8)
        context = np.zeros(n, dtype=np.int64)
        mask = 4**self.order - 1  # keeps the last `order` nucleotides of the context
        for j in range(length):
            o = min(j, self.order)
            u = rng.random(n)
            c = (u[:, None] >= self._cdf[o][context]).sum(axis=1)
            out[:, j] = c
            context = ((context << 2) | c) & mask if self.order else context
        return out

    def to_dict(self) -> dict:
        return {
            "order": self.order,
            "pseudocount": self.pseudocount,
            "probs": [p.tolist() for p in self.probs],
        }

    @classmethod
    def from_dict(cls, d: dict) -> MarkovChain:
        return cls(
            order=int(d["order"]),
            pseudocount=float(d["pseudocount"]),
            probs=[np.asarray(p, dtype=np.float64) for p in d["probs"]],
        )


def fit_markov(codes: np.ndarray, order: int, pseudocount: float = 0.5) -> MarkovChain:
    return MarkovChain.fit(codes, order, pseudocount)


def markov_loglik_table(
    train_codes: np.ndarray,
    heldout_codes: np.ndarray,
    orders: Iterable[int] = range(0, 11),
    pseudocount: float = 0.5,
) -> dict[str, float]:
    """Held-out log-likelihood (bits per nt) of the chain of each order fitted on train_codes."""
    orders = list(orders)
    if not orders:
        return {}
    # One fit at the highest order holds every lower-order chain too.
    chain = MarkovChain.fit(train_codes, max(orders), pseudocount)
    return {str(o): chain.truncate(o).log_likelihood_bits_per_nt(heldout_codes) for o in orders}
