"""Short recipes for every case study and the checks shared by the contract suites: runs
that must end bitwise where an uninterrupted run does."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from scigan.core.registry import case_study_names


def _ising_data(folder: Path) -> list[str]:
    from scigan.montecarlo import dataset

    protocol = dataset.make_protocol(
        "equilibrium", L=4, temperatures="1.0,2.0,3.0", samples=80, equilibration=10,
        interval=1, backend="numba",
    )  # fmt: skip
    dataset.generate(protocol, folder, show_progress=False, figures=False)
    # three temperatures in groups of two: a run of two training units
    return [
        f"data.path={folder / 'ising.h5'}",
        "train.steps=4",
        "train.group_size=2",
        "log.checkpoint_every=2",
    ]


# Per case study: a short recipe (overrides) for its default or a tiny data set. A plug-in
# without an entry here runs with its own defaults.
SHORT: dict[str, Callable[[Path], list[str]]] = {
    "dna": lambda folder: [
        "train.steps=4", "log.checkpoint_every=2", "evaluate.c2st=false",
        "evaluate.loglik_max_order=2", "evaluate.markov_orders=[1]",
    ],
    "blobs": lambda folder: [
        "data.n_train=32", "data.n_heldout=24", "train.batch_size=8", "train.epochs=1",
        "log.grid_every_epochs=1", "evaluate.encoder.n_images=32", "evaluate.encoder.epochs=1",
        "evaluate.kd_subset_size=8",
    ],
    "ising": _ising_data,
    "mixture": lambda folder: ["train.steps=4", "log.checkpoint_every=2"],
}  # fmt: skip
COMMON = ["num_threads=1", "device=cpu", "log.every=1"]


def checkpoints(run: Path) -> dict[str, dict]:
    return {
        str(p.relative_to(run)): torch.load(p, weights_only=True)
        for p in sorted(run.rglob("checkpoints/last.pt"))
    }


def assert_same_state(a, b, where: str) -> None:
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and torch.equal(a, b), where
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            assert_same_state(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same_state(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


# every registered case study and the toy plug-in of examples/gaussian_mixture
CASES = sorted({*case_study_names(), "mixture"})
