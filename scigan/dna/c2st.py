"""The classifier two-sample test (C2ST) of the DNA evaluation: how well a small 1-D CNN tells
two sets of sequences apart, as a held-out AUROC (0.5: indistinguishable).

Sequences are `codes`, uint8 of shape (n, w) with A=0, T=1, C=2, G=3.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scigan.dna.data import _as_codes


def auroc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U / (n_pos n_neg)), ties as average ranks."""
    from scipy.stats import rankdata

    scores = np.asarray(scores, dtype=np.float64).ravel()
    labels = np.asarray(labels).ravel().astype(bool)
    n_pos = int(labels.sum())
    n_neg = len(labels) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("AUROC needs both classes")
    ranks = rankdata(scores, method="average")
    u = ranks[labels].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def _one_hot(codes: np.ndarray):
    import torch

    x = torch.from_numpy(np.ascontiguousarray(codes, dtype=np.int64))
    return torch.nn.functional.one_hot(x, 4).permute(0, 2, 1).float().contiguous()


def c2st_auc_folds(
    codes_a: np.ndarray,
    codes_b: np.ndarray,
    *,
    seed: int,
    device: str = "cpu",
    epochs: int = 4,
    batch_size: int = 256,
    lr: float = 1e-3,
    channels: int = 32,
    max_per_class: int = 10_000,
    train_fraction: float = 0.7,
    val_fraction: float = 0.15,
    num_threads: int | None = 1,
    ordered_a: bool = False,
    ordered_b: bool = False,
    gap: int = 0,
    folds: int = 3,
) -> list[float]:
    """Classifier two-sample test: held-out AUROC of a small 1-D CNN telling set a (label 1)
    from set b (label 0); 0.5 = indistinguishable.

    Classes are balanced (min(len_a, len_b, max_per_class) rows each), shuffled with a numpy
    Generator from `seed`, 70 % trains, 30 % tests; the last `val_fraction` of the training part
    picks the epoch (early stopping on validation loss). Global RNG state is left untouched.
    `num_threads` sets torch's CPU threads for this call only (restored after; None keeps the
    process setting): the model is too small to gain much from threads, and on a busy machine
    a second thread made it 6x slower (37 s vs 6 s for 10,000 vs 10,000 on 2 shared cores).

    `ordered_a`/`ordered_b` say a set's rows are overlapping windows in genome order. Such a set
    is split into contiguous blocks (fit, then validation, then test, in genome order) with
    `gap` rows dropped at each block edge (window - 1 for stride-1 windows), so no test window
    overlaps a training one; a random split would put 1-nt shifts of the same window on both
    sides and the classifier would score memorized regions, not distributions. Even so the
    test block of a 3 kb held-out region holds only ~900 nt of sequence, so one split is noisy:
    `folds` rotations put the test block on different parts of the ordered sets (blocked
    cross-validation; unordered sets are reshuffled), one AUROC per fold.
    """
    import torch

    previous = torch.get_num_threads()
    if num_threads:
        torch.set_num_threads(num_threads)
    try:
        return [
            _c2st(
                codes_a, codes_b, seed, device, epochs, batch_size, lr, channels,
                max_per_class, train_fraction, val_fraction, (ordered_a, ordered_b), gap, fold,
            )
            for fold in range(folds)
        ]  # fmt: skip
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)


def c2st_auc(codes_a: np.ndarray, codes_b: np.ndarray, *, seed: int, **kwargs: Any) -> float:
    """Mean over folds of `c2st_auc_folds` (same arguments)."""
    return float(np.mean(c2st_auc_folds(codes_a, codes_b, seed=seed, **kwargs)))


def _c2st(
    codes_a: np.ndarray,
    codes_b: np.ndarray,
    seed: int,
    device: str,
    epochs: int,
    batch_size: int,
    lr: float,
    channels: int,
    max_per_class: int,
    train_fraction: float,
    val_fraction: float,
    ordered: tuple[bool, bool] = (False, False),
    gap: int = 0,
    fold: int = 0,
) -> float:
    import torch

    codes_a, codes_b = _as_codes(codes_a), _as_codes(codes_b)
    if codes_a.shape[1] != codes_b.shape[1]:
        raise ValueError("the two sets have different widths")
    rng = np.random.default_rng([seed, fold])
    m = min(len(codes_a), len(codes_b), max_per_class)
    if m < 4:
        raise ValueError(f"C2ST needs at least 4 rows per set, got {m}")
    cut_fit = int(round((train_fraction - val_fraction) * m))
    cut_val = int(round(train_fraction * m))
    parts: dict[str, list[np.ndarray]] = {"fit": [], "val": [], "test": []}
    labels: dict[str, list[np.ndarray]] = {"fit": [], "val": [], "test": []}
    for codes, is_ordered, label in ((codes_a, ordered[0], 1.0), (codes_b, ordered[1], 0.0)):
        if is_ordered:
            # Fold f moves the test block f block-lengths towards the start (circularly).
            rows = np.roll(
                np.sort(rng.choice(len(codes), size=m, replace=False)), fold * (m - cut_val)
            )
            bounds = {"fit": (0, cut_fit), "val": (cut_fit, cut_val), "test": (cut_val, m)}
            for name, (lo, hi) in bounds.items():
                block = rows[lo:hi]
                others = np.sort(np.concatenate([rows[:lo], rows[hi:]]))
                # Drop windows within `gap` positions of any window of another block.
                at = np.searchsorted(others, block)
                left = others[np.clip(at - 1, 0, len(others) - 1)]
                right = others[np.clip(at, 0, len(others) - 1)]
                near = np.minimum(np.abs(block - left), np.abs(right - block))
                parts[name].append(codes[block[near > gap]])
        else:
            rows = rng.permutation(len(codes))[:m]
            for name, (lo, hi) in {"fit": (0, cut_fit), "val": (cut_fit, cut_val),
                                   "test": (cut_val, m)}.items():  # fmt: skip
                parts[name].append(codes[rows[lo:hi]])
        for name in parts:
            labels[name].append(np.full(len(parts[name][-1]), label, dtype=np.float32))
    sizes = {name: [len(p) for p in parts[name]] for name in parts}
    if min(sizes["fit"]) == 0 or min(sizes["test"]) == 0:
        raise ValueError(f"C2ST split left an empty class: {sizes}")
    x_all = np.concatenate([np.concatenate(parts[n]) for n in ("fit", "val", "test")])
    y_all = np.concatenate([np.concatenate(labels[n]) for n in ("fit", "val", "test")])
    n_fit = sum(sizes["fit"])
    n_train = n_fit + sum(sizes["val"])
    dev = torch.device(device)
    x = _one_hot(x_all).to(dev)
    y = torch.from_numpy(y_all).to(dev)

    with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
        torch.manual_seed(seed)
        w = x.shape[2]
        k = 5 if w >= 9 else 1
        model = torch.nn.Sequential(
            torch.nn.Conv1d(4, channels, k),
            torch.nn.ReLU(),
            torch.nn.Conv1d(channels, channels, k),
            torch.nn.ReLU(),
            torch.nn.AdaptiveMaxPool1d(1),
            torch.nn.Flatten(),
            torch.nn.Linear(channels, 1),
        ).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def scores(lo: int, hi: int) -> torch.Tensor:
        model.eval()
        with torch.no_grad():
            out = torch.cat(
                [model(x[i : min(i + 4096, hi)]).squeeze(1) for i in range(lo, hi, 4096)]
            )
        model.train()
        return out

    best_val, best_state = float("inf"), None
    for _ in range(epochs):
        for idx in np.array_split(rng.permutation(n_fit), max(1, -(-n_fit // batch_size))):
            i = torch.from_numpy(idx).to(dev)
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[i]).squeeze(1), y[i])
            loss.backward()
            opt.step()
        if n_train > n_fit:
            val = float(loss_fn(scores(n_fit, n_train), y[n_fit:n_train]))
            if val < best_val:
                best_val = val
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    if best_state is not None:
        model.load_state_dict(best_state)
    test_scores = scores(n_train, len(x_all)).cpu().numpy()
    return auroc(test_scores, y_all[n_train:])
