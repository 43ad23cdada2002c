"""One job of a sweep: a training run and its points (the run's own, and the shorter budgets
it serves), trained and evaluated, with their records for state.json; or a stack of such runs
trained as one stacked model (scigan.sweep.stacks) and then split into their points' own run
directories. The same function runs in process, in a worker process and in a Ray trial: it
takes names and plain data only, and loads its case study by name.

A job is a dict:
  case      the case study's name
  members   [{name, config, run_dir, derived: [(name, config, run_dir, units' last steps)]}]
  keep_at   the checkpoints to keep, by unit subdir (the shorter budgets' last steps)
  full      the units' last steps of the trained run(s)
  todo      the point names not yet done
  stack_dir None (one member, trained in its own run directory), or the stack's directory
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from scigan.core.errors import SciganError


def _failure(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, SciganError):
        return {"status": "failed", "error": exc.problem}
    return {"status": "failed", "error": f"{type(exc).__name__}: {exc}".splitlines()[0]}


def job_points(job: dict[str, Any]) -> list[str]:
    """Every point a job makes (its members and their shorter budgets)."""
    return [n for m in job["members"] for n in [m["name"], *(d[0] for d in m["derived"])]]


def run_job(job: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Run a job (see the module's docstring); the records of its points, by name."""
    if job["stack_dir"] is None:
        m = job["members"][0]
        return run_plan(
            job["case"], m["config"], m["run_dir"], job["keep_at"], m["derived"], job["full"],
            job["todo"],
        )  # fmt: skip
    return run_stack(job)


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
    their records for state.json, by point name."""
    from scigan.core import workflow
    from scigan.core.registry import load_case_study

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
    records.update(_derived_points(case, Path(run_dir), derived, full, todo, name))
    return records


def _derived_points(case, source: Path, derived, full, todo, origin: str, member=None) -> dict:
    """The shorter budgets' run directories made from `source`'s kept checkpoints (a stack's:
    point `member` = (index, members) of it), each evaluated."""
    from scigan.core import workflow
    from scigan.sweep.budgets import materialize

    records = {}
    for derived_name, derived_config, derived_dir, units in derived:
        if derived_name not in todo:
            continue
        started = time.perf_counter()
        try:
            materialize(source, Path(derived_dir), derived_config, units, full, case, member)
            workflow.evaluate(case, Path(derived_dir), progress=False)
            seconds = round(time.perf_counter() - started, 2)
            records[derived_name] = {"status": "done", "seconds": seconds, "from": origin}
        except (SciganError, RuntimeError, MemoryError) as exc:
            records[derived_name] = _failure(exc)
    return records


def run_stack(job: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Train a stack of runs as one stacked model in job["stack_dir"], make each member's run
    directory (and its shorter budgets') from it, and evaluate them. If the stack fails (a
    NaN in any one of its models stops it), its members are trained one by one instead, so
    that only a point that fails on its own is recorded as failed."""
    from scigan.core import workflow
    from scigan.core.registry import load_case_study
    from scigan.sweep.budgets import materialize

    case = load_case_study(job["case"])
    members, todo, full = job["members"], job["todo"], job["full"]
    stack_dir = Path(job["stack_dir"])
    started = time.perf_counter()
    try:
        outcome = workflow.train(
            case, members[0]["config"], stack_dir, progress=False, keep_at=job["keep_at"],
            stack=[(m["name"], m["config"]) for m in members],
        )  # fmt: skip
    except (SciganError, RuntimeError, MemoryError) as exc:
        stack_error = _failure(exc)["error"]
        records: dict[str, dict[str, Any]] = {}
        for m in members:
            alone = {**job, "members": [m], "stack_dir": None}
            for name, record in run_job(alone).items():
                records[name] = {**record, "stack_failed": stack_error}
        return records
    if outcome.interrupted:
        return {m["name"]: {"status": "interrupted"} for m in members}
    share = {  # each member's share of the stack's training
        "gan_steps": outcome.gan_steps // len(members),
        "train_seconds": (time.perf_counter() - started) / len(members),
        "stack": stack_dir.name,
    }
    records = {}
    for b, m in enumerate(members):
        member = (b, len(members))
        if m["name"] in todo:
            t0 = time.perf_counter()
            try:
                materialize(stack_dir, Path(m["run_dir"]), m["config"], full, full, case, member)
                workflow.evaluate(case, Path(m["run_dir"]), progress=False)
                seconds = round(time.perf_counter() - t0 + share["train_seconds"], 2)
                records[m["name"]] = {"status": "done", "seconds": seconds, **share}
            except (SciganError, RuntimeError, MemoryError) as exc:
                records[m["name"]] = _failure(exc)
        derived = _derived_points(case, stack_dir, m["derived"], full, todo, m["name"], member)
        records.update(derived)
    return records
