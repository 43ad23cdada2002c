import json

import numpy as np

from scigan.core.metrics import (
    metrics_table,
    pick_rows,
    schema_problems,
    set_names,
    wasserstein_1d,
    write_metrics,
)


def test_wasserstein_1d():
    assert wasserstein_1d([1, 2, 3], [1, 2, 3]) == 0.0
    np.testing.assert_allclose(wasserstein_1d([0, 0], [1, 1]), 1.0)
    assert wasserstein_1d([], [1.0]) is None


RESULT = {
    "case_study": "toy",
    "run_dir": "runs/toy",
    "step": 3,
    "n_samples": 2,
    "generated": {"a": 0.123456, "k": {"1": 2}, "ok": True},
    "heldout_floor": {"a": None, "k": {"1": 1}, "ok": False},
    "baseline_const": {"k": {"1": 0}},
    "notes": {"a": "a number"},
    "seconds": 0.5,
}


def test_set_names_are_the_shared_names_in_order():
    assert set_names(RESULT) == ["generated", "heldout_floor", "baseline_const"]


def test_table_has_a_row_per_set_and_only_columns_some_set_has():
    assert metrics_table(RESULT, ("a", "k:1", "ok", "missing")) == (
        "| set | a | k:1 | ok |\n"
        "|---|---|---|---|\n"
        "| generated | 0.1235 | 2 | yes |\n"
        "| heldout_floor | - | 1 | no |\n"
        "| baseline_const | - | 0 | - |"
    )


def test_schema_problems_name_what_is_missing():
    assert schema_problems(RESULT) == []
    broken = {k: v for k, v in RESULT.items() if k not in ("step", "heldout_floor")}
    assert schema_problems(broken) == ["missing key 'step'", "no 'heldout_floor' set"]
    per = {**{k: RESULT[k] for k in ("case_study", "run_dir", "step", "seconds")}}
    per["rows"] = [{"generated": {}, "heldout_floor": {}}, {"generated": {}}]
    assert schema_problems(per, per="rows") == ["rows[1]: no 'heldout_floor' set"]
    assert schema_problems({**per, "rows": []}, per="rows") == ["'rows' is missing or empty"]


def test_write_metrics_round_trips(tmp_path):
    write_metrics(tmp_path / "m" / "metrics.json", RESULT)
    assert json.loads((tmp_path / "m" / "metrics.json").read_text()) == RESULT
    assert [p.name for p in (tmp_path / "m").iterdir()] == ["metrics.json"]


def test_pick_rows_replaces_only_when_short():
    rows = np.arange(5)
    picked, replaced = pick_rows(np.random.default_rng(0), rows, 5)
    assert sorted(picked.tolist()) == [0, 1, 2, 3, 4] and replaced is False
    picked, replaced = pick_rows(np.random.default_rng(0), rows, 7)
    assert len(picked) == 7 and replaced is True
