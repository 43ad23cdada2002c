"""Stacking. A sweep's training runs (scigan.sweep.budgets.Plan) that differ only in keys the
case study declares stackable (`stack_keys`: for Ising the seed, rates, Adam betas and eps and
the penalty weight) train as one stacked model, each point's models a block of the stack
with its own random streams and settings, exactly independent (bitwise what the point alone
gives: tests/ising/test_stacking.py). The stack trains in SWEEP/stacks/NAME/ (an ordinary
run directory whose run.json lists its points); each point's own run directory, and its
shorter budgets', are then made from the stack's checkpoints (budgets.materialize).

Stack sizes. On a GPU a stack is as large as half the GPU's memory allows (the case
study's `stack_model_bytes` per point): one step of hundreds of small GANs fills the device as
one of them cannot. On a CPU a stack grows only to CPU_STACK_GANS GANs: past a few dozen
small GANs a step is bound by memory bandwidth, and a larger stack runs slower per GAN
(docs/performance.md: 328 stacked Ising GANs at 0.9x the rate of 41); --max-stack overrides
both. There are at least as many stacks as parallel workers, so that each worker trains one."""

from __future__ import annotations

import hashlib
import json
import math
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


CPU_STACK_GANS = 48  # GANs per stack on a CPU, where larger stacks gain nothing


def plan_stacks(
    case,
    axes: list[str],
    plans: list[Plan],
    workers: int = 1,
    max_stack: int = 0,
    memory: int | None = None,
) -> list[Plan | Stack]:
    """The sweep's jobs: stacks of the plans that differ only in stack keys (with the same
    budgets to keep), each at most `max_stack` points (0: by device, see the module's
    docstring; `memory` overrides the GPU's), and the plans that stack with none."""
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
    limit = max_stack or _automatic_limit(case, next(iter(groups.values()))[0], memory)
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


def _automatic_limit(case, plan: Plan, memory: int | None) -> int:
    """Points per stack on the sweep's device: half the GPU's memory, or CPU_STACK_GANS."""
    import torch

    from scigan.core.config import validate
    from scigan.core.device import resolve_device

    cfg = validate(case.config_model, plan.config)
    device = resolve_device(cfg.device)
    data = case.load_data(cfg)
    if device.type == "cuda":
        per_point = case.stack_model_bytes(cfg, data)
        total = memory or torch.cuda.get_device_properties(device).total_memory
        return max(1, int(0.5 * total // per_point)) if per_point > 0 else 1 << 30
    gans = max(u.models for u in case.training_units(cfg, data, torch.device("cpu")))
    return max(1, CPU_STACK_GANS // gans)
