"""``python -m benchmarks``: benchmark training and evaluation speed of every case study (or
those named by --case) and write the numbers as JSON; with --keras-python, also time each case
study's Keras implementation here, alternating with scigan's (``make bench-keras``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from scigan.core.errors import SciganError

app = typer.Typer(
    help="Benchmark training and evaluation speed; writes JSON.",
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.command()
def bench(
    out: Annotated[Path, typer.Option(help="JSON file to write")] = Path("bench/bench.json"),
    case: Annotated[list[str] | None, typer.Option(help="case studies (default all)")] = None,
    quick: Annotated[bool, typer.Option(help="short runs (smoke test)")] = False,
    keras_python: Annotated[
        Path | None,
        typer.Option(
            help="a Python with TensorFlow/Keras 3: also time each case study's Keras "
            "implementation here, alternating with scigan's (make bench-keras)"
        ),
    ] = None,
) -> None:
    """Benchmark training and evaluation speed; writes JSON."""
    from benchmarks.bench import run_benchmarks

    typer.echo(run_benchmarks(out, case, quick, keras_python))


def main(argv: list[str] | None = None) -> None:
    try:
        # Standalone mode: usage errors are printed by the parser and exit with code 2.
        app(args=argv, prog_name="python -m benchmarks")
    except SciganError as exc:
        typer.echo(f"error: {exc.problem}", err=True)
        if exc.fix:
            typer.echo(f"  fix: {exc.fix}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
