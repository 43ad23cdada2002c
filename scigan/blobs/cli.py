"""`scigan data blobs`: the thesis's Gaussian-blob images, or your own grayscale images."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(data_app: typer.Typer) -> None:
    @data_app.command("blobs")
    def data_blobs(
        out: Annotated[Path, typer.Option(help="output folder (writes blobs.h5 and a preview)")],
        n: Annotated[int, typer.Option("--n", min=1, help="training images")] = 10_000,
        heldout: Annotated[int, typer.Option(min=1, help="held-out images (evaluation)")] = 2_000,
        size: Annotated[int, typer.Option(help="image side in pixels (multiple of 8)")] = 32,
        seed: Annotated[int, typer.Option(help="data seed")] = 0,
        divisor: Annotated[
            float, typer.Option(help="intensity scaling: sum of blobs / divisor, clipped to 1")
        ] = 5.0,
        images: Annotated[
            Path | None, typer.Option(help="your own images: a folder of PNGs or a .npy array")
        ] = None,
        heldout_fraction: Annotated[
            float, typer.Option(help="with --images: share held out for evaluation")
        ] = 0.2,
        overwrite: Annotated[
            bool, typer.Option(help="replace an existing blobs.h5 and preview.png")
        ] = False,
    ) -> None:
        """Gaussian-blob images (thesis eq. 4.1) with their parameters, or your own images."""
        from scigan.blobs.data import build_dataset, dataset_from_images
        from scigan.blobs.storage import read_user_images, save_dataset, save_grid
        from scigan.core.outputs import check_output_file, check_output_folder

        target, preview = (check_output_folder(out) / name for name in ("blobs.h5", "preview.png"))
        for path in (target, preview):
            check_output_file(path, overwrite)
        if images is not None:
            dataset = dataset_from_images(
                read_user_images(images), heldout_fraction, seed, source=str(images)
            )
        else:
            dataset = build_dataset(n, heldout, size, seed, divisor)
        save_dataset(dataset, target)
        save_grid(preview, dataset.train[:32])
        m = dataset.meta
        typer.echo(
            f"{target}: {m['n_train']} training and {m['n_heldout']} held-out images of "
            f"{m['size']}x{m['size']} ({m['scaling']}); preview {preview}"
        )
