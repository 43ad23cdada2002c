"""One job of a sweep: a training run and its points (the run's own, and the shorter budgets
it serves), trained and evaluated, with their records for state.json. The same function runs
in process, in a worker process and in a Ray trial: it takes names and plain data only, and
loads its case study by name."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from scigan.core.errors import SciganError


def _failure(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, SciganError):
        return {"status": "failed", "error": exc.problem}
    return {"status": "failed", "error": f"{type(exc).__name__}: {exc}".splitlines()[0]}


def run_plan(
    case_name: str,
    config: dict[str, Any],
    run_dir: str,
    keep_at: dict[str | None, tuple[int, ...]],
    derived: list[tuple[str, dict[str, Any], str, dict[str | None, int]]],
    full: dict[str | None, int],
    todo: list[str],
) -> dict[str, dict[str, Any]]:
    """Train one run and evaluate it, and every shorter budget it serves (derived: name,
    config, run directory, units' last steps; `full`: the trained run's) that is in `todo`;
    their records for
    state.json, by point name. Runs in a worker process too: names and plain data only."""
    from scigan.core import workflow
    from scigan.core.registry import load_case_study
    from scigan.sweep.budgets import materialize

    case = load_case_study(case_name)
    records: dict[str, dict[str, Any]] = {}
    started = time.perf_counter()
    name = Path(run_dir).name
    try:
        outcome = workflow.train(case, config, Path(run_dir), progress=False, keep_at=keep_at)
        if outcome.interrupted:
            return {name: {"status": "interrupted"}}
        trained = {"gan_steps": outcome.gan_steps, "train_seconds": time.perf_counter() - started}
        if name in todo:
            workflow.evaluate(case, Path(run_dir), progress=False)
            seconds = round(time.perf_counter() - started, 2)
            records[name] = {"status": "done", "seconds": seconds, **trained}
    except (SciganError, RuntimeError, MemoryError) as exc:  # e.g. NaN, out of memory
        failure = _failure(exc)
        return {n: failure for n in [name, *(d[0] for d in derived)] if n in todo}
    for derived_name, derived_config, derived_dir, units in derived:
        if derived_name not in todo:
            continue
        started = time.perf_counter()
        try:
            materialize(Path(run_dir), Path(derived_dir), derived_config, units, full)
            workflow.evaluate(case, Path(derived_dir), progress=False)
            seconds = round(time.perf_counter() - started, 2)
            records[derived_name] = {"status": "done", "seconds": seconds, "from": name}
        except (SciganError, RuntimeError, MemoryError) as exc:
            records[derived_name] = _failure(exc)
    return records
