"""The sweep's figures are drawn from results rows alone."""

from __future__ import annotations

from scigan.sweep.figures import criterion_heat_maps, criterion_vs_keys, magnetization_curves
from scigan.sweep.results import parse_criterion, select


def _rows():
    rows = []
    for point, lr in (("a", 1e-6), ("b", 1e-5), ("c", 1e-4)):
        for t in (1.0, 2.0, 3.0):
            rows.append({
                "point": point, "train.lr_critic": lr, "temperature": t, "status": "done",
                "loss": lr * t, "generated.abs_m": 1 / t, "generated.m": -1 / t,
                "mc.abs_m": 1 / t, "exact.abs_m": 1 / t,
            })  # fmt: skip
    return rows


def test_figures_are_written_for_grouped_rows(tmp_path):
    rows = _rows()
    criteria = {"loss": parse_criterion("loss")}
    selection = {"criteria": {"loss": {"chosen": select(rows, criteria["loss"], "temperature",
                                                        ["train.lr_critic"])}}}  # fmt: skip
    assert [c["point"] for c in selection["criteria"]["loss"]["chosen"]] == ["a", "a", "a"]
    axes = {"train.lr_critic": [1e-6, 1e-5, 1e-4]}
    paths = [
        criterion_vs_keys(rows, criteria, axes, "temperature", tmp_path / "criteria.png"),
        criterion_heat_maps(rows, criteria, selection, "temperature", tmp_path / "heat.png"),
        magnetization_curves(rows, selection, "temperature", tmp_path / "m.png"),
    ]
    assert [p.name for p in paths] == ["criteria.png", "heat.png", "m.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in paths)
    assert magnetization_curves([{**r, "generated.abs_m": None} for r in rows][:0], selection,
                                "temperature", tmp_path / "none.png") is None  # fmt: skip
