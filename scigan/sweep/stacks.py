"""Stacking. A sweep's training runs (scigan.sweep.budgets.Plan) that differ only in keys the
case study declares stackable (`stack_keys`: for Ising the seed, rates, Adam betas and eps and
the penalty weight) train as one stacked model, each point's models a block of the stack
with its own random streams and settings, exactly independent (bitwise what the point alone
gives: tests/ising/test_stacking.py). The stack trains in SWEEP/stacks/NAME/ (an ordinary
run directory whose run.json lists its points); each point's own run directory, and its
shorter budgets', are then made from the stack's checkpoints (budgets.materialize).

Stacks are sized to memory (the case study's `stack_model_bytes` per point, against half
the machine's memory, or --max-stack points) and split into at least as many stacks as
there are parallel workers, so that each worker trains one."""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass

from scigan.sweep.budgets import Plan


@dataclass
class Stack:
    """Training runs trained as one stacked model, in SWEEP/stacks/<name>."""

    plans: list[Plan]

    @property
    def name(self) -> str:
        names = "\n".join(p.point.name for p in self.plans)
        return f"stack-{len(self.plans)}-{hashlib.sha256(names.encode()).hexdigest()[:10]}"


def memory_bytes() -> int:
    """This machine's physical memory."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 8 << 30


def plan_stacks(
    case,
    axes: list[str],
    plans: list[Plan],
    workers: int = 1,
    max_stack: int = 0,
    memory: int | None = None,
) -> list[Plan | Stack]:
    """The sweep's jobs: stacks of the plans that differ only in stack keys (with the same
    budgets to keep), each at most `max_stack` points (0: as half of `memory` allows), and
    the plans that stack with none."""
    stackable = [k for k in axes if k in case.stack_keys]
    if not stackable or len(plans) < 2:
        return list(plans)
    groups: dict[str, list[Plan]] = {}
    for plan in plans:
        rest = {k: v for k, v in plan.point.overrides.items() if k not in stackable}
        key = json.dumps(
            [rest, _keys(plan.keep_at()), _keys(plan.full)], sort_keys=True, default=str
        )
        groups.setdefault(key, []).append(plan)
    jobs: list[Plan | Stack] = []
    limit = max_stack or _memory_limit(case, groups, memory)
    for members in groups.values():
        if len(members) == 1:
            jobs.append(members[0])
            continue
        count = max(math.ceil(len(members) / max(1, limit)), min(workers, len(members)))
        size = math.ceil(len(members) / count)
        if not members[0].full:  # a stack's points are split at its units' last steps
            steps = _unit_steps(case, members[0].config)
            for plan in members:
                plan.full = steps
        for first in range(0, len(members), size):
            part = members[first : first + size]
            jobs.append(part[0] if len(part) == 1 else Stack(part))
    return jobs


def _unit_steps(case, config) -> dict:
    from scigan.core.config import validate
    from scigan.sweep.budgets import unit_steps

    cfg = validate(case.config_model, config)
    return unit_steps(case, cfg, case.load_data(cfg))


def _keys(steps: dict) -> dict:
    return {str(k): v for k, v in steps.items()}


def _memory_limit(case, groups: dict[str, list[Plan]], memory: int | None) -> int:
    """Points per stack that fit in half the memory (the largest point's need)."""
    from scigan.core.config import validate

    first = next(iter(groups.values()))[0]
    cfg = validate(case.config_model, first.config)
    per_point = case.stack_model_bytes(cfg, case.load_data(cfg))
    if per_point <= 0:
        return 1 << 30
    return max(1, int(0.5 * (memory or memory_bytes()) // per_point))
