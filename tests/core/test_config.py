from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from scigan.core.config import differences, merge, parse_override, resolve, validate
from scigan.core.errors import ConfigError


def test_merge_overrides_nested_values_and_keeps_the_rest():
    base = {"a": 1, "train": {"steps": 10, "lr": 0.1}}
    assert merge(base, {"train": {"steps": 5}}) == {"a": 1, "train": {"steps": 5, "lr": 0.1}}
    assert base["train"]["steps"] == 10  # not mutated


def test_merge_rejects_unknown_keys_naming_them():
    with pytest.raises(ConfigError, match=r"(?s)unknown config key 'train.step'.*train.steps"):
        merge({"train": {"steps": 10}}, {"train": {"step": 5}})


def test_merge_rejects_scalar_for_section():
    with pytest.raises(ConfigError, match="is a section"):
        merge({"train": {"steps": 10}}, {"train": 3})


def test_parse_override_parses_yaml_values():
    assert parse_override("train.steps=2000") == {"train": {"steps": 2000}}
    assert parse_override("model.head=softmax") == {"model": {"head": "softmax"}}
    assert parse_override("a.b=[1, 2]") == {"a": {"b": [1, 2]}}
    assert parse_override("x=null") == {"x": None}
    with pytest.raises(ConfigError, match="key=value"):
        parse_override("train.steps")


def test_resolve_layers_defaults_user_file_and_sets(tmp_path: Path):
    defaults = tmp_path / "d.yaml"
    defaults.write_text("# comment\nseed: 0\ntrain:\n  steps: 10\n  lr: 0.1\n")
    user = tmp_path / "u.yaml"
    user.write_text("train:\n  steps: 20\n")
    got = resolve(defaults, user, ["train.lr=0.5", "seed=3"])
    assert got == {"seed": 3, "train": {"steps": 20, "lr": 0.5}}


def test_resolve_reports_missing_and_malformed_files(tmp_path: Path):
    with pytest.raises(ConfigError, match="does not exist"):
        resolve(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        resolve(bad)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")
    steps: int


def test_validate_reports_the_key_and_value():
    with pytest.raises(ConfigError, match=r"steps: .*'many'"):
        validate(_Model, {"steps": "many"})
    assert validate(_Model, {"steps": 3}).steps == 3


def test_differences_lists_changed_keys():
    assert differences({"a": {"b": 1, "c": 2}}, {"a": {"b": 1, "c": 3}}) == {"a.c": (2, 3)}
    assert differences({"a": 1}, {"a": 1}) == {}


def test_fill_missing_adds_only_absent_keys():
    from scigan.core.config import fill_missing

    defaults = {"a": 1, "s": {"b": 2, "c": 3, "t": {"d": 4}}, "new": [5]}
    saved = {"a": 10, "s": {"b": 20}}
    filled = fill_missing(saved, defaults)
    assert filled == {"a": 10, "s": {"b": 20, "c": 3, "t": {"d": 4}}, "new": [5]}
    assert saved == {"a": 10, "s": {"b": 20}}  # not modified
    filled["new"].append(6)
    assert defaults["new"] == [5]  # copies, not references
