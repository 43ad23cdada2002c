"""Nested budgets. Points that differ only in a budget key (the case study's `budget_keys`,
e.g. train.epochs) are one training run, the longest; every shorter budget is that run's
checkpoint kept at its last step, made into an ordinary run directory of its own (config,
run.json, checkpoints/last.pt, log.jsonl and samples up to that step), so that `scigan
evaluate`, `sample` and `train` (which finds it done) work on it as on any run. It is what
training the shorter budget alone gives, bit for bit, unless a schedule depends on the total
length: the case study names that (`nested_budget_problem`) and the sweep is refused."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scigan.core.checkpoint import atomic_write_text
from scigan.core.config import dump_yaml, validate
from scigan.core.errors import ConfigError
from scigan.core.logs import read_jsonl
from scigan.core.loop import kept_checkpoint_name
from scigan.sweep.spec import Point


@dataclass
class Plan:
    """One training run of a sweep: the point trained, and the shorter budgets it serves
    (each with its units' last steps, by unit subdir; None is the run itself)."""

    point: Point
    config: dict[str, Any]
    derived: list[tuple[Point, dict[str, Any], dict[str | None, int]]] = field(default_factory=list)
    full: dict[str | None, int] = field(default_factory=dict)  # its own units' last steps

    def keep_at(self) -> dict[str | None, tuple[int, ...]]:
        steps: dict[str | None, set[int]] = {}
        for _, _, units in self.derived:
            for subdir, step in units.items():
                steps.setdefault(subdir, set()).add(step)
        return {subdir: tuple(sorted(s)) for subdir, s in steps.items()}


def unit_steps(case, cfg, data) -> dict[str | None, int]:
    import torch

    return {u.subdir: u.settings.steps for u in case.training_units(cfg, data, torch.device("cpu"))}


def plan_runs(case, axes: list[str], resolved: list[tuple[Point, dict[str, Any]]]) -> list[Plan]:
    """The sweep's training runs: one per point, except that points differing only in budget
    keys share the run of the longest."""
    budget = [k for k in axes if k in case.budget_keys]
    if not budget:
        return [Plan(p, c) for p, c in resolved]
    groups: dict[str, list[tuple[Point, dict[str, Any]]]] = {}
    for point, config in resolved:
        rest = {k: v for k, v in point.overrides.items() if k not in budget}
        groups.setdefault(json.dumps(rest, sort_keys=True, default=str), []).append((point, config))
    plans = []
    for members in groups.values():
        if len(members) == 1:
            plans.append(Plan(*members[0]))
            continue
        cfgs = [validate(case.config_model, c) for _, c in members]
        for cfg in cfgs:
            problem = case.nested_budget_problem(cfg)
            if problem is not None:
                raise ConfigError(
                    f"the grid over {', '.join(budget)} cannot share training runs: {problem}",
                    "sweep the budget in separate sweeps, one value each, or change that key",
                )
        data = case.load_data(cfgs[0])  # the same data: the members differ in budget only
        steps = [unit_steps(case, cfg, data) for cfg in cfgs]
        longest = max(range(len(members)), key=lambda i: (sum(steps[i].values()), -i))
        plan = Plan(*members[longest], full=steps[longest])
        for i, (point, config) in enumerate(members):
            if i == longest:
                continue
            nested = steps[i].keys() == steps[longest].keys() and all(
                steps[i][u] <= steps[longest][u] for u in steps[i]
            )
            if nested:
                plan.derived.append((point, config, steps[i]))
            else:
                plans.append(Plan(point, config))
        plans.append(plan)
    return plans


def _unit_dir(run: Path, subdir: str | None) -> Path:
    return run if subdir is None else run / subdir


def _copy_atomic(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.copy.tmp")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)


def materialize(
    source_run: Path,
    target_run: Path,
    config: dict[str, Any],
    units: dict[str | None, int],
    full: dict[str | None, int],
    case=None,
    member: tuple[int, int] | None = None,
) -> None:
    """Make `target_run` the run of `config` at its units' last steps (`units`), from
    `source_run`'s checkpoints kept there (or its last.pt where the step is its end,
    `full`). `member` (index, members): the source is a stack of points (scigan.sweep.stacks)
    and the target gets point `index`'s part of it (case.stack_member_state), its own losses
    (logged as NAME@index) and samples (samples/member_III/). config.yaml is written last:
    it makes the folder a run."""
    target_run.mkdir(parents=True, exist_ok=True)
    for subdir, step in units.items():
        source, target = _unit_dir(source_run, subdir), _unit_dir(target_run, subdir)
        checkpoints = source / "checkpoints"
        name = "last.pt" if step == full[subdir] else kept_checkpoint_name(step)
        if not (checkpoints / name).is_file():
            raise ConfigError(
                f"{checkpoints / name} is missing: the sweep's point at step {step} "
                f"cannot be made from {source_run}",
                f"delete {source_run} and run the sweep again to retrain it",
            )
        if member is None:
            _copy_atomic(checkpoints / name, target / "checkpoints" / "last.pt")
        else:
            _member_checkpoint(
                checkpoints / name, target / "checkpoints" / "last.pt", config, case, member
            )
        rows = [r for r in read_jsonl(source / "log.jsonl") if r["step"] <= step]
        if member is not None:
            rows = [_member_row(r, member[0]) for r in rows]
        atomic_write_text(target / "log.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
        samples = [r for r in read_jsonl(source / "samples.jsonl") if r["step"] <= step]
        kept = []
        for record in samples:
            files = record["files"]
            if member is not None:
                folder = f"{MEMBER_SAMPLES.format(member[0])}/"
                files = [f.removeprefix(folder) for f in files if f.startswith(folder)]
            for file in files:
                origin = file if member is None else f"{folder}{file}"
                _copy_atomic(source / "samples" / origin, target / "samples" / file)
            kept.append({**record, "files": files})
        atomic_write_text(target / "samples.jsonl", "".join(json.dumps(r) + "\n" for r in kept))
    if member is None:
        _copy_atomic(source_run / "run.json", target_run / "run.json")
    else:  # the stack's record, naming the stack it was trained in
        info = json.loads((source_run / "run.json").read_text())
        info.pop("stack", None)
        info["stacked_in"] = {"stack": str(source_run), "member": member[0]}
        atomic_write_text(target_run / "run.json", json.dumps(info, indent=2) + "\n")
    atomic_write_text(target_run / "config.yaml", dump_yaml(config))


MEMBER_SAMPLES = "member_{:03d}"  # a stack's samples of point b (the case study writes them)


def _member_row(row: dict[str, Any], index: int) -> dict[str, Any]:
    """A stack's logged losses of point `index`, under the names the point alone logs."""
    tag = f"@{index}"
    out = {"step": row["step"]}
    out.update({k.removesuffix(tag): v for k, v in row.items() if k.endswith(tag)})
    return out


def _member_checkpoint(source: Path, target: Path, config, case, member) -> None:
    from scigan.core.checkpoint import load_checkpoint, save_checkpoint

    payload = load_checkpoint(source)
    cfg = validate(case.config_model, config)
    task = case.stack_member_state(payload["task"], member[0], member[1], cfg)
    target.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(target, {**payload, "task": task})
