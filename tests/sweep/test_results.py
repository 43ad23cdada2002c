"""results.csv rows and selection: flattening, criteria, the best point per condition."""

from __future__ import annotations

import math

import pytest

from scigan.core.errors import ConfigError
from scigan.sweep.results import metric_rows, parse_criterion, select, write_csv


def test_rows_flatten_sets_and_split_per_condition():
    metrics = {
        "case_study": "x", "run_dir": "r", "step": 5, "notes": {"a": "text"},
        "per_temperature": [
            {"temperature": 1.0, "generated": {"m": 0.9, "hist": [1, 2]}},
            {"temperature": 2.0, "generated": {"m": 0.1, "hist": [3]}},
        ],
    }  # fmt: skip
    assert metric_rows(metrics, "per_temperature") == [
        {"step": 5, "temperature": 1.0, "generated.m": 0.9},
        {"step": 5, "temperature": 2.0, "generated.m": 0.1},
    ]
    flat = {"step": 3, "generated": {"kmer_jsd": {"6": 0.2}}, "heldout_floor": {"n": 4}}
    assert metric_rows(flat, None) == [
        {"step": 3, "generated.kmer_jsd.6": 0.2, "heldout_floor.n": 4}
    ]


def test_criteria_sum_terms_with_abs_and_offsets():
    row = {"a": 1.5, "b": -2.0, "c.d": 0.75}
    assert parse_criterion("a + b").value(row) == -0.5
    assert parse_criterion("a - b").value(row) == 3.5
    assert parse_criterion("abs(b) + abs(c.d - 0.5)").value(row) == 2.25
    assert parse_criterion("max:a").value(row) == -1.5
    assert math.isnan(parse_criterion("a + missing").value(row))
    assert math.isnan(parse_criterion("a").value({"a": float("inf")}))
    assert parse_criterion("a + b").columns() == ["a", "b"]


@pytest.mark.parametrize("text", ["", "a +", "a b", "abs(a", "max:"])
def test_a_malformed_criterion_is_a_clear_error(text):
    with pytest.raises(ConfigError):
        parse_criterion(text)


def test_selection_per_condition_has_a_known_answer():
    rows = [
        {"point": "p1", "lr": 1, "temperature": 1.0, "status": "done", "loss": 0.5},
        {"point": "p1", "lr": 1, "temperature": 2.0, "status": "done", "loss": 0.1},
        {"point": "p2", "lr": 2, "temperature": 1.0, "status": "done", "loss": 0.2},
        {"point": "p2", "lr": 2, "temperature": 2.0, "status": "done", "loss": 0.3},
        {"point": "p3", "lr": 3, "temperature": 1.0, "status": "failed", "loss": -9.0},
        {"point": "p4", "lr": 4, "temperature": 2.0, "status": "done", "loss": 0.1},  # a tie
    ]
    chosen = select(rows, parse_criterion("loss"), "temperature", ["lr"])
    assert chosen == [
        {"temperature": 1.0, "point": "p2", "value": 0.2, "config": {"lr": 2}},
        {"temperature": 2.0, "point": "p1", "value": 0.1, "config": {"lr": 1}},
    ]
    best = select(rows, parse_criterion("max:loss"), None, ["lr"])
    assert best == [{"point": "p1", "value": 0.5, "config": {"lr": 1}}]


def test_csv_puts_the_given_columns_first():
    text = write_csv([{"point": "p", "z": 1, "a": [1, 2]}, {"point": "q", "b": None}], ["point"])
    assert text.splitlines() == ["point,a,b,z", 'p,"[1, 2]",,1', "q,,,"]
