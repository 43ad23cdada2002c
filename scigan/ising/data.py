"""The Ising GAN's data: a `scigan data ising` data set's lattices at the chosen temperatures,
split in simulation time into training and held-out lattices."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from scigan.core.errors import ConfigError, InputError


@dataclass(frozen=True)
class IsingData:
    """Training and held-out lattices per temperature (int8 spins, ±1)."""

    temperatures: np.ndarray  # (n_T,)
    indices: np.ndarray  # (n_T,) index of each temperature in the data set's grid
    train: np.ndarray  # (n_T, n_train, L, L)
    heldout: np.ndarray  # (n_T, n_heldout, L, L)
    chains: int  # Monte Carlo chains per temperature (samples are time-major over them)
    meta: dict[str, Any]

    @property
    def L(self) -> int:
        return int(self.train.shape[-1])


def split_counts(samples: int, heldout_fraction: float) -> tuple[int, int]:
    """(training, held-out) counts: the last `heldout_fraction` of each temperature's samples
    in simulation time are held out (they come after every training sample of each chain)."""
    n_heldout = int(round(samples * heldout_fraction))
    if n_heldout < 1 or n_heldout >= samples:
        raise ConfigError(
            f"data.heldout_fraction = {heldout_fraction} leaves {samples - n_heldout} training "
            f"and {n_heldout} held-out lattices of {samples}",
            "choose a fraction that leaves at least one lattice on each side",
        )
    return samples - n_heldout, n_heldout


def select_temperatures(grid: np.ndarray, wanted: list[float] | None) -> np.ndarray:
    """Indices into the data set's grid of the wanted temperatures (all when None)."""
    if wanted is None:
        return np.arange(len(grid))
    indices = []
    for t in wanted:
        hits = np.flatnonzero(np.abs(grid - t) < 1e-6)
        if hits.size == 0:
            raise ConfigError(
                f"data.temperatures: {t} is not in the data set's grid",
                "choose from: " + ", ".join(f"{g:g}" for g in grid),
            )
        indices.append(int(hits[0]))
    return np.array(indices)


DATA_FIX = (
    "build one with `scigan data ising --out DIR` and pass --data DIR/ising.h5 (a file made by "
    "`scigan data dna` or `scigan data blobs` is for that case study)"
)


def load_data(path: Path, heldout_fraction: float, temperatures: list[float] | None) -> IsingData:
    import json

    from scigan.core.datafiles import open_data_file

    path = Path(path)
    layout = ("temperatures", "spins", "done")
    with open_data_file(path, "ising", DATA_FIX, layout, ("parameters",), "ising.h5") as store:
        grid = store["temperatures"][:]
        done = store["done"][:]
        params = json.loads(store.attrs["parameters"])
        indices = select_temperatures(grid, temperatures)
        if not done[indices].all():
            raise InputError(
                f"{path} is incomplete (interrupted simulation)",
                "re-run the same `scigan data ising` command to finish it",
            )
        spins = np.stack([store["spins"][int(k)] for k in indices])
    n_train, _ = split_counts(spins.shape[1], heldout_fraction)
    return IsingData(
        temperatures=grid[indices].astype(np.float64),
        indices=indices,
        train=spins[:, :n_train],
        heldout=spins[:, n_train:],
        chains=int(params["chains"]),
        meta={
            "path": str(path.resolve()),
            "parameters": params,
            "n_train": int(n_train),
            "indices": [int(i) for i in indices],
            "n_heldout": int(spins.shape[1] - n_train),
        },
    )
