"""`scigan sweep`: the command line's arguments and a sweep YAML made into one SweepSpec,
checked before anything trains."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scigan.core.config import package_file
from scigan.core.errors import ConfigError
from scigan.sweep.grid import GRID_HELP, parse_grid
from scigan.sweep.spec import SweepSpec, is_sweep_file, read_sweep_file


def bundled_sweep(case, name: str) -> Path | None:
    path = package_file(case.package, "sweeps") / f"{name}.yaml"
    return path if path.is_file() else None


def bundled_sweeps(case) -> list[str]:
    folder = package_file(case.package, "sweeps")
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def make_spec(
    case,
    config: str | None,
    grid: list[str],
    overrides: list[str],
    seeds: int | None,
    select: list[str],
) -> SweepSpec:
    """--config may name a sweep (a YAML with `grid:`, or a bundled sweep of the case study)
    or a base recipe; --grid axes are added to the sweep's, --set after its `set:`,
    and --select replaces its criteria."""
    sweep_file = None
    if config is not None:
        path = Path(config)
        if path.is_file() and is_sweep_file(path):
            sweep_file = path
        elif not path.is_file():
            sweep_file = bundled_sweep(case, config)
    data: dict[str, Any] = {}
    if sweep_file is not None:
        data = read_sweep_file(sweep_file)
        if data.get("case_study", case.name) != case.name:
            raise ConfigError(
                f"sweep {config!r} is for case study {data['case_study']!r}, not {case.name!r}",
                f"run scigan sweep {data['case_study']} --config {config}",
            )
        config = data.get("config")
    axes = dict(data.get("grid", {}))
    for key, values in parse_grid(grid).items():
        axes[key] = values
    if not axes:
        names = ", ".join(bundled_sweeps(case)) or "none"
        raise ConfigError(
            "the sweep has an empty grid",
            f"give --grid KEY=VALUES or --config with a sweep (bundled: {names}); {GRID_HELP}",
        )
    criteria = list(select) or list(data.get("select", []))
    for criterion in criteria:
        if criterion.isidentifier() and criterion not in case.sweep_criteria:
            known = ", ".join(case.sweep_criteria) or "none"
            raise ConfigError(
                f"unknown selection criterion {criterion!r} for {case.name}",
                f"name one of {known}, or give an expression over results.csv columns",
            )
    return SweepSpec(
        case_study=case.name,
        grid=axes,
        config=config,
        set=[*data.get("set", []), *overrides],
        seeds=seeds if seeds is not None else data.get("seeds"),
        select=criteria,
    )


def criterion_expressions(case, spec: SweepSpec) -> dict[str, str]:
    """The spec's criteria, name -> expression (a name stands for the case study's
    expression, an expression for itself); all of the case study's when none is given."""
    names = spec.select or list(case.sweep_criteria)
    return {name: case.sweep_criteria.get(name, name) for name in names}
