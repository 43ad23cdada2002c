from pathlib import Path

import pytest

from scigan.montecarlo import dataset


@pytest.fixture(scope="session")
def small_ising(tmp_path_factory) -> Path:
    """A tiny Monte Carlo data set: L = 4, T = 1.0, 2.0, 3.0, 160 lattices each."""
    out = tmp_path_factory.mktemp("ising")
    protocol = dataset.make_protocol(
        "equilibrium",
        L=4,
        temperatures="1.0,2.0,3.0",
        samples=160,
        equilibration=20,
        interval=2,
        backend="numba",
    )
    dataset.generate(protocol, out, show_progress=False, figures=False)
    return out / "ising.h5"
