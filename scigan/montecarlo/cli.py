"""`scigan data ising`: the Ising Monte Carlo data set from the command line.

The Monte Carlo engine's command in the scigan CLI: the Ising case study's register_commands
calls register(data_app) to add it to `scigan data`. Every option defaults to defaults.yaml
through the chosen --protocol, so only what differs needs to be given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(data_app: typer.Typer) -> None:
    """Add the `ising` command to the `data` sub-app."""

    @data_app.command("ising")
    def ising(
        out: Annotated[Path, typer.Option("--out", help="output directory")] = Path("data/ising"),
        L: Annotated[int | None, typer.Option("--L", help="lattice side (default 9)")] = None,
        temperatures: Annotated[
            str | None,
            typer.Option(help="start:stop:step (stop included) or a comma list (default 0:4:0.1)"),
        ] = None,
        samples: Annotated[int | None, typer.Option(help="lattices per temperature")] = None,
        algorithm: Annotated[
            str | None, typer.Option(help="metropolis (thesis, random site) | sublattice | wolff")
        ] = None,
        start: Annotated[str | None, typer.Option(help="hot (random) | cold (all up)")] = None,
        equilibration: Annotated[
            int | None, typer.Option(help="sweeps before the first sample")
        ] = None,
        interval: Annotated[int | None, typer.Option(help="sweeps between samples")] = None,
        chains: Annotated[
            int | None, typer.Option(help="independent chains per temperature")
        ] = None,
        global_flip: Annotated[
            bool | None,
            typer.Option(
                "--global-flip/--no-global-flip",
                help="flip whole lattices with p = 1/2 between samples",
            ),
        ] = None,
        seed: Annotated[int | None, typer.Option(help="seed of every random stream")] = None,
        protocol: Annotated[
            str,
            typer.Option(
                help="equilibrium (default: equilibrium data) | thesis (random-site Metropolis "
                "from a random start, one chain per T)"
            ),
        ] = "equilibrium",
        device: Annotated[
            str,
            typer.Option(help="auto | cpu | cuda (cuda runs the sublattice algorithm in torch)"),
        ] = "auto",
        progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
        figures: Annotated[bool, typer.Option(help="write the figures")] = True,
        overwrite: Annotated[
            bool,
            typer.Option(
                help="replace existing files in --out (ising.h5 of other parameters included)"
            ),
        ] = False,
    ) -> None:
        """Simulate 2D Ising lattices at each temperature and write HDF5, summary, figures.

        Re-running with the same arguments continues an interrupted run.
        """
        from scigan.core.errors import OutputError
        from scigan.core.outputs import check_output_folder
        from scigan.montecarlo import dataset

        # A bad parameter raises dataset.ParameterError, a SciganError: the scigan CLI prints
        # its problem and fix and exits with code 2, as for every command.
        check_output_folder(out)
        try:
            backend = _backend(device, algorithm, protocol)
            chosen = dataset.make_protocol(
                protocol,
                L=L,
                temperatures=temperatures,
                samples=samples,
                algorithm=algorithm,
                start=start,
                chains=chains,
                equilibration=equilibration,
                interval=interval,
                global_flip=global_flip,
                seed=seed,
                backend=backend,
            )
            _check_outputs(chosen, out, figures, overwrite)
            result = dataset.generate(chosen, out, show_progress=progress, figures=figures)
        except OSError as error:  # e.g. a folder the user may not write
            raise OutputError(
                f"cannot write the data set in {out}: {error.strerror or error}",
                "choose another --out (a folder you can write to, on a disk with room)",
            ) from None
        written = "summary.csv and figures" if figures else "summary.csv"
        typer.echo(
            f"wrote {result['path']} ({len(result['simulated'])} temperatures simulated "
            f"now, {len(chosen.temperatures)} in all); {written} in {out}"
        )


def _check_outputs(chosen, out: Path, figures: bool, overwrite: bool) -> None:
    """The files `generate` would write, checked as every command's are (scigan.core.outputs):
    never a run's own file; an existing one only with --overwrite. An ising.h5 written with the
    same parameters is the run being continued, and its summary and figures are rewritten from
    it; one of other parameters is replaced only with --overwrite (removed here)."""
    from scigan.core.outputs import check_output_file
    from scigan.montecarlo import dataset

    store, *derived = dataset.output_files(out, figures)
    for path in (store, *derived):
        check_output_file(path, overwrite=True)  # a run's own files: refused whatever the flags
    stored = dataset.stored_parameters(store) if store.exists() else None
    if stored == chosen.as_json():
        return  # continuing the same data set
    if stored is not None and not overwrite:
        raise dataset.different_parameters(store, stored, chosen)
    for path in (store, *derived):
        check_output_file(path, overwrite)
    if overwrite and (store.exists() or store.is_symlink()):
        store.unlink()


def _backend(device: str, algorithm: str | None, protocol: str) -> str:
    """numba on the CPU; torch on CUDA for the sublattice algorithm when --device asks for it
    (auto: only when a GPU is present and the algorithm is sublattice)."""
    from scigan.montecarlo import dataset

    if device not in ("auto", "cpu", "cuda"):
        raise dataset.ParameterError(
            f"unknown device {device!r}", "choose --device auto | cpu | cuda"
        )
    if device == "cpu":
        return "numba"
    chosen = algorithm or dataset.load_defaults()["protocols"].get(protocol, {}).get("algorithm")
    if device == "auto" and chosen != "sublattice":
        return "numba"  # decided without importing torch (seconds of startup)
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "numba"
    if not torch.cuda.is_available():
        raise dataset.ParameterError(
            "--device cuda: torch sees no GPU", "use --device cpu (or auto: CUDA when present)"
        )
    return "cuda"
