"""Tiny data files of each of scigan's own case studies, as their `scigan data` commands write
them: for the tests that hand one case study's file to another."""

from pathlib import Path

import numpy as np

KINDS = ("dna", "blobs", "ising")


def tiny_data_file(kind: str, folder: Path) -> Path:
    """A small real data set of `kind` in `folder` (windows.h5, blobs.h5 or ising.h5)."""
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "dna":
        from scigan.dna.data import build_dataset, save_dataset

        fasta = folder / "tiny.fasta"
        rng = np.random.default_rng(0)
        fasta.write_text(">tiny\n" + "".join(rng.choice(list("ACGT"), 300)) + "\n")
        save_dataset(build_dataset(fasta, "fasta", window=20, stride=5), folder / "windows.h5")
        return folder / "windows.h5"
    if kind == "blobs":
        from scigan.blobs.data import build_dataset
        from scigan.blobs.storage import save_dataset

        save_dataset(build_dataset(16, 8, size=8, seed=0), folder / "blobs.h5")
        return folder / "blobs.h5"
    if kind == "ising":
        from scigan.montecarlo import dataset

        protocol = dataset.make_protocol(
            "equilibrium", L=4, temperatures="2.0", samples=64, equilibration=2, interval=1,
            backend="numba",
        )  # fmt: skip
        dataset.generate(protocol, folder, show_progress=False, figures=False)
        return folder / "ising.h5"
    raise ValueError(kind)
