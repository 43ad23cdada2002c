"""The `scigan` command line. Commands stay thin: they parse arguments and hand over to the
case study; errors a user can fix are printed as one message, without a traceback."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from scigan.core.errors import SciganError, TrainingAborted, TrainingDiverged

# Exit codes (also in `scigan train --help` and docs/runs.md).
EXIT_ERROR, EXIT_INTERRUPTED, EXIT_DIVERGED, EXIT_ABORTED = 2, 3, 4, 130


def train(
    case: Annotated[str, typer.Argument(help="case study, e.g. dna")],
    data: Annotated[Path | None, typer.Option(help="data file (default: built-in data)")] = None,
    config: Annotated[
        str | None, typer.Option(help="YAML with the keys that differ, or a recipe name")
    ] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="override one key: --set train.steps=2000")
    ] = None,
    run_dir: Annotated[Path | None, typer.Option(help="run directory (default runs/CASE)")] = None,
    max_steps: Annotated[
        int | None, typer.Option(min=1, help="stop after this many generator updates")
    ] = None,
    device: Annotated[str | None, typer.Option(help="auto | cpu | cuda | cuda:N")] = None,
    progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
    allow_data_change: Annotated[
        bool, typer.Option(help="resume although the data file changed (recorded in run.json)")
    ] = False,
) -> None:
    """Train a GAN; re-running with the same run dir resumes where it stopped.

    Exit codes: 0 finished (or stopped at --max-steps), 2 a problem to fix (bad input, config,
    run directory in use), 3 interrupted by Ctrl-C or SIGTERM with a checkpoint saved (run
    again to resume), 4 training diverged (NaN or inf; the last good checkpoint is kept),
    130 aborted by a second signal (the last checkpoint written is kept)."""
    from scigan.core import workflow
    from scigan.core.outputs import check_output_folder
    from scigan.core.registry import load_case_study, resolve_case_config

    study = load_case_study(case)
    run_dir = check_output_folder(run_dir or Path("runs") / case, "--run-dir")
    overrides = list(set_ or [])
    if data is not None:
        overrides.append(f"data.path={data.resolve()}")
    if device is not None:
        overrides.append(f"device={device}")
    resolved = resolve_case_config(study, config, overrides)
    outcome = workflow.train(
        study, resolved, run_dir or Path("runs") / case, max_steps, progress, allow_data_change
    )
    typer.echo(outcome.summary)
    if outcome.interrupted:
        raise typer.Exit(EXIT_INTERRUPTED)


def _case_of_run(run_dir: Path):
    from scigan.core.registry import load_case_study
    from scigan.core.rundir import RunDir

    return load_case_study(RunDir(run_dir).case_study_name())


def sample(
    run_dir: Annotated[Path, typer.Argument(help="a trained run directory")],
    n: Annotated[int, typer.Option("-n", min=1, help="number of samples")] = 1000,
    out: Annotated[
        Path | None,
        typer.Option(
            help="output file (default: the case study's, in the current folder: samples.fasta "
            "for dna, samples.npy for blobs, samples.npz for ising)"
        ),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="noise seed (default: from the run)")] = None,
    overwrite: Annotated[
        bool, typer.Option(help="replace existing output files (never a run's own files)")
    ] = False,
) -> None:
    """Draw samples from a trained generator."""
    from scigan.core import workflow

    study = _case_of_run(run_dir)
    out = Path(study.sample_file) if out is None else out
    typer.echo(workflow.sample(study, run_dir, n, out, seed, overwrite))


def evaluate(
    run_dir: Annotated[Path, typer.Argument(help="a trained run directory")],
    n: Annotated[int | None, typer.Option("-n", min=1, help="samples to evaluate")] = None,
    progress: Annotated[bool, typer.Option(help="show progress")] = True,
) -> None:
    """Measure a trained generator against held-out data and baselines (metrics.json)."""
    from scigan.core import workflow

    typer.echo(workflow.evaluate(_case_of_run(run_dir), run_dir, n, progress))


def sweep(
    case: Annotated[str, typer.Argument(help="case study, e.g. ising")],
    sweep_dir: Annotated[Path, typer.Option(help="the sweep's folder (re-run to resume)")],
    grid: Annotated[
        list[str] | None,
        typer.Option(
            help="an axis: KEY=V1,V2,... or KEY=log10:START:STOP:N, lin:START:STOP:N, "
            "range:START:STOP[:STEP] (repeatable)"
        ),
    ] = None,
    seeds: Annotated[int | None, typer.Option(min=1, help="adds the axis seed=0..N-1")] = None,
    config: Annotated[
        str | None, typer.Option(help="a sweep YAML or bundled sweep, or a base recipe")
    ] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="override one key of the base config")
    ] = None,
    select: Annotated[
        list[str] | None,
        typer.Option(help="a criterion: the case study's name or an expression (repeatable)"),
    ] = None,
    max_parallel: Annotated[
        int, typer.Option(min=1, help="points trained at once (worker processes or trials)")
    ] = 1,
    backend: Annotated[
        str, typer.Option(help="local (this machine) | ray (Ray Tune: pip install scigan[ray])")
    ] = "local",
    ray_address: Annotated[
        str | None, typer.Option(help="join this Ray cluster (default: start a local Ray)")
    ] = None,
    cpus_per_trial: Annotated[
        float | None, typer.Option(min=0.01, help="ray: CPUs per trial (default cores/N)")
    ] = None,
    gpus_per_trial: Annotated[float, typer.Option(min=0, help="ray: GPUs per trial")] = 0.0,
    stack: Annotated[
        bool,
        typer.Option(help="train points differing only in stackable keys as one stacked model"),
    ] = True,
    max_stack: Annotated[
        int, typer.Option(min=0, help="most points per stack (0: as half the memory allows)")
    ] = 0,
    progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
) -> None:
    """Train and evaluate a grid of configurations; results.csv and selection.json.

    Every point is an ordinary run directory under SWEEP_DIR/points/; re-running resumes
    (finished points are skipped, new grid values train only the new points). Exit codes as
    for train: 3 when interrupted (run again to continue)."""
    from scigan.core.outputs import check_output_folder
    from scigan.core.registry import load_case_study, resolve_case_config
    from scigan.sweep.command import make_spec
    from scigan.sweep.local import run_sweep
    from scigan.sweep.spec import check_points

    study = load_case_study(case)
    sweep_dir = check_output_folder(sweep_dir, "--sweep-dir")
    spec = make_spec(study, config, list(grid or []), list(set_ or []), seeds, list(select or []))
    base = resolve_case_config(study, spec.config, spec.set)
    resolved = check_points(study, base, spec)
    outcome = run_sweep(
        study, spec, resolved, sweep_dir, max_parallel, progress, typer.echo,
        backend, ray_address, cpus_per_trial, gpus_per_trial, max_stack, stack,
    )  # fmt: skip
    typer.echo(outcome.summary)
    if outcome.interrupted:
        raise typer.Exit(EXIT_INTERRUPTED)


def build_app() -> typer.Typer:
    """The command tree, built anew for each call of main (nothing kept between calls): the
    core's commands, and each case study's own (e.g. `scigan data dna`). A plug-in that fails
    to load is reported and skipped, so that the others stay usable."""
    from scigan.core.registry import all_case_studies

    app = typer.Typer(
        help="Train, sample and evaluate GANs on scientific data.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    for command in (train, sample, evaluate, sweep):
        app.command()(command)
    data_app = typer.Typer(help="Build a case study's data set.", no_args_is_help=True)
    app.add_typer(data_app, name="data")
    studies, failed = all_case_studies()
    for study in studies:
        study.register_commands(data_app)
    for exc in failed:
        typer.echo(f"warning: {exc.problem}", err=True)
    return app


def _error(problem: str, fix: str | None) -> None:
    # one line each, whatever a message quotes (a parser's multi-line error, a file name)
    typer.echo(f"error: {' '.join(str(problem).split())}", err=True)
    if fix:
        typer.echo(f"  fix: {' '.join(str(fix).split())}", err=True)


def main(argv: list[str] | None = None) -> None:
    try:
        app = build_app()
        # Not standalone: the parser's usage errors come here, to be printed as every other
        # error is; an explicit exit (typer.Exit) comes back as its code.
        code = app(args=argv, prog_name="scigan", standalone_mode=False)
    except SciganError as exc:
        _error(exc.problem, exc.fix)
        sys.exit(EXIT_DIVERGED if isinstance(exc, TrainingDiverged) else EXIT_ERROR)
    except typer.TyperException as exc:  # click's ClickException: a usage error
        if type(exc).__name__ == "NoArgsIsHelpError":  # `scigan` alone, `scigan data`
            exc.show()
            sys.exit(exc.exit_code)
        context = getattr(exc, "ctx", None)
        command = context.command_path if context is not None else "scigan"
        _error(exc.format_message(), f"see `{command} --help`")
        sys.exit(EXIT_ERROR)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(1)
    except TrainingAborted as exc:
        typer.echo(
            f"aborted by a second {exc.signal_name}: stopped without saving; the run keeps its "
            "last checkpoint (run again to resume from it)",
            err=True,
        )
        sys.exit(EXIT_ABORTED)
    sys.exit(code or 0)  # as a standalone click app does: callers see one SystemExit
