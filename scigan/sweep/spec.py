"""What a sweep is: a case study, a base config, a grid, seeds and selection criteria; from
the command line or a sweep YAML, resolved into the points to train."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scigan.core.config import dump_yaml, flatten, merge, nested_key, read_yaml, validate
from scigan.core.errors import ConfigError
from scigan.sweep.grid import GRID_HELP, axis_values, parse_axis, points

SWEEP_KEYS = {"case_study", "config", "set", "grid", "seeds", "select"}


@dataclass(frozen=True)
class Point:
    """One configuration of the grid: its overrides of the base config, and its name (the
    folder of its run directory under SWEEP/points/)."""

    overrides: dict[str, Any]
    name: str

    def config(self, base: dict[str, Any]) -> dict[str, Any]:
        config = copy.deepcopy(base)  # each point's own: validation fills in data.path
        for key, value in self.overrides.items():
            config = merge(config, nested_key(key, value))
        return config


def point_name(overrides: dict[str, Any]) -> str:
    """A readable folder name, e.g. `train.lr_critic=1e-06,train.epochs=3`, made safe for file
    systems, with a short hash of the exact values (two values that print alike stay apart)."""
    text = ",".join(f"{k}={_short(v)}" for k, v in overrides.items()) or "base"
    safe = re.sub(r"[^A-Za-z0-9._=,+-]", "_", text)[:120]
    digest = hashlib.sha256(json.dumps(overrides, sort_keys=True).encode()).hexdigest()[:6]
    return f"{safe}-{digest}"


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return "[" + "_".join(_short(v) for v in value) + "]"
    return str(value)


@dataclass
class SweepSpec:
    case_study: str
    grid: dict[str, list[Any]]
    config: str | None = None  # base recipe: a bundled name or a YAML file
    set: list[str] = field(default_factory=list)  # base overrides, key=value
    seeds: int | None = None  # adds the axis seed = 0..seeds-1
    select: list[str] = field(default_factory=list)  # criteria; [] = the case study's

    def axes(self) -> dict[str, list[Any]]:
        axes = dict(self.grid)
        if self.seeds is not None:
            if "seed" in axes:
                raise ConfigError("the grid has a seed axis and --seeds", "give one of them")
            axes["seed"] = list(range(self.seeds))
        return axes

    def points(self) -> list[Point]:
        return [Point(p, point_name(p)) for p in points(self.axes())]

    def as_yaml(self) -> str:
        return dump_yaml(
            {
                "case_study": self.case_study,
                "config": self.config,
                "set": list(self.set),
                "grid": self.grid,
                "seeds": self.seeds,
                "select": list(self.select),
            }
        )


def is_sweep_file(path: Path) -> bool:
    try:
        return "grid" in read_yaml(path)
    except ConfigError:
        return False


def read_sweep_file(path: Path) -> dict[str, Any]:
    """A sweep YAML's keys, checked: `grid:` maps config keys to a list of values or a
    generated range (`log10:-6:-4.25:8`, see scigan.sweep.grid)."""
    data = read_yaml(path)
    unknown = sorted(set(data) - SWEEP_KEYS)
    if unknown:
        raise ConfigError(
            f"sweep file {path}: unknown key(s) {', '.join(unknown)}",
            f"a sweep file holds {', '.join(sorted(SWEEP_KEYS))}",
        )
    grid = data.get("grid")
    if not isinstance(grid, dict) or not grid:
        raise ConfigError(f"sweep file {path}: grid must map config keys to values", GRID_HELP)
    parsed = {}
    for key, values in grid.items():
        if isinstance(values, str):
            parsed[key] = parse_axis(f"{key}={values}")[1]
        elif isinstance(values, list):
            parsed[key] = axis_values(key, values)
        else:
            raise ConfigError(f"sweep file {path}: grid.{key} must be a list or a range", GRID_HELP)
    data["grid"] = parsed
    for key, kind in (("set", list), ("select", list)):
        if key in data and not isinstance(data[key], kind):
            raise ConfigError(f"sweep file {path}: {key} must be a list", f"write {key}: [...]")
    if "seeds" in data and not (isinstance(data["seeds"], int) and data["seeds"] >= 1):
        raise ConfigError(f"sweep file {path}: seeds must be a whole number >= 1", "")
    return data


def check_points(case, base: dict[str, Any], spec: SweepSpec) -> list[tuple[Point, dict]]:
    """Every point's resolved config, validated before anything trains: an unknown key or a
    value of the wrong type is one error naming the point. Builds the default data."""
    known = flatten(base)
    for key in spec.axes():
        if key not in known:
            close = sorted(k for k in known if k.split(".")[-1] == key.split(".")[-1])
            hint = f"did you mean {', '.join(close)}?" if close else "see the defaults file"
            raise ConfigError(f"grid key {key!r} is not a config key of {case.name}", hint)
    from scigan.core.workflow import validated_config

    resolved = []
    for point in spec.points():
        config = point.config(base)
        try:
            validate(case.config_model, config)
        except ConfigError as exc:
            raise ConfigError(f"grid point {point.name}: {exc.problem}", exc.fix) from None
        resolved.append((point, config))
    for _, config in resolved:
        # the default data, built now, once, before any point trains (parallel workers would
        # race to build it); a null data.path becomes its path in the point's config, made
        # absolute: workers (Ray's) may run in other folders
        validated_config(case, config)
        config["data"]["path"] = str(Path(config["data"]["path"]).resolve())
    return resolved
