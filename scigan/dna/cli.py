"""`scigan data dna`: windows of a genome, split into training and held-out sets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scigan.core.errors import InputError


def register(data_app: typer.Typer) -> None:
    @data_app.command("dna")
    def data_dna(
        out: Annotated[Path, typer.Option(help="output folder (writes windows.h5)")],
        fasta: Annotated[Path | None, typer.Option(help="FASTA file (one or many records)")] = None,
        genbank: Annotated[Path | None, typer.Option(help="GenBank file")] = None,
        window: Annotated[int, typer.Option(min=1, help="window length in nt")] = 60,
        stride: Annotated[int, typer.Option(min=1, help="step between window starts")] = 1,
        holdout_fraction: Annotated[
            float, typer.Option(help="share of the genome held out as one contiguous block")
        ] = 0.1,
        holdout_start: Annotated[
            str, typer.Option(help="'end', or the block's start as a fraction of the genome")
        ] = "end",
        overwrite: Annotated[bool, typer.Option(help="replace an existing windows.h5")] = False,
    ) -> None:
        """Windows from the bundled SARS-CoV-2 genome (MN908947.3) or your FASTA/GenBank file."""
        from scigan.core.outputs import check_output_file, check_output_folder
        from scigan.dna.data import build_dataset, save_dataset

        if fasta is not None and genbank is not None:
            raise InputError("both --fasta and --genbank were given", "give only one of them")
        target = check_output_file(check_output_folder(out) / "windows.h5", overwrite)
        path, fmt = (fasta, "fasta") if fasta is not None else (genbank, "genbank")
        dataset = build_dataset(path, fmt, window, stride, holdout_fraction, holdout_start)
        save_dataset(dataset, target)
        m = dataset.meta
        typer.echo(
            f"{target}: {m['n_train']} training and {m['n_heldout']} held-out windows of "
            f"{window} nt from {m['accession']} ({m['n_records']} record(s), "
            f"{m['total_length']} nt; {m['n_skipped_invalid']} windows skipped for N/IUPAC "
            f"codes, {m['n_excluded_gap']} in the gap around the held-out block)"
        )
