"""The Ray Tune backend (`pip install 'scigan[ray]'`).

Every training run of a sweep (a point, or the longest budget with the shorter ones it
serves, or a stack of such runs) is one Tune trial with the resources asked for (fractions
allowed), reporting the records of its points through `tune.report`. The checkpoints, logs
and metrics live in the points' run directories, not in Tune's storage, and state.json is
written by the driver as for the local backend: a sweep started on Ray can be resumed
locally and the other way round.

Without --ray-address a local Ray is started (and stopped at the end) with this process's
module path, so that plug-in case studies load in its workers; with one, the cluster's nodes
need scigan and the plug-ins installed and the sweep directory on a shared file system."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scigan.core.errors import ConfigError
from scigan.sweep.jobs import job_points


def _trainable(config: dict[str, Any]) -> None:
    from ray import tune

    from scigan.sweep.jobs import run_job

    tune.report({"records": json.dumps(run_job(config["job"]))})


def run_jobs(
    jobs: list[dict[str, Any]],
    storage: Path,
    record: Callable[[dict[str, dict[str, Any]]], None],
    address: str | None = None,
    cpus_per_trial: float = 1.0,
    gpus_per_trial: float = 0.0,
    max_parallel: int | None = None,
) -> None:
    """Run the sweep's jobs (scigan.sweep.jobs.run_job's) as Tune trials;
    `record` receives each trial's records as it ends."""
    try:
        import ray
        from ray import tune
    except ImportError:
        raise ConfigError(
            "--backend ray needs Ray Tune, which is not installed",
            "pip install 'scigan[ray]' (or run with --backend local)",
        ) from None
    started = False
    if not ray.is_initialized():
        if address is not None:
            ray.init(address=address, log_to_driver=False)
        else:
            path = os.pathsep.join(p for p in sys.path if p)
            ray.init(
                num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False,
                runtime_env={"env_vars": {"PYTHONPATH": path}},
            )  # fmt: skip
        started = True
    try:
        trainable = tune.with_resources(_trainable, {"cpu": cpus_per_trial, "gpu": gpus_per_trial})
        tuner = tune.Tuner(
            trainable,
            param_space={"job": tune.grid_search(jobs)},
            # a trial's process is reused by the next (it keeps torch and the case study
            # imported: ~3 s a trial on these cores); every job sets its own threads and seeds
            tune_config=tune.TuneConfig(max_concurrent_trials=max_parallel, reuse_actors=True),
            run_config=tune.RunConfig(
                storage_path=str(Path(storage).resolve()),
                name=time.strftime("tune-%Y%m%d-%H%M%S"),
                verbose=0,
            ),
        )
        for result in tuner.fit():
            if result.error is not None:
                job = result.config["job"]
                error = f"ray trial failed: {str(result.error).splitlines()[0]}"
                todo = job["todo"]
                record(
                    {n: {"status": "failed", "error": error} for n in job_points(job) if n in todo}
                )
            else:
                record(json.loads(result.metrics["records"]))
    finally:
        if started:
            ray.shutdown()
