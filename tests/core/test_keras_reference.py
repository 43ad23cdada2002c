import json
import os
import stat
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from scigan.core.errors import SciganError
from scigan.core.keras_reference import (
    HARNESS,
    check_keras_python,
    compare_with_keras,
    interleaved_ratios,
    keras_rate,
)


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


def test_keras_rate_runs_the_harness_with_onednn_on_and_parses_its_last_line(tmp_path):
    python = fake_python(
        tmp_path,
        "json.dump({'argv': argv, 'onednn': os.environ.get('TF_ENABLE_ONEDNN_OPTS')}, "
        "open(log, 'w'))\n"
        "print('some TensorFlow chatter')\n"
        "print(json.dumps({'variant': 'xla', 'steps_per_s': 123.5}))\n",
    )
    case_file = tmp_path / "case.py"
    out = keras_rate(python, case_file, "xla", 64, 2, 6.0, rounds=3, warmup_seconds=1.5)
    assert out == {"variant": "xla", "steps_per_s": 123.5}
    seen = json.loads((tmp_path / "log.json").read_text())
    assert seen == {
        "argv": [
            str(HARNESS),
            str(case_file),
            "--variant=xla",
            "--batch=64",
            "--threads=2",
            "--seconds=6.0",
            "--rounds=3",
            "--warmup-seconds=1.5",
        ],
        "onednn": "1",
    }


def test_keras_rate_failure_is_a_clear_error_with_the_scripts_last_words(tmp_path):
    python = fake_python(tmp_path, "sys.stderr.write('Traceback\\nValueError: bad shape\\n')\n"
                         "sys.exit(1)\n")  # fmt: skip
    with pytest.raises(
        SciganError, match=r"(?s)case\.py \(tf_function\) failed:\n.*bad shape"
    ) as e:
        keras_rate(python, tmp_path / "case.py", "tf_function", 64, 2, 1.0)
    assert e.value.fix.startswith(
        f"see the whole output by running: TF_ENABLE_ONEDNN_OPTS=1 {python}"
    )


def test_keras_rate_without_a_json_result_is_a_clear_error(tmp_path):
    python = fake_python(tmp_path, "print('finished, but no result')\n")
    with pytest.raises(SciganError, match=r"case\.py \(xla\) failed:\nfinished, but no result"):
        keras_rate(python, tmp_path / "case.py", "xla", 64, 2, 1.0)


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


def test_compare_with_keras_times_every_style_of_the_reference_module(tmp_path):
    # the fake interpreter answers the version probe, then reports 2.5 steps/s for "fast"
    # and 2.0 for "slow", whatever case file it is given
    python = fake_python(
        tmp_path,
        "if argv[0] == '-c':\n    print('2.21.0 3.15.1')\n    sys.exit()\n"
        "variant = [a for a in argv if a.startswith('--variant=')][0].split('=')[1]\n"
        "print(json.dumps({'steps_per_s': {'fast': 2.5, 'slow': 2.0}[variant]}))\n",
    )
    reference = SimpleNamespace(__file__=str(tmp_path / "case.py"), VARIANTS=("fast", "slow"))
    out = compare_with_keras(
        python,
        reference,
        lambda: 400.0,
        ours_label="ours",
        unit="samples_per_s",
        target=1.0,
        per_step=64,
        rounds=2,
    )
    assert out == {
        "unit": "samples_per_s",
        "batch_size": 64,
        "threads": torch.get_num_threads(),
        "tensorflow": "2.21.0",
        "ours": "ours",
        "ours_rates": [400.0, 400.0],
        "rounds": 2,
        "references": {
            "fast": {"rates": [160.0, 160.0], "ratios": [2.5, 2.5], "median_ratio": 2.5},
            "slow": {"rates": [128.0, 128.0], "ratios": [3.125, 3.125], "median_ratio": 3.125},
            "best_keras": {"rates": [160.0, 160.0], "ratios": [2.5, 2.5], "median_ratio": 2.5},
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

    module = importlib.import_module(f"scigan.{case}.keras_reference")
    python = Path(os.environ["SCIGAN_KERAS_PYTHON"])
    for variant in module.VARIANTS:
        out = keras_rate(python, Path(module.__file__), variant, 8, 1, 0.2, 1, 0.1)
        assert out["parameters"] == module.PARAMETERS
        assert out["variant"] == variant and out["steps_per_s"] > 0
