"""Grid axes: value lists, generated ranges, and the errors for malformed ones."""

from __future__ import annotations

import pytest

from scigan.core.errors import ConfigError
from scigan.sweep.grid import parse_axis, parse_grid, points, split_values


def test_values_are_yaml_and_brackets_keep_their_commas():
    assert parse_axis("train.lr=1e-3,0.01,2") == ("train.lr", [0.001, 0.01, 2])
    assert parse_axis("train.adam_betas=[0.5, 0.9],[0,0.99]") == (
        "train.adam_betas", [[0.5, 0.9], [0, 0.99]],
    )  # fmt: skip
    assert parse_axis("model.head=softmax,linear") == ("model.head", ["softmax", "linear"])
    assert split_values("'a,b',{x: 1, y: 2},3") == ["'a,b'", "{x: 1, y: 2}", "3"]


def test_generated_ranges():
    key, values = parse_axis("train.lr_critic=log10:-6:-4.25:8")
    assert key == "train.lr_critic"
    assert values == [
        1e-06, 1.77827941004e-06, 3.16227766017e-06, 5.6234132519e-06,
        1e-05, 1.77827941004e-05, 3.16227766017e-05, 5.6234132519e-05,
    ]  # fmt: skip
    assert parse_axis("train.epochs=range:1:6")[1] == [1, 2, 3, 4, 5, 6]
    assert parse_axis("train.epochs=range:2:10:4")[1] == [2, 6, 10]
    assert parse_axis("train.gp_weight=lin:1:10:4")[1] == [1.0, 4.0, 7.0, 10.0]
    assert parse_axis("x=log10:-2:-2:1")[1] == [0.01]


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("train.lr", "grid 'train.lr' is not of the form KEY=VALUES"),
        ("=1,2", "grid '=1,2' is not of the form KEY=VALUES"),
        ("train.lr=", "grid 'train.lr=' is not of the form KEY=VALUES"),
        ("train.lr=1,,2", "grid 'train.lr=1,,2' has an empty value"),
        ("train.lr=1,1", "grid axis 'train.lr' repeats the value 1"),
        ("x=log10:-6:-4", "grid 'x=log10:-6:-4': log10: needs 3 finite numbers"),
        ("x=log10:a:b:3", "grid 'x=log10:a:b:3': log10: needs numbers"),
        ("x=lin:0:1:2.5", "grid 'x=lin:0:1:2.5': lin: N must be a whole number >= 1"),
        ("x=range:5:1", "grid 'x=range:5:1': range needs START <= STOP and STEP > 0"),
        ("x=range:1.5:3", "grid 'x=range:1.5:3': range needs integers"),
        ("x=[1,2", "grid 'x=[1,2': '[1,2' is not valid YAML"),
    ],
)
def test_malformed_axes_are_one_error_with_a_fix(spec, problem):
    with pytest.raises(ConfigError) as error:
        parse_axis(spec)
    assert error.value.problem.startswith(problem)
    assert error.value.fix


def test_a_key_given_twice_is_an_error():
    with pytest.raises(ConfigError, match="grid key 'a' is given twice"):
        parse_grid(["a=1,2", "a=3"])


def test_points_are_the_product_with_the_last_axis_fastest():
    grid = parse_grid(["a=1,2", "b=x,y,z"])
    assert points(grid) == [
        {"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 1, "b": "z"},
        {"a": 2, "b": "x"}, {"a": 2, "b": "y"}, {"a": 2, "b": "z"},
    ]  # fmt: skip
