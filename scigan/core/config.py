"""Layered configuration: commented defaults file < user YAML < --set key=value.

A case study ships one commented defaults YAML and a pydantic model for validation. A user's
YAML holds only what differs; unknown keys are errors (a typo must not silently do nothing).
"""

from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError

from scigan.core.errors import ConfigError

ModelT = TypeVar("ModelT", bound=BaseModel)


class StrictModel(BaseModel):
    """Base of every case study's config sections: unknown keys are validation errors, and so
    are NaN and infinite numbers (`--set train.lr_generator=inf` would silently wreck a run)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


# Value types shared by the case studies' configs.
AdamBeta = Annotated[float, Field(ge=0, lt=1)]
Probability = Annotated[float, Field(ge=0, le=1)]


class RunConfig(StrictModel):
    """The top level every case study's config shares; each adds its own sections (data,
    model, train, log, evaluate)."""

    seed: int = Field(ge=0)  # NumPy's SeedSequence takes non-negative seeds only
    device: str
    num_threads: int = Field(ge=0)  # 0: every core this process may use


class StepLogConfig(StrictModel):
    """The `log` section of a case study whose training length is counted in steps."""

    every: PositiveInt
    checkpoint_every: PositiveInt
    sample_every: int = Field(ge=0)
    sample_count: PositiveInt
    tensorboard: bool
    # also checkpoint when this many seconds passed since the last one (kill -9 loses at most
    # about this much work)
    checkpoint_seconds: float = Field(default=60.0, gt=0)


def package_file(package: str, *parts: str) -> Path:
    """A file shipped inside a scigan package (e.g. a case study's defaults YAML)."""
    return Path(str(resources.files(package).joinpath(*parts)))


def bundled_recipe(package: str, name: str) -> Path | None:
    """The named recipe `<package>/configs/<name>.yaml` shipped with a case study, or None."""
    path = package_file(package, "configs", f"{name}.yaml")
    return path if path.is_file() else None


def yaml_problem(exc: yaml.YAMLError) -> str:
    """A YAML parser error in one line: what is wrong and where (PyYAML's own message spans
    several lines, with the offending text)."""
    mark = getattr(exc, "problem_mark", None)
    where = f", line {mark.line + 1} column {mark.column + 1}" if mark else ""
    what = getattr(exc, "problem", None) or getattr(exc, "reason", None) or str(exc)
    return " ".join(f"{what}{where}".split())


def read_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML mapping, with a clear error for a missing or malformed file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist", "check the path given to --config")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"config file {path} is not valid YAML ({yaml_problem(exc)})", "fix the YAML syntax"
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"config file {path} must hold a mapping of keys to values, not {type(data).__name__}",
            "write it as `key: value` lines, e.g. `train: {steps: 2000}`",
        )
    return data


def merge(base: dict[str, Any], update: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Deep-merge `update` into a copy of `base`; keys absent from `base` are errors."""
    merged = copy.deepcopy(base)
    for key, value in update.items():
        dotted = f"{prefix}{key}"
        if key not in merged:
            known = ", ".join(f"{prefix}{k}" for k in merged)
            raise ConfigError(f"unknown config key {dotted!r}", f"known keys here: {known}")
        if isinstance(merged[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(
                    f"config key {dotted!r} is a section and needs a mapping, got {value!r}",
                    f"set its fields instead, e.g. --set {dotted}.<field>=...",
                )
            merged[key] = merge(merged[key], value, prefix=f"{dotted}.")
        else:
            merged[key] = value
    return merged


def parse_override(text: str) -> dict[str, Any]:
    """Turn "train.steps=2000" into {"train": {"steps": 2000}} (the value is parsed as YAML)."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(
            f"--set {text!r} is not of the form key=value", "write e.g. --set train.steps=2000"
        )
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"--set {text!r}: value is not valid YAML ({yaml_problem(exc)})", "quote it"
        ) from None
    return nested_key(key.strip(), value)


def nested_key(dotted: str, value: Any) -> dict[str, Any]:
    """ "train.steps", 2000 -> {"train": {"steps": 2000}}."""
    nested: dict[str, Any] = {}
    node = nested
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return nested


def resolve(
    defaults_path: Path,
    user_config: Path | None = None,
    overrides: list[str] | tuple[str, ...] = (),
) -> dict[str, Any]:
    """Defaults, then the user's file, then each --set in order."""
    config = read_yaml(defaults_path)
    if user_config is not None:
        config = merge(config, read_yaml(user_config))
    for override in overrides:
        config = merge(config, parse_override(override))
    return config


def validate(model: type[ModelT], config: dict[str, Any]) -> ModelT:
    """Validate a resolved config, turning pydantic's report into one readable error."""
    try:
        return model.model_validate(config)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            lines.append(f"{where}: {err['msg']} (got {err.get('input')!r})")
        raise ConfigError("invalid config: " + "; ".join(lines), "fix these keys") from None


def flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": 1}} -> {"a.b": 1}; used to compare configs key by key."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def fill_missing(config: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """A copy of `config` with every key of `defaults` it lacks (at any depth) added."""
    filled = copy.deepcopy(config)
    for key, value in defaults.items():
        if key not in filled:
            filled[key] = copy.deepcopy(value)
        elif isinstance(value, dict) and isinstance(filled[key], dict):
            filled[key] = fill_missing(filled[key], value)
    return filled


def differences(old: dict[str, Any], new: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Keys whose values differ between two configs: {key: (old, new)}."""
    a, b = flatten(old), flatten(new)
    return {k: (a.get(k), b.get(k)) for k in sorted(a.keys() | b.keys()) if a.get(k) != b.get(k)}


def dump_yaml(config: dict[str, Any]) -> str:
    return yaml.safe_dump(config, sort_keys=False, default_flow_style=None)
