"""Properties of the command line under arbitrary input: random option and config values and
random bytes as data files, for every `data` and `train` command. The outcome is always
success (exit 0) or exit 2 with one "error: ..." line (and at most one "  fix: ..." line),
never a traceback.

Bounded: 195 examples in all (about 30 s here), derandomized (the same examples on every
run), each in its own folder; values stay small so that a success (one training step, a tiny
data set) is quick."""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from scigan.cli import main
from scigan.core.config import read_yaml
from scigan.core.registry import load_case_study
from tests.contract.recipes import COMMON, SHORT

OWN = ("blobs", "dna", "ising")
# No shrinking: each example trains or builds data in process, and the assertion message
# shows the whole command line of a failure anyway.
PROPERTY = settings(
    derandomize=True, database=None, deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)  # fmt: skip


def _outcome(argv: list[str], cwd: Path) -> tuple[int, str]:
    """Exit code and stderr of `scigan ARGV` run in process in `cwd`."""
    err, out = io.StringIO(), io.StringIO()
    before = Path.cwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            try:
                main(argv)
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
    finally:
        os.chdir(before)
    return code, err.getvalue() + out.getvalue()


def _assert_clean(argv: list[str], code: int, text: str) -> None:
    shown = f"scigan {' '.join(argv)}\n{text}"
    assert "Traceback" not in text, shown
    assert code in (0, 2), shown
    if code == 2:
        lines = [line for line in text.splitlines() if line.strip()]
        errors = [i for i, line in enumerate(lines) if line.startswith("error: ")]
        assert len(errors) == 1, shown
        rest = lines[errors[0] + 1 :]
        assert rest == [] or (len(rest) == 1 and rest[0].startswith("  fix: ")), shown


# --- values -----------------------------------------------------------------------------

SPECIAL = [
    "nan", "inf", "-inf", ".nan", "1e400", "-1e400", "0", "0.0", "-1", "-0.5", "1e-9", "2",
    "true", "false", "null", "~", "", "[]", "[1, 2]", "[0.5, 0.9]", "[[1]]", "{a: 1}", "!!str",
    "fp16", "bf16", "cpu", "cuda", "auto", "fused", "autograd", "tanh", "zeros", "x" * 300,
]  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(SPECIAL),
    st.integers(-3, 48).map(str),
    st.floats(allow_nan=True, allow_infinity=True, width=32).map(repr),
    st.text(max_size=12),
)
BYTES = st.binary(max_size=300)


def _flat_keys(d: dict, prefix: str = "") -> list[str]:
    keys = []
    for key, value in d.items():
        if isinstance(value, dict):
            keys += _flat_keys(value, f"{prefix}{key}.")
        else:
            keys.append(prefix + key)
    return keys


def _config_keys(name: str) -> list[str]:
    # data.path is given explicitly (a prebuilt set, or random bytes); a default data set
    # built from scratch in every example (Ising's is a Monte Carlo run) would not be bounded
    keys = _flat_keys(read_yaml(load_case_study(name).defaults_path()))
    return [k for k in keys if k != "data.path"]


# --- train ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prebuilt(tmp_path_factory) -> dict[str, list[str]]:
    """Per case study, the short recipe's overrides with its data set built once."""
    folder = tmp_path_factory.mktemp("prebuilt")
    recipes = {}
    for name in OWN:
        overrides = SHORT[name](folder / "data")  # ising's short recipe builds a small set
        if name != "ising":
            small = ["--n", "32", "--heldout", "24"] if name == "blobs" else []
            code, text = _outcome(["data", name, "--out", str(folder / name), *small], folder)
            assert code == 0, text
            data = next(p for p in (folder / name).iterdir() if p.suffix == ".h5")
            overrides = [f"data.path={data}", *overrides]
        recipes[name] = COMMON + overrides
    return recipes


@pytest.mark.parametrize("name", OWN)
@settings(PROPERTY, max_examples=30)
@given(data=st.data())
def test_train_with_random_settings_succeeds_or_fails_in_one_line(name, prebuilt, data):
    keys = _config_keys(name)
    key = st.one_of(st.sampled_from(keys), st.sampled_from(keys).map(lambda k: k + ".x"))
    overrides = data.draw(st.lists(st.tuples(key, VALUES), min_size=1, max_size=3))
    base = [x for s in prebuilt[name] for x in ("--set", s)]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if data.draw(st.booleans()):  # the data file itself: random bytes
            suffix = data.draw(st.sampled_from([".h5", ".fasta", ".npy", ".txt", ""]))
            junk = folder / f"junk{suffix}"
            junk.write_bytes(data.draw(BYTES))
            base += ["--set", f"data.path={junk}"]
        argv = ["train", name, "--run-dir", "run", "--max-steps", "1", "--no-progress", *base]
        argv += [x for k, v in overrides for x in ("--set", f"{k}={v}")]
        code, text = _outcome(argv, folder)
    _assert_clean(argv, code, text)


# --- data -------------------------------------------------------------------------------

OPTION_VALUES = {
    "dna": {
        "--window": st.one_of(st.integers(-2, 90).map(str), VALUES),
        "--stride": st.one_of(st.integers(-2, 40).map(str), VALUES),
        "--holdout-fraction": st.one_of(st.floats(-0.5, 1.5).map(repr), VALUES),
        "--holdout-start": st.one_of(st.sampled_from(["end", "0", "0.5", "1"]), VALUES),
    },
    "blobs": {
        "--n": st.one_of(st.integers(-2, 24).map(str), VALUES),
        "--heldout": st.one_of(st.integers(-2, 12).map(str), VALUES),
        "--size": st.one_of(st.sampled_from(["8", "16", "12", "0", "-8"]), VALUES),
        "--seed": st.one_of(st.integers(-3, 3).map(str), VALUES),
        "--divisor": st.one_of(st.floats(-1, 10).map(repr), VALUES),
        "--heldout-fraction": st.one_of(st.floats(-0.5, 1.5).map(repr), VALUES),
    },
    "ising": {
        "--L": st.one_of(st.integers(-2, 6).map(str), VALUES),
        "--temperatures": st.one_of(
            st.sampled_from(["1:2:0.5", "1,2", "2", "0", "-1", "3:1:0.5", "1:2:0", "a:b:c"]),
            VALUES,
        ),
        "--samples": st.one_of(st.integers(-2, 12).map(str), VALUES),
        "--algorithm": st.one_of(st.sampled_from(["metropolis", "sublattice", "wolff"]), VALUES),
        "--start": st.one_of(st.sampled_from(["hot", "cold"]), VALUES),
        "--equilibration": st.one_of(st.integers(-2, 8).map(str), VALUES),
        "--interval": st.one_of(st.integers(-1, 3).map(str), VALUES),
        "--chains": st.one_of(st.integers(-1, 3).map(str), VALUES),
        "--seed": st.one_of(st.integers(-3, 3).map(str), VALUES),
        "--protocol": st.one_of(st.sampled_from(["equilibrium", "thesis"]), VALUES),
        "--device": st.one_of(st.sampled_from(["cpu", "auto", "cuda"]), VALUES),
    },
}
# small defaults, so that a success is quick; the drawn options come after and win
SMALL = {
    "dna": [],
    "blobs": ["--n", "16", "--heldout", "8", "--size", "16"],
    "ising": ["--L", "4", "--temperatures", "1,2", "--samples", "8", "--equilibration", "4",
              "--no-progress", "--no-figures"],
}  # fmt: skip
DATA_FILE_OPTIONS = {"dna": ["--fasta", "--genbank"], "blobs": ["--images"], "ising": []}


@pytest.mark.parametrize("name", OWN)
@settings(PROPERTY, max_examples=35)
@given(data=st.data())
def test_data_with_random_options_and_files_succeeds_or_fails_in_one_line(name, data):
    options = OPTION_VALUES[name]
    chosen = data.draw(st.lists(st.sampled_from(sorted(options)), max_size=3, unique=True))
    argv = ["data", name, *SMALL[name]]
    for option in chosen:
        argv += [option, data.draw(options[option])]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        file_options = DATA_FILE_OPTIONS[name]
        if file_options and data.draw(st.booleans()):
            option = data.draw(st.sampled_from(file_options))
            suffix = data.draw(st.sampled_from([".fasta", ".gb", ".npy", ".png", ".h5", ""]))
            junk = folder / f"input{suffix}"
            if data.draw(st.booleans()):  # FASTA-shaped text, or a folder of junk PNGs
                if option == "--images":
                    junk.mkdir()
                    (junk / "a.png").write_bytes(data.draw(BYTES))
                else:
                    body = data.draw(st.text(alphabet="ACGTNacgtn>\n xyz", max_size=400))
                    junk.write_text(">record\n" + body)
            else:
                junk.write_bytes(data.draw(BYTES))
            argv += [option, str(junk)]
        out = data.draw(st.sampled_from(["out", "existing_file", "existing_dir"]))
        if out == "existing_file":
            (folder / out).write_text("keep me")
        elif out == "existing_dir":
            (folder / out).mkdir()
        argv += ["--out", out]
        code, text = _outcome(argv, folder)
        if out == "existing_file":
            assert (folder / out).read_text() == "keep me", text
    _assert_clean(argv, code, text)
