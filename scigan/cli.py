"""The `scigan` command line. Commands stay thin: they parse arguments and hand over to the
case study; errors a user can fix are printed as one message, without a traceback."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from scigan.core.errors import SciganError

app = typer.Typer(
    help="Train, evaluate and benchmark GANs on scientific data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
data_app = typer.Typer(help="Build a case study's data set.", no_args_is_help=True)
app.add_typer(data_app, name="data")


@app.command()
def train(
    case: Annotated[str, typer.Argument(help="case study, e.g. dna")],
    data: Annotated[Optional[Path], typer.Option(help="data file (default: built-in data)")] = None,
    config: Annotated[
        Optional[str], typer.Option(help="YAML with the keys that differ, or a recipe name")
    ] = None,
    set_: Annotated[
        Optional[list[str]], typer.Option("--set", help="override one key: --set train.steps=2000")
    ] = None,
    run_dir: Annotated[Optional[Path], typer.Option(help="run directory (default runs/CASE)")] = None,
    max_steps: Annotated[
        Optional[int], typer.Option(min=1, help="stop after this many generator updates")
    ] = None,
    device: Annotated[Optional[str], typer.Option(help="auto | cpu | cuda | cuda:N")] = None,
    progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
) -> None:
    """Train a GAN; re-running with the same run dir resumes where it stopped."""
    from scigan.core.casestudy import load_case_study, resolve_case_config

    module = load_case_study(case)
    overrides = list(set_ or [])
    if data is not None:
        overrides.append(f"data.path={data.resolve()}")
    if device is not None:
        overrides.append(f"device={device}")
    resolved = resolve_case_config(module, config, overrides)
    summary = module.train(resolved, run_dir or Path("runs") / case, max_steps, progress)
    typer.echo(summary)


def _case_of_run(run_dir: Path):
    from scigan.core.casestudy import load_case_study
    from scigan.core.rundir import RunDir

    return load_case_study(RunDir(run_dir).read_info()["case_study"])


@app.command()
def sample(
    run_dir: Annotated[Path, typer.Argument(help="a trained run directory")],
    n: Annotated[int, typer.Option("-n", min=1, help="number of samples")] = 1000,
    out: Annotated[Path, typer.Option(help="output file, e.g. samples.fasta")] = Path("samples.fasta"),
    seed: Annotated[Optional[int], typer.Option(help="noise seed (default: from the run)")] = None,
) -> None:
    """Draw samples from a trained generator."""
    typer.echo(_case_of_run(run_dir).sample(run_dir, n, out, seed))


@app.command()
def evaluate(
    run_dir: Annotated[Path, typer.Argument(help="a trained run directory")],
    n: Annotated[Optional[int], typer.Option("-n", min=1, help="samples to evaluate")] = None,
    progress: Annotated[bool, typer.Option(help="show progress")] = True,
) -> None:
    """Measure a trained generator against held-out data and baselines (metrics.json)."""
    typer.echo(_case_of_run(run_dir).evaluate(run_dir, n, progress))


@app.command()
def bench(
    out: Annotated[Path, typer.Option(help="JSON file to write")] = Path("bench/bench.json"),
    case: Annotated[Optional[list[str]], typer.Option(help="case studies (default all)")] = None,
    quick: Annotated[bool, typer.Option(help="short runs (smoke test)")] = False,
) -> None:
    """Benchmark training and evaluation speed; writes JSON."""
    from scigan.core.bench import run_benchmarks

    typer.echo(run_benchmarks(out, case, quick))


def _register_data_commands() -> None:
    from scigan.core.casestudy import data_command_modules

    for name in data_command_modules():
        importlib.import_module(f"scigan.{name}.cli").register(data_app)


def main(argv: list[str] | None = None) -> None:
    _register_data_commands()
    try:
        app(args=argv, prog_name="scigan", standalone_mode=False)
    except SciganError as exc:
        typer.echo(f"error: {exc.problem}", err=True)
        if exc.fix:
            typer.echo(f"  fix: {exc.fix}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except typer.Abort:
        sys.exit(130)
    except (typer.Exit, SystemExit) as exc:
        sys.exit(getattr(exc, "exit_code", getattr(exc, "code", 0)))
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
