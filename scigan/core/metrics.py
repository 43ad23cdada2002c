"""metrics.json, shared by every case study (the schema is in docs/metrics.md).

Every metrics file has the common keys (`case_study`, `run_dir`, `step`, `seconds`) and names
its sets of samples the same way: `generated` (the trained generator), `heldout_floor` (real
data the model never saw: what real data scores), optionally `insample_floor` (random
training samples: the metrics' sampling noise alone) and `baseline_<name>` (simple models). A case
study that measures per condition (Ising: per temperature) keeps the same set names inside each
entry of its `per_condition`-style list.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from scigan.core.checkpoint import atomic_write_json

COMMON_KEYS = ("case_study", "run_dir", "step", "seconds")
GENERATED, FLOOR, BASELINE_PREFIX = "generated", "heldout_floor", "baseline_"
# optional: random training samples, as many as generated: the metrics' sampling noise alone,
# where the held-out floor also holds a shift between training and held-out data (DNA)
INSAMPLE_FLOOR = "insample_floor"


def is_set_name(name: str) -> bool:
    return name in (GENERATED, FLOOR, INSAMPLE_FLOOR) or name.startswith(BASELINE_PREFIX)


def set_names(entry: dict[str, Any]) -> list[str]:
    """The set names of a metrics entry, in their order."""
    return [k for k in entry if is_set_name(k)]


def schema_problems(result: dict[str, Any], per: str | None = None) -> list[str]:
    """What keeps `result` from the shared schema (empty when it conforms). `per`: the key of
    a list of per-condition entries that hold the sets instead of the top level."""
    problems = [f"missing key {k!r}" for k in COMMON_KEYS if k not in result]
    entries = [result] if per is None else list(result.get(per) or [])
    if per is not None and not entries:
        problems.append(f"{per!r} is missing or empty")
    for i, entry in enumerate(entries):
        where = "" if per is None else f"{per}[{i}]: "
        for required in (GENERATED, FLOOR):
            if not isinstance(entry.get(required), dict):
                problems.append(f"{where}no {required!r} set")
    return problems


def write_metrics(path: Path, result: dict[str, Any]) -> None:
    """Write metrics.json atomically (a crash never leaves half a file)."""
    atomic_write_json(path, result)


def _cell(value: Any) -> str:
    if value is None or value is _ABSENT:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


_ABSENT = object()


def _lookup(entry: dict[str, Any], column: str) -> Any:
    """entry[column], where "a:b" means entry["a"]["b"]; _ABSENT when there is no such key."""
    for part in column.split(":"):
        if not isinstance(entry, dict) or part not in entry:
            return _ABSENT
        entry = entry[part]
    return entry


def metrics_table(result: dict[str, Any], columns: Iterable[str]) -> str:
    """A Markdown table of the headline metrics, one row per set; columns that no set has are
    left out, a value one set lacks or that is None shows as "-"."""
    names = set_names(result)
    shown = [c for c in columns if any(_lookup(result[n], c) is not _ABSENT for n in names)]
    lines = ["| set | " + " | ".join(shown) + " |", "|" + "---|" * (len(shown) + 1)]
    for name in names:
        cells = " | ".join(_cell(_lookup(result[name], c)) for c in shown)
        lines.append(f"| {name} | {cells} |")
    return "\n".join(lines)


def wasserstein_1d(a: np.ndarray, b: np.ndarray) -> float | None:
    """1-D Wasserstein (earth mover's) distance between two samples; None if one is empty."""
    from scipy.stats import wasserstein_distance

    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    if len(a) == 0 or len(b) == 0:
        return None
    return float(wasserstein_distance(a, b))


def pick_rows(rng: np.random.Generator, rows: np.ndarray, n: int) -> tuple[np.ndarray, bool]:
    """n rows of `rows` (a held-out set for the floor), without replacement when there are
    enough; also whether it had to replace."""
    replace = n > len(rows)
    return rows[rng.choice(len(rows), size=n, replace=replace)], replace
