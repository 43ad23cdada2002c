"""The classifier two-sample test and its AUROC."""

import numpy as np

from scigan.dna.c2st import auroc, c2st_auc, c2st_auc_folds


def test_auroc_hand_cases():
    labels = np.array([0, 0, 1, 1])
    assert auroc(np.array([0.1, 0.2, 0.3, 0.4]), labels) == 1.0
    assert auroc(np.array([0.4, 0.3, 0.2, 0.1]), labels) == 0.0
    assert auroc(np.array([0.5, 0.5, 0.5, 0.5]), labels) == 0.5
    # One positive (0.3) below one negative (0.35): 3 of 4 pairs right.
    assert auroc(np.array([0.1, 0.35, 0.3, 0.4]), labels) == 0.75
    # A tie between a positive and a negative counts one half: (1 + 0.5 + 1 + 1) / 4.
    assert auroc(np.array([0.1, 0.3, 0.3, 0.4]), labels) == 0.875


def test_c2st_trivially_separable_sets_score_one():
    a = np.zeros((100, 20), dtype=np.uint8)  # all A
    b = np.ones((100, 20), dtype=np.uint8)  # all T
    assert c2st_auc(a, b, seed=0, epochs=3) == 1.0


def test_c2st_is_seeded_and_leaves_global_rng_alone():
    import torch

    rng = np.random.default_rng(6)
    a = rng.integers(0, 4, (300, 20)).astype(np.uint8)
    b = rng.integers(0, 4, (250, 20)).astype(np.uint8)
    torch.manual_seed(123)
    state, threads = torch.get_rng_state(), torch.get_num_threads()
    first = c2st_auc(a, b, seed=7, epochs=2)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.get_num_threads() == threads
    assert c2st_auc(a, b, seed=7, epochs=2) == first
    assert 0.0 <= first <= 1.0


def test_c2st_ordered_split_does_not_reward_memorizing_a_region():
    # Set b: overlapping stride-1 windows of one random genome, in genome order (like the
    # held-out block); set a: independent random rows from the same uniform distribution.
    # A random split puts 1-nt shifts of the same window in training and test, and the
    # classifier recognises b's region (AUROC ~0.97 here); split into contiguous blocks it
    # cannot. Each test block holds ~900 nt, i.e. ~15 independent 60-mers, so one fold's AUROC
    # has a null s.e. of ~0.075 and the 3-fold mean ~0.045: 3 s.e. tolerance.
    rng = np.random.default_rng(3)
    genome = rng.integers(0, 4, 3000 + 59, dtype=np.uint8)
    b = genome[np.arange(3000)[:, None] + np.arange(60)]
    a = rng.integers(0, 4, (3000, 60), dtype=np.uint8)
    folds = c2st_auc_folds(a, b, seed=0, ordered_b=True, gap=59)
    assert len(folds) == 3
    np.testing.assert_allclose(np.mean(folds), 0.5, atol=0.135)
    assert c2st_auc(a, b, seed=0, ordered_b=True, gap=59) == np.mean(folds)
