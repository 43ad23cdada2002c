"""The outline every case study's train, sample and evaluate follow, written once.

train:    validate the config (default data filled in) -> device and threads -> data ->
          run directory (new, or a resume with the same config) -> each training unit's
          loop -> one summary line
open:     a trained run in one pass: its config (filled from the defaults), device,
          threads, generator and step
sample:   open -> generate -> save
evaluate: open -> measure -> metrics.json (common keys added) -> figures -> summary

torch and NumPy (with scigan.core.device, .trainer, .seeds, .metrics) are imported once a
command gets past its config: one that stops at a usage or config error never imports them.
"""

from __future__ import annotations

import platform
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from scigan.core.casestudy import CaseStudy, TrainedRun, TrainingUnit
from scigan.core.config import flatten, read_yaml, validate
from scigan.core.errors import ConfigError, InputError
from scigan.core.logs import stage_printer
from scigan.core.loop import describe_stop
from scigan.core.outputs import check_not_a_folder, check_output_file
from scigan.core.rundir import RunDir


def run_info(case_study: str, data_meta: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """run.json's record of a run: its case study, the versions that made it, its data."""
    import torch

    import scigan

    return {
        "case_study": case_study,
        "scigan": scigan.__version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "data": data_meta,
        **extra,
    }


def resumable_keys(
    config: dict[str, Any], keys: Iterable[str], sections: tuple[str, ...] = ("log",)
) -> frozenset[str]:
    """The dotted keys a resume may change: `keys` and every key under `sections` (settings
    that do not change what is trained, e.g. how often it logs)."""
    prefixes = tuple(f"{s}." for s in sections)
    return frozenset(keys) | {k for k in flatten(config) if k.startswith(prefixes)}


def validated_config(case: CaseStudy, config: dict[str, Any]) -> Any:
    """The validated config; a null `data.path` becomes the case study's default data (built
    on first use) in both `config` and the result."""
    cfg = validate(case.config_model, config)
    if cfg.data.path is None:
        config["data"]["path"] = str(case.default_data(cfg))
        cfg = validate(case.config_model, config)
    return cfg


@dataclass(frozen=True)
class TrainOutcome:
    """How `train` ended: its summary line, and whether it was interrupted (a checkpoint was
    saved; running it again resumes)."""

    summary: str
    interrupted: bool
    gan_steps: int = 0  # generator steps trained now, summed over the GANs of every unit

    def __str__(self) -> str:
        return self.summary


def train(
    case: CaseStudy,
    config: dict[str, Any],
    run_dir: Path,
    max_steps: int | None = None,
    progress: bool = True,
    allow_data_change: bool = False,
    keep_at: dict[str | None, tuple[int, ...]] | None = None,
    stack: list[tuple[str, dict[str, Any]]] | None = None,
) -> TrainOutcome:
    """Train (or resume) a run of `case` with the resolved `config`. The run directory is held
    exclusively while it trains; resuming on changed data needs `allow_data_change`.

    `stack`: (name, resolved config) of the points a sweep trains as one stacked model
    (case.stack_keys; `config` is the first's): the run is the stack, recorded in run.json
    ("stack"), and scigan.sweep.stacks makes each point's own run directory from it."""
    run = RunDir(Path(run_dir))
    run.check_usable()  # before the data is loaded (again under the lock)
    cfg = validated_config(case, config)
    members = None
    if stack is not None:
        members = [validated_config(case, member) for _, member in stack]
    from scigan.core.device import resolve_device, set_threads  # torch: the config is good
    from scigan.core.seeds import seed_global_generators
    from scigan.core.trainer import run_training

    device = resolve_device(cfg.device)
    threads = set_threads(cfg.num_threads)
    data = case.load_data(cfg)
    if run.exists():  # a resume: the saved config must still be one this case study reads,
        read_run_config(case, run)
        run.read_info()  # and run.json one that records the run's data
    record = case.data_record(data)
    info = run_info(case.name, record.pop("data"), **record)
    if stack is not None:
        info["stack"] = [name for name, _ in stack]
        if run.exists() and run.read_info().get("stack") != info["stack"]:
            raise ConfigError(
                f"run directory {run.path} holds another stack of points "
                f"({run.read_info().get('stack')}, not {info['stack']})",
                "delete it, or run the sweep that made it",
            )
    may_differ = resumable_keys(config, case.may_differ, case.resumable_sections)
    with run.lock():
        defaults = read_yaml(case.defaults_path())
        resuming = run.start(config, info, may_differ, defaults, allow_data_change)
        if members is None:
            units = case.training_units(cfg, data, device)
        else:
            units = case.stacked_training_units(members, data, device)
        parts, steps, interrupted, gan_steps = [], [], False, 0
        for index, unit in enumerate(units):
            # a resumed unit restores these from its checkpoint
            seed_global_generators([cfg.seed, index])
            if progress and unit.label:
                print(unit.label, file=sys.stderr, flush=True)
            kept = (keep_at or {}).get(unit.subdir, ())  # by the unit's subdir (None: the run)
            settings = replace(unit.settings, progress=progress, keep_at=tuple(kept))
            result = run_training(unit.build_task(), _unit_run(run, unit), settings, max_steps)
            done = case.describe_progress(cfg, data, result.step, unit.settings.steps)
            parts.append(done if unit.name is None else f"{unit.name}: {done}")
            steps.append((result.step, unit.settings.steps, result.resumed_from))
            gan_steps += (result.step - result.resumed_from) * unit.models
            if result.interrupted:
                interrupted = True
                break
        suffix = case.after_training(run, cfg)
    step, total, resumed_from = min(steps) if steps else (0, 0, 0)
    if len(units) == 1 and units[0].subdir is None:
        how = f"resumed from step {resumed_from}" if resuming else "new run"
        files = f"losses in {run.log_file}, checkpoint {run.checkpoint_file}"
    else:
        how = "resumed" if resuming else "new run"
        files = _losses_in(run, units)
    state = describe_stop(interrupted, step, total)
    summary = (
        f"{run.path}: {'; '.join(parts)} ({how}; {state}) on {device} with {threads} "
        f"thread(s); {files}{suffix}"
    )
    return TrainOutcome(summary, interrupted, gan_steps)


def _unit_run(run: RunDir, unit: TrainingUnit) -> RunDir:
    """Where a training unit trains: the run itself, or its sub-run (`unit.subdir`)."""
    return run if unit.subdir is None else RunDir(run.path / unit.subdir)


def _losses_in(run: RunDir, units: list[TrainingUnit]) -> str:
    """The summary's account of where several units' losses are: the log files that exist
    (a unit not reached, e.g. after an interruption, has none), sub-runs side by side in one
    folder as FOLDER/*/log.jsonl (Ising's groups/*/log.jsonl), any other file by its path."""
    logs = [f for f in dict.fromkeys(_unit_run(run, u).log_file for u in units) if f.is_file()]
    if not logs:
        return "no losses logged yet"
    by_folder: dict[Path, list[Path]] = {}
    for log in logs:
        by_folder.setdefault(log.parent.parent, []).append(log)
    named = []
    for log in logs:
        siblings = by_folder[log.parent.parent]
        if log.parent == run.path or len(siblings) == 1:
            named.append(str(log))
        elif log == siblings[0]:
            named.append(f"{log.parent.parent}/*/log.jsonl")
    return "losses in " + ", ".join(named)


def read_run_config(case: CaseStudy, run: RunDir) -> Any:
    """A run's saved config, filled from today's defaults and validated; a clear error naming
    config.yaml when a hand edit left keys the case study does not read."""
    from pydantic import ValidationError

    config = run.read_config(read_yaml(case.defaults_path()))
    try:
        return case.config_model.model_validate(config)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            if err["type"] == "missing":
                problems.append(f"{where}: missing")
            elif err["type"] == "extra_forbidden":
                problems.append(f"{where}: unknown key")
            else:
                problems.append(f"{where}: {err['msg']} (got {err.get('input')!r})")
        raise run.broken_file(
            run.config_file, f"does not validate ({'; '.join(problems)})"
        ) from None


def open_trained_run(case: CaseStudy, run_dir: Path) -> TrainedRun:
    """A trained run of `case`: config (filled from today's defaults), device (the run's
    thread count set), generator from the last checkpoint, and its step."""
    run = RunDir(Path(run_dir))
    cfg = read_run_config(case, run)
    from scigan.core.device import resolve_device, set_threads  # torch: the run is readable

    set_threads(cfg.num_threads)
    device = resolve_device(cfg.device)
    generator, step = case.load_generator(run, cfg, device)
    broken = _nonfinite_parameter(generator)
    if broken is not None:
        raise InputError(
            f"the checkpoint of {run.path} (step {step}) holds NaN or infinite weights "
            f"({broken}): its samples would be garbage",
            "train the run again in a new --run-dir (lower learning rates)",
        )
    return TrainedRun(case, run, cfg, device, generator, step, run.read_info())


def _nonfinite_parameter(generator: Any) -> str | None:
    """The name of a generator weight holding NaN or inf, looking into the containers a case
    study may return (a list of groups, a named tuple with a module inside)."""
    import torch

    if isinstance(generator, torch.nn.Module):
        for name, tensor in [*generator.named_parameters(), *generator.named_buffers()]:
            if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
                return name
    elif isinstance(generator, list | tuple):
        for item in generator:
            found = _nonfinite_parameter(item)
            if found is not None:
                return found
    return None


def sample(
    case: CaseStudy,
    run_dir: Path,
    n: int,
    out: Path,
    seed: int | None = None,
    overwrite: bool = False,
) -> str:
    """n samples of a trained run written to `out`; returns the summary line. Every file the
    case study would write is checked first (scigan.core.outputs): never a run's own file, an
    existing one only with `overwrite`, and `out` must not be a folder."""
    out = check_not_a_folder(Path(out), "--out")
    for path in case.sample_paths(out):
        check_output_file(path, overwrite, "--out")
    trained = open_trained_run(case, run_dir)
    return case.save_samples(trained, case.generate(trained, n, seed), out)


def evaluate(case: CaseStudy, run_dir: Path, n: int | None = None, progress: bool = True) -> str:
    """metrics.json and figures of a trained run; returns the printed summary."""
    from scigan.core.metrics import schema_problems, write_metrics

    started = time.perf_counter()
    say = stage_printer(progress)
    trained = open_trained_run(case, run_dir)
    evaluation = case.evaluate(trained, n, say)
    run = trained.run
    result = {
        "case_study": case.name,
        "run_dir": str(run.path),
        "step": trained.step,
        **evaluation.metrics,
    }
    result["seconds"] = round(time.perf_counter() - started, 2)
    problems = schema_problems(result, case.metrics_per)
    if problems:
        raise ConfigError(
            f"case study {case.name!r} made metrics that break the shared schema: "
            + "; ".join(problems),
            "see docs/metrics.md (the case study's evaluate must return these)",
        )
    write_metrics(run.metrics_file, result)
    say("figures")
    run.figures_dir.mkdir(parents=True, exist_ok=True)
    figures = evaluation.write_figures(run.figures_dir)
    return (
        f"{run.metrics_file} ({evaluation.headline}, {result['seconds']:.1f} s)\n"
        + evaluation.table
        + "\nfigures: "
        + ", ".join(str(f) for f in figures)
    )
