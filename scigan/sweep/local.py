"""Running a sweep on this machine: every point an ordinary run directory under
SWEEP/points/, trained then evaluated, in process or in worker processes; a re-run skips the
finished points, continues the unfinished ones from their checkpoints and trains new ones.

SWEEP/
  sweep.yaml       the resolved sweep (case study, base config, grid, seeds, criteria)
  state.json       per point: done or failed (with its error), and its seconds
  results.csv      one row per point (or per point and condition), its keys and every metric
  selection.json   per criterion (and condition), the best point
  points/NAME/     each point's run directory (config.yaml, checkpoints, metrics.json, ...)
  stacks/NAME/     a stack of points trained as one model (scigan.sweep.stacks), from which
                   its points' run directories are made
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scigan.core.checkpoint import atomic_write_json, atomic_write_text
from scigan.core.errors import ConfigError, OutputError
from scigan.core.rundir import exclusive_lock
from scigan.sweep.budgets import Plan, plan_runs
from scigan.sweep.jobs import run_job
from scigan.sweep.results import metric_rows, parse_criterion, select, write_csv
from scigan.sweep.spec import Point, SweepSpec
from scigan.sweep.stacks import Stack, plan_stacks

STATE, RESULTS, SELECTION, SPEC = "state.json", "results.csv", "selection.json", "sweep.yaml"


@dataclass(frozen=True)
class SweepOutcome:
    summary: str
    interrupted: bool


def _check_sweep_dir(directory: Path, spec: SweepSpec) -> None:
    """A new folder, or a sweep of the same case study and base config (its grid may grow)."""
    if directory.exists() and not directory.is_dir():
        raise OutputError(f"--sweep-dir {directory} is a file", "give a folder")
    saved = directory / SPEC
    if saved.is_file():
        from scigan.core.config import read_yaml

        old = read_yaml(saved)
        for key in ("case_study", "config", "set"):
            if old.get(key) != getattr(spec, key):
                raise ConfigError(
                    f"{directory} holds a sweep with another {key} ({old.get(key)!r}, not "
                    f"{getattr(spec, key)!r}); only its grid may change",
                    "choose another --sweep-dir, or run the saved sweep again",
                )
    elif directory.is_dir() and any(p.name != ".lock" for p in directory.iterdir()):
        raise OutputError(
            f"--sweep-dir {directory} exists, is not empty and holds no sweep",
            "choose a new or empty folder",
        )


def run_sweep(
    case,
    spec: SweepSpec,
    resolved: list[tuple[Point, dict[str, Any]]],
    directory: Path,
    max_parallel: int = 1,
    progress: bool = True,
    say=print,
    backend: str = "local",
    ray_address: str | None = None,
    cpus_per_trial: float | None = None,
    gpus_per_trial: float = 0.0,
    max_stack: int = 0,
    stack: bool = True,
) -> SweepOutcome:
    """Train and evaluate every point not yet done, then write results.csv and
    selection.json. backend "local": in this process, or in `max_parallel` worker processes;
    "ray": Ray Tune trials (scigan.sweep.ray_backend), at most `max_parallel` at once.
    Points differing only in the case study's stack keys train as stacks (`stack`) of at most
    `max_stack` points (0: as memory allows), at least one stack per worker."""
    if backend not in ("local", "ray"):
        raise ConfigError(f"unknown backend {backend!r}", "choose --backend local or ray")
    directory = Path(directory)
    _check_sweep_dir(directory, spec)
    from scigan.sweep.command import criterion_expressions

    criteria = {n: parse_criterion(e) for n, e in criterion_expressions(case, spec).items()}
    if not criteria:
        raise ConfigError(
            f"no selection criterion: {case.name} names none",
            "give --select with an expression over results.csv columns, e.g. --select generated.fd",
        )
    plans = plan_runs(case, list(spec.axes()), resolved)  # may refuse nested budgets
    directory.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(directory / ".lock", f"sweep directory {directory}"):
        atomic_write_text(directory / SPEC, spec.as_yaml())
        state_file = directory / STATE
        state = json.loads(state_file.read_text()) if state_file.is_file() else {}
        todo = [p.name for p, _ in resolved if state.get(p.name, {}).get("status") != "done"]
        interrupted = False
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(resolved), initial=len(resolved) - len(todo), unit="point")

        started = time.perf_counter()
        gan_steps = 0

        def record(records: dict[str, dict[str, Any]]) -> None:
            nonlocal interrupted, gan_steps
            for name, result in records.items():
                if result["status"] == "interrupted":
                    interrupted = True
                    continue
                state[name] = result
                atomic_write_json(state_file, state)
                gan_steps += result.get("gan_steps", 0)
                if bar is not None:
                    rate = gan_steps / max(time.perf_counter() - started, 1e-9)
                    bar.set_postfix_str(f"{rate:.0f} GAN-steps/s", refresh=False)
                    bar.update(1)
                detail = result.get("error") or f"{result.get('seconds', 0):.1f} s"
                if result.get("gan_steps"):
                    rate = result["gan_steps"] / max(result["train_seconds"], 1e-9)
                    detail += f", {result['gan_steps']} GAN-steps at {rate:.0f}/s"
                if "from" in result:
                    detail += f", from the checkpoints of {result['from']}"
                message = f"{name}: {result['status']} ({detail})"
                if bar is not None:
                    bar.write(message)
                else:
                    say(message)

        def job(item: Plan | Stack, threads: int | None) -> dict[str, Any]:
            points = directory.resolve() / "points"  # absolute: workers may run elsewhere
            plans = item.plans if isinstance(item, Stack) else [item]
            members = []
            for plan in plans:
                config = plan.config if threads is None else {**plan.config, "num_threads": threads}
                derived = [(p.name, c, str(points / p.name), u) for p, c, u in plan.derived]
                members.append(
                    {
                        "name": plan.point.name,
                        "config": config,
                        "run_dir": str(points / plan.point.name),
                        "derived": derived,
                    }
                )
            stack_dir = None
            if isinstance(item, Stack):
                stack_dir = str(directory.resolve() / "stacks" / item.name)
            return {
                "case": case.name,
                "members": members,
                "keep_at": plans[0].keep_at(),
                "full": plans[0].full,
                "todo": todo,
                "stack_dir": stack_dir,
            }

        pending = [
            plan
            for plan in plans
            if plan.point.name in todo or any(p.name in todo for p, _, _ in plan.derived)
        ]
        items: list[Plan | Stack] = pending
        if stack:
            items = plan_stacks(case, list(spec.axes()), pending, max_parallel, max_stack)
        workers = max(1, min(max_parallel, len(items)))
        if backend == "ray" and items:
            from scigan.sweep.ray_backend import run_jobs

            cpus = cpus_per_trial or max(1.0, (os.cpu_count() or 1) / workers)
            threads = max(1, round(cpus))
            jobs = [job(item, threads) for item in items]
            run_jobs(jobs, directory / "ray", record, ray_address, cpus, gpus_per_trial, workers)
        elif workers == 1:
            for item in items:
                record(run_job(job(item, None)))
                if interrupted:
                    break
        else:
            threads = max(1, (os.cpu_count() or 1) // workers)  # the cores, split, not shared
            # spawned, not forked: a fork of a process whose torch thread pools are running
            # can deadlock; a spawned worker imports the case study afresh (sys.path goes along)
            context = multiprocessing.get_context("spawn")
            stop = context.Event()
            pool = ProcessPoolExecutor(
                workers, mp_context=context, initializer=_worker_start, initargs=(stop,)
            )
            with pool, _stop_signals_to_workers(stop) as stopping:
                futures = [pool.submit(_worker_job, job(item, threads)) for item in items]
                for future in as_completed(futures):
                    try:
                        record(future.result())
                    except BrokenProcessPool:
                        if not stopping():  # a worker killed by a signal while stopping
                            raise
            if stopping():
                interrupted = True
        if bar is not None:
            bar.close()
        rows = write_results(case, spec, resolved, directory, state, criteria)
    done = sum(1 for p, _ in resolved if state.get(p.name, {}).get("status") == "done")
    failed = sum(1 for p, _ in resolved if state.get(p.name, {}).get("status") == "failed")
    summary = (
        f"{directory}: {done}/{len(resolved)} points done, {failed} failed"
        + ("; interrupted, run again to continue" if interrupted else "")
        + f"; {len(rows)} rows in {directory / RESULTS}, selection in {directory / SELECTION}"
    )
    return SweepOutcome(summary, interrupted)


_WORKER_STOP = None  # in a worker process only: the sweep's stop event (_worker_start)


def _worker_start(stop) -> None:
    """A worker process's initializer: keep the sweep's stop event."""
    global _WORKER_STOP
    _WORKER_STOP = stop


def _worker_job(job: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """run_job in a worker, unless the sweep is stopping: then its points are not started."""
    from scigan.sweep.jobs import job_points

    if _WORKER_STOP is not None and _WORKER_STOP.is_set():
        return {name: {"status": "interrupted"} for name in job_points(job)}
    return run_job(job)


@contextmanager
def _stop_signals_to_workers(stop):
    """While worker processes train: the first SIGINT or SIGTERM to the sweep sets `stop`
    (workers start no further job) and goes on to every worker once (each saves its point's
    checkpoint and stops, as `scigan train` does). Without this a stopped sweep would leave
    its workers training on. Yields a function returning the signal received (0: none)."""
    received = 0

    def handler(signum, frame):
        nonlocal received
        if received:
            return
        received = signum
        stop.set()
        for child in multiprocessing.active_children():
            try:
                os.kill(child.pid, signum)
            except ProcessLookupError:
                pass

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield lambda: received
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def write_results(case, spec, resolved, directory: Path, state, criteria) -> list[dict]:
    """results.csv and selection.json from the points' metrics.json files."""
    keys = list(spec.axes())
    rows = []
    for point, _ in resolved:
        entry = state.get(point.name, {"status": "pending"})
        base = {"point": point.name, **point.overrides, "status": entry["status"]}
        base["error"] = entry.get("error", "")
        metrics_file = directory / "points" / point.name / "metrics.json"
        if entry["status"] == "done" and metrics_file.is_file():
            metrics = json.loads(metrics_file.read_text())
            rows += [{**base, **r} for r in metric_rows(metrics, case.metrics_per)]
        else:
            rows.append(base)
    group_by = case.sweep_group_by
    first = ["point", *keys, *([group_by] if group_by else []), "status", "error"]
    atomic_write_text(directory / RESULTS, write_csv(rows, first))
    selection = {
        "criteria": {
            name: {"expression": c.text, "chosen": select(rows, c, group_by, keys)}
            for name, c in criteria.items()
        },
        "group_by": group_by,
        "points": len(resolved),
    }
    atomic_write_json(directory / SELECTION, selection)
    write_figures(rows, criteria, selection, spec.axes(), group_by, directory / "figures")
    return rows


def write_figures(rows, criteria, selection, axes, group_by, folder: Path) -> list[Path]:
    """SWEEP/figures/: each criterion against each swept key; per condition, heat maps and
    (where the rows hold a magnetisation: Ising) the thesis's Fig. 12 curves."""
    from scigan.sweep import figures

    if not any(r.get("status") == "done" for r in rows):
        return []
    folder.mkdir(parents=True, exist_ok=True)
    written = [figures.criterion_vs_keys(rows, criteria, axes, group_by, folder / "criteria.png")]
    if group_by:
        heat = figures.criterion_heat_maps(
            rows, criteria, selection, group_by, folder / "heat_maps.png"
        )
        written.append(heat)
        curves = figures.magnetization_curves(
            rows, selection, group_by, folder / "fig12_m_of_t.png"
        )
        if curves is not None:
            written.append(curves)
    return written
