import json
import os
import stat
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from benchmarks.keras_reference import (
    HARNESS,
    KerasServer,
    check_keras_python,
    compare_with_keras,
    interleaved_ratios,
)
from scigan.core.errors import SciganError


def fake_python(tmp_path: Path, body: str) -> Path:
    """An executable standing in for a TensorFlow interpreter: a Python script whose `body` sees
    `argv` (its arguments) and `log` (a file to write into)."""
    log = tmp_path / "log.json"
    script = tmp_path / "python-tf"
    script.write_text(
        f"#!{sys.executable}\nimport json, os, sys\nargv = sys.argv[1:]\nlog = {str(log)!r}\n"
        + body
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


# A fake `keras_harness.py --serve`: announces itself, then answers each request with a rate
# that depends on the variant; `log` records the arguments and oneDNN's setting.
SERVE = """
json.dump({'argv': argv, 'onednn': os.environ.get('TF_ENABLE_ONEDNN_OPTS')}, open(log, 'w'))
if argv[0] == '-c':
    print('2.21.0 3.15.1')
    sys.exit()
variant = [a for a in argv if a.startswith('--variant=')][0].split('=')[1]
print(json.dumps({'variant': variant}), flush=True)
for line in sys.stdin:
    rate = {'fast': 2.5, 'slow': 2.0}[variant] * (1 + float(line))
    print(json.dumps({'steps_per_s': rate}), flush=True)
"""


def test_keras_server_starts_the_harness_with_onednn_on_and_answers_requests(tmp_path):
    python = fake_python(tmp_path, SERVE)
    case_file = tmp_path / "case.py"
    with KerasServer(python, case_file, "fast", 64, 2, warmup_seconds=1.5) as server:
        assert server.info == {"variant": "fast"}
        assert server.rate(1.0) == 5.0
        assert server.rate(3.0) == 10.0
    assert server.process.returncode == 0  # closed when its requests ended
    seen = json.loads((tmp_path / "log.json").read_text())
    assert seen == {
        "argv": [
            str(HARNESS),
            str(case_file),
            "--variant=fast",
            "--batch=64",
            "--threads=2",
            "--warmup-seconds=1.5",
            "--serve",
        ],
        "onednn": "1",
    }


def test_keras_server_failures_are_clear_errors_with_the_scripts_last_words(tmp_path):
    python = fake_python(tmp_path, "sys.stderr.write('Traceback\\nValueError: bad shape\\n')\n")
    with pytest.raises(SciganError, match=r"(?s)case\.py \(xla\) did not start:\n.*bad shape") as e:
        KerasServer(python, tmp_path / "case.py", "xla", 64, 2)
    assert e.value.fix.startswith(
        f"see the whole output by running: TF_ENABLE_ONEDNN_OPTS=1 {python}"
    )
    python = fake_python(tmp_path, "print('{}', flush=True)\nsys.stdin.readline()\n")
    with KerasServer(python, tmp_path / "case.py", "xla", 64, 2) as server:
        with pytest.raises(SciganError, match=r"case\.py \(xla\) stopped answering"):
            server.rate(1.0)
    python = fake_python(tmp_path, "import time\ntime.sleep(5)\n")
    with pytest.raises(SciganError, match="did not start within 0 s"):
        KerasServer(python, tmp_path / "case.py", "xla", 64, 2, start_timeout=0.2)


def test_check_keras_python_returns_tensorflows_version(tmp_path):
    python = fake_python(tmp_path, "print('2.21.0 3.15.1')\n")
    assert check_keras_python(python) == "2.21.0"


def test_check_keras_python_rejects_a_missing_file_tensorflow_missing_and_keras_2(tmp_path):
    with pytest.raises(SciganError, match="no such file") as err:
        check_keras_python(tmp_path / "nope")
    assert "make bench-keras" in err.value.fix
    python = fake_python(
        tmp_path,
        "sys.stderr.write(\"ModuleNotFoundError: No module named 'tensorflow'\\n\")\nsys.exit(1)\n",
    )
    with pytest.raises(SciganError, match="cannot import tensorflow/keras: ModuleNotFoundError"):
        check_keras_python(python)
    python = fake_python(tmp_path, "")
    with pytest.raises(SciganError, match="printed no TensorFlow/Keras versions"):
        check_keras_python(python)
    python = fake_python(tmp_path, "print('2.15.0 2.15.0')\n")
    with pytest.raises(SciganError, match="Keras 2.15.0; needs Keras 3"):
        check_keras_python(python)


def test_interleaved_ratios_alternate_and_compare_round_by_round():
    events = []

    def sequence(name, values):
        it = iter(values)

        def measure():
            events.append(name)
            return next(it)

        return measure

    out = interleaved_ratios(
        sequence("ours", [300.0, 200.0, 240.0]),
        {"a": sequence("a", [100.0, 100.0, 200.0]), "b": sequence("b", [150.0, 50.0, 120.0])},
        rounds=3,
    )
    assert events == ["ours", "a", "b"] * 3
    assert out == {
        "ours_rates": [300.0, 200.0, 240.0],
        "rounds": 3,
        "references": {
            "a": {"rates": [100.0, 100.0, 200.0], "ratios": [3.0, 2.0, 1.2], "median_ratio": 2.0},
            "b": {"rates": [150.0, 50.0, 120.0], "ratios": [2.0, 4.0, 2.0], "median_ratio": 2.0},
            "best_keras": {
                "rates": [150.0, 100.0, 200.0],
                "ratios": [2.0, 2.0, 1.2],
                "median_ratio": 2.0,
            },
        },
    }


def test_compare_with_keras_alternates_slices_of_ours_and_every_style(tmp_path):
    python = fake_python(tmp_path, SERVE)
    reference = SimpleNamespace(__file__=str(tmp_path / "case.py"), VARIANTS=("fast", "slow"))
    now = [0.0]

    class Task:  # 0.125 s a step on the fake clock: 8 steps/s, 400 samples/s at 50 a step
        steps = 0

        def train_step(self):
            now[0] += 0.125
            self.steps += 1
            return {"loss": 0.0}

    task = Task()
    out = compare_with_keras(
        python,
        reference,
        task,
        ours_label="ours",
        unit="samples_per_s",
        target=1.0,
        seconds=1.0,
        warmup_seconds=0.5,
        per_step=50,
        rounds=2,
        clock=lambda: now[0],
    )
    assert task.steps == 4 + 2 * 8  # a 0.5 s warm-up, then two slices of 1 s
    # the fake serves (1 + seconds) x 2.5 or 2.0 steps/s, times 50 samples a step
    assert out == {
        "unit": "samples_per_s",
        "batch_size": 64,
        "threads": torch.get_num_threads(),
        "tensorflow": "2.21.0",
        "ours": "ours",
        "seconds_per_measurement": 1.0,
        "ours_rates": [400.0, 400.0],
        "rounds": 2,
        "references": {
            "fast": {"rates": [250.0, 250.0], "ratios": [1.6, 1.6], "median_ratio": 1.6},
            "slow": {"rates": [200.0, 200.0], "ratios": [2.0, 2.0], "median_ratio": 2.0},
            "best_keras": {"rates": [250.0, 250.0], "ratios": [1.6, 1.6], "median_ratio": 1.6},
        },
        "target_vs_best_keras": 1.0,
    }


@pytest.mark.skipif(
    not os.environ.get("SCIGAN_KERAS_PYTHON"),
    reason="needs SCIGAN_KERAS_PYTHON, a Python with TensorFlow (make bench-keras builds one)",
)
@pytest.mark.parametrize("case", ["dna", "blobs", "ising"])
def test_the_keras_references_train_with_the_thesis_parameter_counts(case):
    import importlib

    module = importlib.import_module(f"benchmarks.{case}_keras")
    python = Path(os.environ["SCIGAN_KERAS_PYTHON"])
    for variant in module.VARIANTS:
        with KerasServer(python, Path(module.__file__), variant, 8, 1, 0.1) as server:
            assert server.info["parameters"] == module.PARAMETERS
            assert server.info["variant"] == variant
            assert server.rate(0.1) > 0
