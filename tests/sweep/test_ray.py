"""The Ray Tune backend end to end on a local 2-CPU Ray (one instance for this module, shut
down at its end): the same points as the local backend, bitwise, and a sweep started on Ray
resumes locally."""

from __future__ import annotations

import os

import pytest
import ray
import torch

from scigan.cli import main
from tests.conftest import EXAMPLE, write_distribution
from tests.contract.recipes import assert_same_state
from tests.sweep.test_local import BASE, _rows

GRID = ["--grid", "train.lr=0.002,0.001", "--grid", "train.steps=10,20"]
SELECT = ["--select", "generated.w1_train"]


@pytest.fixture(scope="module")
def local_ray(tmp_path_factory):
    """A local Ray whose workers load the mixture plug-in (its paths on their PYTHONPATH)."""
    paths = [str(write_distribution(tmp_path_factory.mktemp("site"))), str(EXAMPLE)]
    with pytest.MonkeyPatch.context() as patch:
        for path in paths:
            patch.syspath_prepend(path)
        ray.init(
            num_cpus=2, include_dashboard=False, log_to_driver=False,
            runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(paths)}},
        )  # fmt: skip
        try:
            yield
        finally:
            ray.shutdown()


def _sweep(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(["sweep", "mixture", "--no-progress", *BASE, *GRID, *SELECT, *args])
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_ray_trials_give_the_local_backends_points_and_resume_locally(
    local_ray, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    code, out, err = _sweep(capsys, "--sweep-dir", "on-ray", "--backend", "ray",
                            "--max-parallel", "2", "--cpus-per-trial", "1")  # fmt: skip
    assert code == 0, err
    assert "4/4 points done, 0 failed" in out and out.count("from the checkpoints of") == 2
    assert list((tmp_path / "on-ray" / "ray").iterdir())  # Tune's own records, beside
    code, out, err = _sweep(capsys, "--sweep-dir", "here")
    assert code == 0, err
    ray_rows, local_rows = _rows(tmp_path / "on-ray"), _rows(tmp_path / "here")
    assert [r["point"] for r in ray_rows] == [r["point"] for r in local_rows]
    for row in local_rows:
        assert_same_state(
            torch.load(tmp_path / "on-ray" / "points" / row["point"] / "checkpoints" / "last.pt",
                       weights_only=True),
            torch.load(tmp_path / "here" / "points" / row["point"] / "checkpoints" / "last.pt",
                       weights_only=True),
            row["point"],
        )  # fmt: skip
    # the sweep started on Ray, run again locally: every point is found done
    code, out, _ = _sweep(capsys, "--sweep-dir", "on-ray")
    assert code == 0 and "4/4 points done" in out and ": done (" not in out
