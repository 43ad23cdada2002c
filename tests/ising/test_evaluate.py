"""Physics evaluation of generated lattices: known answers, distances, and the whole command."""

import json

import numpy as np
import pytest

from scigan.core import workflow
from scigan.core.registry import load_case_study, resolve_case_config
from scigan.ising.evaluate import (
    compare,
    exact_values,
    generator_summary,
    histogram_distances,
    lattice_physics,
    temperature_metrics,
)


def test_all_up_lattices():
    up = np.ones((50, 9, 9), dtype=np.int8)
    p = lattice_physics(up, 1.5)
    expected = {
        "m": 1.0,
        "abs_m": 1.0,
        "m2": 1.0,
        "e": -2.0,
        "specific_heat": 0.0,
        "susceptibility": 0.0,
        "binder": 2.0 / 3.0,
    }
    assert {k: p[k] for k in expected} == pytest.approx(expected, abs=1e-12)
    # half of them all down: the signed mean vanishes, nothing else changes
    both = np.concatenate([up[:25], -up[25:]])
    q = lattice_physics(both, 1.5)
    assert q["m"] == pytest.approx(0.0, abs=1e-12)
    assert {k: q[k] for k in expected if k != "m"} == pytest.approx(
        {k: v for k, v in expected.items() if k != "m"}, abs=1e-12
    )


def test_independent_random_spins():
    # infinite temperature: i.i.d. +-1 spins, N = 81: <e> = 0, <m^2> = 1/N, N var(e) = 2, so
    # c = 2 / T^2; <m^4> = (3N^2 - 2N) / N^4, so U4 = 2 / (3N); compared within 5 errors
    N, T = 81, 2.0
    rng = np.random.default_rng(1)
    lattices = rng.choice(np.array([-1, 1], dtype=np.int8), size=(40000, 9, 9))
    p = lattice_physics(lattices, T)
    expected = {
        "e": 0.0,
        "m": 0.0,
        "m2": 1.0 / N,
        "specific_heat": 2.0 / T**2,
        "binder": 2.0 / (3.0 * N),
    }
    for key, value in expected.items():
        assert abs(p[key] - value) <= 5 * p[f"{key}_err"], key


def test_histogram_distances():
    up = np.ones((10, 4, 4), dtype=np.int8)
    same = histogram_distances(up, up)
    assert same == {"w1_m": 0.0, "w1_abs_m": 0.0, "w1_e": 0.0}
    flipped = histogram_distances(up, -up)
    assert flipped == {"w1_m": 2.0, "w1_abs_m": 0.0, "w1_e": 0.0}


def test_compare_applies_the_bar():
    mc = {
        "m": 0.0,
        "abs_m": 0.5,
        "m2": 0.3,
        "e": -1.0,
        "specific_heat": 1.0,
        "susceptibility": 2.0,
        "binder": 0.5,
    }
    good = dict(mc, abs_m=0.515, e=-0.99, specific_heat=1.15, susceptibility=1.7)
    out = compare(good, mc)
    assert out["passes"]
    assert out["d_abs_m"] == pytest.approx(0.015)
    assert out["rel_susceptibility"] == pytest.approx(-0.15)
    assert not compare(dict(good, specific_heat=1.25), mc)["passes"]
    assert not compare(dict(good, abs_m=0.53), mc)["passes"]
    # within noise: an error beyond the bar passes when it is within 2 standard errors
    errors = {f"{k}_err": 0.0 for k in mc}
    noisy_mc = {**mc, **errors, "specific_heat_err": 0.12}
    noisy = {**good, **errors, "specific_heat": 1.25, "specific_heat_err": 0.09}  # 0.25 < 0.3
    out = compare(noisy, noisy_mc)
    assert not out["passes"] and out["passes_within_noise"]
    out = compare(dict(noisy, specific_heat=1.31), noisy_mc)  # d = 0.31 > 2 * 0.15
    assert not out["passes"] and not out["passes_within_noise"]
    # no error bars: within noise is the bar itself
    assert compare(good, mc)["passes_within_noise"]
    assert not compare(dict(good, abs_m=0.53), mc)["passes_within_noise"]
    # bar_error: the largest error in units of its allowance (<= 1 iff within noise)
    assert compare(good, mc)["bar_error"] == pytest.approx(0.75)  # e.g. |m|: 0.015 of 0.02
    assert compare(dict(good, abs_m=0.53), mc)["bar_error"] == pytest.approx(1.5)
    assert compare(noisy, noisy_mc)["bar_error"] == pytest.approx(0.25 / 0.3)  # 2 sigma
    frozen = {**mc, "specific_heat": 0.0, "susceptibility": 0.0}
    hot = dict(good, specific_heat=0.5, susceptibility=0.0)
    assert compare(hot, frozen)["bar_error"] == pytest.approx(5e5)  # 0.5 of at least 1e-6


def test_monte_carlo_against_itself_and_exact():
    from scigan.montecarlo import exact

    rng = np.random.default_rng(0)
    lattices = rng.choice(np.array([-1, 1], dtype=np.int8), size=(64, 4, 4))
    values = exact_values(4, np.array([2.0]))[0]
    row = temperature_metrics(2.0, lattices, lattices, lattices, 8, 1, values)
    assert row["generated_vs_mc"]["d_e"] == 0.0 and row["generated_vs_mc"]["w1_m"] == 0.0
    assert row["exact"]["e"] == pytest.approx(float(exact.kaufman(4, 2.0)["energy"]))
    assert exact_values(11, np.array([2.0])) is None


def test_evaluate_writes_metrics_and_figures(small_ising, tmp_path):
    case = load_case_study("ising")
    cfg = resolve_case_config(
        case,
        None,
        [f"data.path={small_ising}", "train.steps=3", "train.batch_size=8", "num_threads=1"],
    )
    workflow.train(case, cfg, tmp_path / "run", None, False)
    summary = workflow.evaluate(case, tmp_path / "run", None, False)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert [r["temperature"] for r in metrics["per_temperature"]] == [1.0, 2.0, 3.0]
    assert metrics["n_samples"] == 32  # the held-out count, 20 % of 160
    assert metrics["generator"] == {"steps": [3], "weights": "raw", "average_decay": None}
    row = metrics["per_temperature"][1]
    for part in ("generated", "mc", "heldout_floor", "exact", "generated_vs_mc", "losses"):
        assert part in row
    assert set(row["losses"]) == {"critic_wasserstein", "critic_gp", "critic_total", "generator"}
    assert "d<|m|>" in summary
    names = {p.name for p in (tmp_path / "run" / "figures").iterdir()}
    assert names == {
        "fig11a_magnetization.png",
        "fig11b_losses.png",
        "observables.png",
        "histogram_distances.png",
    }
    workflow.sample(case, tmp_path / "run", 7, tmp_path / "s.npz", None)
    saved = np.load(tmp_path / "s.npz")
    assert saved["spins"].shape == (3, 7, 4, 4)


def test_generator_summary_names_the_weights_evaluated():
    from scigan.ising.groups import TrainedGroup

    def group(step: int, averaged: bool) -> TrainedGroup:
        return TrainedGroup(np.zeros(1), np.zeros(1), None, step, averaged)

    assert generator_summary([group(5, True), group(5, True)], 0.99) == {
        "steps": [5],
        "weights": "average",
        "average_decay": 0.99,
    }
    assert generator_summary([group(4, True), group(5, False)], 0.99) == {
        "steps": [4, 5],
        "weights": "mixed",
        "average_decay": 0.99,
    }


def test_the_held_out_lattices_split_into_validation_and_test_halves():
    from scigan.ising.evaluate import lattice_physics, temperature_metrics

    rng = np.random.default_rng(0)
    lattices = lambda n: rng.choice(np.array([-1, 1], dtype=np.int8), size=(n, 4, 4))  # noqa: E731
    generated, heldout, floor = lattices(30), lattices(43), lattices(30)
    row = temperature_metrics(2.5, generated, heldout, floor, 4, 1, None)
    gen = lattice_physics(generated, 2.5)
    # 43 held-out lattices of 4 chains: halves of 20 (whole time steps of every chain)
    assert row["generated_vs_mc_validation"] == compare(gen, lattice_physics(heldout[:20], 2.5, 4))
    assert row["generated_vs_mc_test"] == compare(gen, lattice_physics(heldout[20:40], 2.5, 4))
    assert "bar_error" in row["generated_vs_mc_test"]
    too_few = temperature_metrics(2.5, generated, heldout[:7], floor, 4, 1, None)
    assert "generated_vs_mc_validation" not in too_few
