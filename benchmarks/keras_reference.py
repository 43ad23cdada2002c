"""Keras references measured here: a case study's Keras implementation timed by another Python.

Keras rates reported elsewhere were taken on "these 2 cores" at another time; this machine's
speed drifts by up to 2x within minutes, and small-kernel steps drift more than the matmul peak
that `benchmarks.bench.scaled_reference` corrects for. So with ``python -m benchmarks
--keras-python PY`` each case study that has a Keras reference (``benchmarks/<case>_keras.py``)
is timed in Keras on this machine, in slices of a few seconds that alternate with slices of
scigan's own step (both kept warm in between), and the ratio is taken round by round.

PY must have TensorFlow with Keras 3 (``make bench-keras`` builds ``.venv-keras`` with it). It
runs `benchmarks.keras_harness` as a script (by its path) in its own process with oneDNN on
(``TF_ENABLE_ONEDNN_OPTS=1``: TensorFlow leaves it off on this AMD CPU, ~2x slower for the
convolutions) and the same number of threads as torch.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType

import torch

from benchmarks.bench import sliced_rate
from scigan.core.errors import SciganError

HARNESS = Path(__file__).with_name("keras_harness.py")
_FIX = "make bench-keras builds .venv-keras with TensorFlow and passes its python"
# `compare_with_keras` with quick=True (`python -m benchmarks --quick`): a smoke test of the
# plumbing
_QUICK = {"seconds": 0.5, "warmup_seconds": 0.5}


def check_keras_python(python: Path) -> str:
    """TensorFlow's version under `python`, or a clear error."""
    if not Path(python).is_file():
        raise SciganError(f"--keras-python {python}: no such file", fix=_FIX)
    probe = "import tensorflow, keras; print(tensorflow.__version__, keras.__version__)"
    done = subprocess.run(
        [str(python), "-c", probe],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise SciganError(f"--keras-python {python} cannot import tensorflow/keras: {last}", _FIX)
    words = done.stdout.split()
    if len(words) < 2:
        raise SciganError(f"--keras-python {python} printed no TensorFlow/Keras versions", _FIX)
    tf_version, keras_version = words[-2:]
    if not keras_version.startswith("3."):
        raise SciganError(f"--keras-python {python} has Keras {keras_version}; needs Keras 3", _FIX)
    return tf_version


class KerasServer:
    """One Keras training style, built and warmed up in its own process (`keras_harness`
    ``--serve``), then timed on request: ``rate(seconds)`` -> steps/s. Use as a context manager."""

    def __init__(
        self,
        python: Path,
        case_file: Path,
        variant: str,
        batch: int,
        threads: int,
        warmup_seconds: float = 3.0,
        start_timeout: float = 300.0,
    ):
        self.name = f"{Path(case_file).name} ({variant})"
        self.command = [
            str(python),
            str(HARNESS),
            str(case_file),
            f"--variant={variant}",
            f"--batch={batch}",
            f"--threads={threads}",
            f"--warmup-seconds={warmup_seconds}",
            "--serve",
        ]
        env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
        self._stderr = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(
            self.command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env=env,
        )
        # importing TensorFlow and XLA compilation take seconds on these 2 cores
        self.info = self._reply(start_timeout, "did not start")

    def rate(self, seconds: float) -> float:
        """Steps/s over `seconds` of training (at least a few steps)."""
        try:
            self.process.stdin.write(f"{seconds}\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            self._fail("stopped")
        return float(self._reply(120 + 10 * seconds, "stopped answering")["steps_per_s"])

    def _reply(self, timeout: float, failure: str) -> dict:
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            self._fail(f"{failure} within {timeout:.0f} s")
        line = self.process.stdout.readline()  # "" once the process has ended
        try:
            return json.loads(line)
        except json.JSONDecodeError:
            self._fail(failure)

    def _fail(self, what: str):
        self.close()
        self._stderr.seek(0)
        tail = "\n".join(self._stderr.read().strip().splitlines()[-5:])
        raise SciganError(
            f"the Keras reference {self.name} {what}:\n{tail}",
            fix="see the whole output by running: TF_ENABLE_ONEDNN_OPTS=1 "
            + " ".join(self.command[:-1]),
        )

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.process.stdin.close()
                self.process.wait(timeout=30)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> KerasServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
        self._stderr.close()


def interleaved_ratios(
    ours: Callable[[], float], references: Mapping[str, Callable[[], float]], rounds: int
) -> dict:
    """Alternate `ours()` with each reference, `rounds` times; per reference, the rates and the
    ratio ours / reference of each round (against the `ours()` measured just before it), their
    median, and the same against the fastest reference of each round (``best_keras``)."""
    ours_rates: list[float] = []
    theirs: dict[str, list[float]] = {name: [] for name in references}
    for _ in range(rounds):
        ours_rates.append(ours())
        for name, measure in references.items():
            theirs[name].append(measure())
    result: dict = {
        "ours_rates": [round(r, 2) for r in ours_rates],
        "rounds": rounds,
        "references": {},
    }
    best = [max(rates[i] for rates in theirs.values()) for i in range(rounds)]
    for name, rates in [*theirs.items(), ("best_keras", best)]:
        ratios = [a / b for a, b in zip(ours_rates, rates, strict=True)]
        result["references"][name] = {
            "rates": [round(r, 2) for r in rates],
            "ratios": [round(r, 3) for r in ratios],
            "median_ratio": round(statistics.median(ratios), 3),
        }
    return result


def compare_with_keras(
    keras_python: Path,
    reference: ModuleType,
    task,
    *,
    ours_label: str,
    unit: str,
    target: float,
    quick: bool = False,
    per_step: float = 1.0,
    batch: int = 64,
    seconds: float = 2.0,
    warmup_seconds: float = 3.0,
    rounds: int = 10,
    clock: Callable[[], float] = time.perf_counter,
) -> dict:
    """A case study's comparison for ``python -m benchmarks --keras-python``: slices of
    `seconds` of scigan's warmed-up training `task` (a GANTask) alternating with slices of the
    same length of each training style of its `reference` module (a
    ``benchmarks/<case>_keras.py``), all built and warmed up first, under `keras_python`. A
    round takes a few seconds, so scigan and Keras meet the machine in the same phase. Both
    sides' steps/s are multiplied by `per_step` (e.g. the batch size, for samples/s)."""
    if quick:
        seconds, warmup_seconds, rounds = _QUICK["seconds"], _QUICK["warmup_seconds"], 1
    tensorflow = check_keras_python(keras_python)
    threads = torch.get_num_threads()
    case_file = Path(reference.__file__)
    ours = sliced_rate(task, warmup_seconds, clock)
    with contextlib.ExitStack() as stack:
        servers = {
            v: stack.enter_context(
                KerasServer(keras_python, case_file, v, batch, threads, warmup_seconds)
            )
            for v in reference.VARIANTS
        }
        styles = {v: (lambda s=server: s.rate(seconds) * per_step) for v, server in servers.items()}
        result = interleaved_ratios(lambda: ours(seconds) * per_step, styles, rounds)
    return {
        "unit": unit,
        "batch_size": batch,
        "threads": threads,
        "tensorflow": tensorflow,
        "ours": ours_label,
        "seconds_per_measurement": seconds,
        **result,
        "target_vs_best_keras": target,
    }
