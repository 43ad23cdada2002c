"""Grid axes: `KEY=V1,V2,...` (each value YAML) or a generated range.

    train.lr_critic=1e-6,1e-5          values, parsed as YAML; commas inside [...] or {...}
    train.adam_betas=[0.5,0.9],[0,0.9]  do not split
    train.lr_critic=log10:-6:-4.25:8   8 values 10^x, x evenly spaced from -6 to -4.25
    train.epochs=range:1:6             the integers 1..6 (stop included); range:A:B:STEP
    train.gp_weight=lin:1:10:4         4 values evenly spaced from 1 to 10

The points are the Cartesian product of the axes, in the order given (the last axis varies
fastest)."""

from __future__ import annotations

import itertools
import math
from typing import Any

import yaml

from scigan.core.config import yaml_problem
from scigan.core.errors import ConfigError

GRID_HELP = (
    "write KEY=V1,V2,... (YAML values), KEY=log10:START:STOP:N, KEY=lin:START:STOP:N or "
    "KEY=range:START:STOP[:STEP], e.g. --grid train.lr_critic=log10:-6:-4.25:8"
)


def split_values(text: str) -> list[str]:
    """Split at the commas that are not inside brackets, braces or quotes."""
    parts, depth, quote, current = [], 0, "", []
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts]


def _numbers(spec: str, kind: str, fields: list[str], count: int) -> list[float]:
    try:
        numbers = [float(f) for f in fields]
    except ValueError:
        raise ConfigError(f"grid {spec!r}: {kind}: needs numbers", GRID_HELP) from None
    if len(numbers) != count or not all(math.isfinite(x) for x in numbers):
        raise ConfigError(f"grid {spec!r}: {kind}: needs {count} finite numbers", GRID_HELP)
    return numbers


def _generated(spec: str, kind: str, fields: list[str]) -> list[Any]:
    if kind == "range":
        if len(fields) not in (2, 3):
            raise ConfigError(f"grid {spec!r}: range needs START:STOP[:STEP]", GRID_HELP)
        try:
            start, stop, step = (int(f) for f in [*fields, "1"][:3])
        except ValueError:
            raise ConfigError(f"grid {spec!r}: range needs integers", GRID_HELP) from None
        if step <= 0 or stop < start:
            raise ConfigError(f"grid {spec!r}: range needs START <= STOP and STEP > 0", GRID_HELP)
        return list(range(start, stop + 1, step))
    start, stop, n = _numbers(spec, kind, fields, 3)
    if n != int(n) or n < 1:
        raise ConfigError(f"grid {spec!r}: {kind}: N must be a whole number >= 1", GRID_HELP)
    n = int(n)
    xs = [start + (stop - start) * i / (n - 1) if n > 1 else start for i in range(n)]
    if kind == "log10":
        # 10^x rounded to 12 significant digits: 10**-5.75 prints as 1.77827941004e-06
        return [float(f"{10.0**x:.12g}") for x in xs]
    return [float(f"{x:.12g}") for x in xs]


def _number_or_yaml(text: str) -> Any:
    """YAML, except that 1e-3 is a number (YAML 1.1 reads it as a string)."""
    value = yaml.safe_load(text)
    if isinstance(value, str):
        try:
            return float(value) if math.isfinite(float(value)) else value
        except ValueError:
            return value
    return value


def parse_axis(spec: str) -> tuple[str, list[Any]]:
    """One --grid argument: its config key and values."""
    key, sep, raw = spec.partition("=")
    key = key.strip()
    if not sep or not key or not raw.strip():
        raise ConfigError(f"grid {spec!r} is not of the form KEY=VALUES", GRID_HELP)
    kind, colon, rest = raw.strip().partition(":")
    if colon and kind in ("log10", "lin", "range"):
        values = _generated(spec, kind, rest.split(":"))
    else:
        values = []
        for part in split_values(raw):
            if not part:
                raise ConfigError(f"grid {spec!r} has an empty value", GRID_HELP)
            try:
                values.append(_number_or_yaml(part))
            except yaml.YAMLError as exc:
                problem = f"grid {spec!r}: {part!r} is not valid YAML ({yaml_problem(exc)})"
                raise ConfigError(problem, "quote it") from None
    return key, axis_values(key, values)


def axis_values(key: str, values: list[Any]) -> list[Any]:
    """The values of one axis, checked: at least one, no repeats."""
    if not values:
        raise ConfigError(f"grid axis {key!r} has no values", GRID_HELP)
    seen = []
    for value in values:
        if value in seen:
            raise ConfigError(f"grid axis {key!r} repeats the value {value!r}", "give it once")
        seen.append(value)
    return values


def parse_grid(specs: list[str]) -> dict[str, list[Any]]:
    grid: dict[str, list[Any]] = {}
    for spec in specs:
        key, values = parse_axis(spec)
        if key in grid:
            raise ConfigError(f"grid key {key!r} is given twice", "give each key one --grid")
        grid[key] = values
    return grid


def points(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of the axes' values, as {key: value}."""
    keys = list(grid)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*grid.values())]
