"""Shared fixtures.

The toy case study of examples/gaussian_mixture, registered the way any plug-in is: an
installed distribution whose entry_points.txt names it under `scigan.case_studies`. Here the
distribution's metadata is written to a temporary folder put on sys.path (what `pip install`
would write into site-packages), so the tests need no install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "gaussian_mixture"


def write_distribution(folder: Path) -> Path:
    """Metadata of an installed `scigan-mixture` registering the mixture case study."""
    info = folder / "scigan_mixture-0.1.0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: scigan-mixture\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(
        "[scigan.case_studies]\nmixture = scigan_mixture.casestudy:MixtureCaseStudy\n"
    )
    return folder


def scigan_process(args: list[str], cwd: Path, plugin: list[Path]) -> subprocess.Popen:
    """`python -m scigan ARGS` started in `cwd`, with the mixture plug-in's paths (the
    `mixture_plugin` fixture's) on its PYTHONPATH; text pipes for stdout and stderr."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in plugin)}
    return subprocess.Popen(
        [sys.executable, "-m", "scigan", *args], cwd=cwd, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


@pytest.fixture
def mixture_plugin(tmp_path_factory, monkeypatch) -> list[Path]:
    """sys.path entries that register the mixture case study (also for subprocesses)."""
    paths = [write_distribution(tmp_path_factory.mktemp("site")), EXAMPLE]
    for path in paths:
        monkeypatch.syspath_prepend(str(path))
    return paths


@pytest.fixture(autouse=True)
def _restore_torch_threads():
    """Training and opening a run set torch's thread count for the whole process (the run's
    num_threads); put it back so that one test's setting never leaks into the next."""
    before = torch.get_num_threads()
    yield
    if torch.get_num_threads() != before:
        torch.set_num_threads(before)
