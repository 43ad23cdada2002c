"""Keras references measured here: a case study's Keras implementation timed by another Python.

The issues quote Keras rates taken on "these 2 cores" at some earlier time; this virtual machine's
speed drifts by up to 2x within minutes, and small-kernel steps drift more than the matmul peak
that `scigan.core.bench.scaled_reference` corrects for. So with ``scigan bench --keras-python
PY`` each case study that ships a ``keras_reference.py`` is timed in Keras on this machine, in
rounds that alternate with scigan's own measurement, and the ratio is taken round by round.

PY must have TensorFlow with Keras 3 (``make bench-keras`` builds ``.venv-keras`` with it). It
runs `scigan.core.keras_harness` as a script in its own process with oneDNN on
(``TF_ENABLE_ONEDNN_OPTS=1``: TensorFlow leaves it off on this AMD CPU, ~2x slower for the
convolutions) and the same number of threads as torch.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType

from scigan.core.errors import SciganError

HARNESS = Path(__file__).with_name("keras_harness.py")
_FIX = "make bench-keras builds .venv-keras with TensorFlow and passes its python"
# `compare_with_keras` settings for `scigan bench --quick` (a smoke test of the plumbing)
QUICK_KERAS = {"seconds": 1.0, "warmup_seconds": 0.5, "rounds": 1}


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


def keras_rate(
    python: Path,
    case_file: Path,
    variant: str,
    batch: int,
    threads: int,
    seconds: float,
    rounds: int = 3,
    warmup_seconds: float = 3.0,
) -> dict:
    """One harness run: the JSON it prints (``steps_per_s`` = best of its rounds)."""
    command = [
        str(python),
        str(HARNESS),
        str(case_file),
        f"--variant={variant}",
        f"--batch={batch}",
        f"--threads={threads}",
        f"--seconds={seconds}",
        f"--rounds={rounds}",
        f"--warmup-seconds={warmup_seconds}",
    ]
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    # generous: importing TensorFlow and XLA compilation take seconds on these 2 cores
    limit = 300 + 10 * (seconds + warmup_seconds)
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=limit)
    except subprocess.TimeoutExpired:
        raise SciganError(
            f"the Keras reference {case_file.name} ({variant}) ran past {limit:.0f} s",
            fix="see where it hangs by running: TF_ENABLE_ONEDNN_OPTS=1 " + " ".join(command),
        ) from None
    lines = done.stdout.strip().splitlines()
    try:
        if done.returncode == 0 and lines:
            return json.loads(lines[-1])
    except json.JSONDecodeError:
        pass
    tail = "\n".join((done.stderr.strip() or done.stdout.strip()).splitlines()[-5:])
    raise SciganError(
        f"the Keras reference {case_file.name} ({variant}) failed:\n{tail}",
        fix="see the whole output by running: TF_ENABLE_ONEDNN_OPTS=1 " + " ".join(command),
    )


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
    ours: Callable[[], float],
    *,
    ours_label: str,
    unit: str,
    target: float,
    batch: int = 64,
    seconds: float = 6.0,
    warmup_seconds: float = 3.0,
    rounds: int = 3,
    per_step: float = 1.0,
) -> dict:
    """A case study's comparison for ``scigan bench --keras-python``: `ours()` (a rate in
    `unit`) alternating with each training style of its `reference` module (a
    ``keras_reference.py``) timed under `keras_python`; Keras's steps/s are multiplied by
    `per_step` (e.g. the batch size for samples/s)."""
    import torch

    tensorflow = check_keras_python(keras_python)
    threads = torch.get_num_threads()
    case_file = Path(reference.__file__)

    def keras(variant: str) -> float:
        out = keras_rate(
            keras_python, case_file, variant, batch, threads, seconds, 3, warmup_seconds
        )
        return out["steps_per_s"] * per_step

    keras_styles = {v: (lambda v=v: keras(v)) for v in reference.VARIANTS}
    return {
        "unit": unit,
        "batch_size": batch,
        "threads": threads,
        "tensorflow": tensorflow,
        "ours": ours_label,
        **interleaved_ratios(ours, keras_styles, rounds),
        "target_vs_best_keras": target,
    }
