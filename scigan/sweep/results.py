"""A sweep's table and its selection: metrics.json files flattened into rows (one per point,
or per point and condition, e.g. temperature), and criteria that pick the best row per
condition.

A criterion is a small expression over columns, to minimise: terms joined by + or -, each a
column (`generated.fd`), `abs(COLUMN)` or `abs(COLUMN - NUMBER)`; `max:` before it maximises.
E.g. `losses.critic_total + losses.generator` (the thesis's choice for Ising) or
`generated.kmer_jsd.6 + abs(generated.c2st_auc - 0.5)`."""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from scigan.core.errors import ConfigError

SKIPPED_KEYS = ("notes", "case_study", "run_dir")  # text, or the same for every point


def flatten_metrics(value: Any, prefix: str = "") -> dict[str, Any]:
    """Scalars of a metrics object as {"a.b.c": value}; lists are left out (histograms,
    per-fold values: not one number per row)."""
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            out.update(flatten_metrics(item, f"{prefix}{key}."))
    elif isinstance(value, bool | int | float | str) or value is None:
        out[prefix[:-1]] = value
    return out


def metric_rows(metrics: dict[str, Any], per: str | None) -> list[dict[str, Any]]:
    """The rows of one point's metrics.json: one, or one per entry of its `per` list (the
    entry's own scalars, with the top-level scalars beside them)."""
    top = {k: v for k, v in metrics.items() if k not in SKIPPED_KEYS and k != per}
    flat_top = flatten_metrics(top)
    if per is None:
        return [flat_top]
    return [{**flat_top, **flatten_metrics(entry)} for entry in metrics.get(per, [])]


_TERM = re.compile(
    r"\s*([+-])?\s*(?:abs\(\s*([\w.\-/=]+?)\s*(?:-\s*([0-9.eE+-]+))?\s*\)|([\w.\-/=]+))\s*"
)


@dataclass(frozen=True)
class Criterion:
    """A parsed selection expression (see the module docstring)."""

    text: str
    terms: tuple[tuple[float, str, float | None], ...]  # (sign, column, abs offset or None)
    maximise: bool

    def columns(self) -> list[str]:
        return [column for _, column, _ in self.terms]

    def value(self, row: dict[str, Any]) -> float:
        """The criterion on one row; NaN when a column is missing or not a finite number."""
        total = 0.0
        for sign, column, offset in self.terms:
            x = row.get(column)
            if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
                return math.nan
            total += sign * (abs(x - offset) if offset is not None else x)
        return -total if self.maximise else total


def parse_criterion(text: str) -> Criterion:
    expression = text.strip()
    maximise = expression.startswith("max:")
    if maximise:
        expression = expression[4:]
    terms, position = [], 0
    while position < len(expression):
        match = _TERM.match(expression, position)
        if match is None or match.end() == position:
            raise ConfigError(
                f"selection criterion {text!r} cannot be read at {expression[position:]!r}",
                "write columns of results.csv joined by + or -, abs(COLUMN) or "
                "abs(COLUMN - NUMBER), e.g. --select 'generated.fd - generated.recall'",
            )
        sign, abs_column, offset, column = match.groups()
        if not terms and sign is None:
            sign = "+"
        elif sign is None:
            raise ConfigError(f"selection criterion {text!r}: join terms with + or -", "")
        terms.append(
            (
                -1.0 if sign == "-" else 1.0,
                abs_column or column,
                (float(offset) if offset else 0.0) if abs_column else None,
            )
        )
        position = match.end()
    if not terms:
        raise ConfigError(f"selection criterion {text!r} is empty", "name a results column")
    return Criterion(text.strip(), tuple(terms), maximise)


def select(
    rows: list[dict[str, Any]], criterion: Criterion, group_by: str | None, point_keys: list[str]
) -> list[dict[str, Any]]:
    """Per group (e.g. per temperature; one group without `group_by`), the finished row with
    the smallest criterion value. Ties go to the earlier row (the grid's order)."""
    groups: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        if row.get("status") == "done":
            groups.setdefault(row.get(group_by) if group_by else None, []).append(row)
    chosen = []
    for group, members in groups.items():
        scored = [(criterion.value(r), i, r) for i, r in enumerate(members)]
        scored = [s for s in scored if not math.isnan(s[0])]
        if not scored:
            continue
        value, _, best = min(scored, key=lambda s: (s[0], s[1]))
        entry = {"point": best["point"], "value": -value if criterion.maximise else value}
        if group_by:
            entry = {group_by: group, **entry}
        entry["config"] = {k: best[k] for k in point_keys}
        chosen.append(entry)
    return chosen


def write_csv(rows: Iterable[dict[str, Any]], first: list[str]) -> str:
    """CSV text with the columns `first` first, then every other column, sorted."""
    rows = list(rows)
    rest = sorted({k for r in rows for k in r} - set(first))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=first + rest, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k)) for k in first + rest})
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, list | dict):
        import json

        return json.dumps(value)
    return "" if value is None else value
