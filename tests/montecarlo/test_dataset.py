"""The `ising` data command: files, resuming, refusals and user errors."""

import json

import h5py
import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from scigan.montecarlo import dataset
from scigan.montecarlo.cli import register

SMALL = [
    "--L",
    "4",
    "--temperatures",
    "1.0,2.5",
    "--samples",
    "128",
    "--chains",
    "64",
    "--equilibration",
    "50",
    "--interval",
    "2",
    "--no-progress",
    "--device",
    "cpu",
]


@pytest.fixture
def app():
    root = typer.Typer()
    data_app = typer.Typer()
    root.add_typer(data_app, name="data")
    register(data_app)
    return root


def invoke(app, *args):
    return CliRunner().invoke(app, ["data", "ising", *args])


def test_writes_hdf5_summary_and_figures(app, tmp_path):
    result = invoke(app, *SMALL, "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    with h5py.File(tmp_path / "ising.h5") as store:
        assert store["spins"].dtype == np.int8
        assert store["spins"].shape == (2, 128, 4, 4)
        assert set(np.unique(store["spins"][:])) <= {-1, 1}
        assert store["energy"].shape == store["magnetization"].shape == (2, 128)
        np.testing.assert_array_equal(store["temperatures"][:], [1.0, 2.5])
        assert store["done"][:].all()
        parameters = json.loads(store.attrs["parameters"])
    assert parameters["seed"] == 0 and parameters["algorithm"] == "sublattice"
    assert parameters["interval"] == 2 and parameters["start"] == "cold"
    rows = json.loads((tmp_path / "summary.json").read_text())
    assert [r["temperature"] for r in rows] == [1.0, 2.5]
    assert len((tmp_path / "summary.csv").read_text().splitlines()) == 3
    assert (tmp_path / "fig9_lattice_evolution.png").stat().st_size > 0
    assert (tmp_path / "observables.png").stat().st_size > 0


def test_rerun_continues_and_reproduces_an_interrupted_run(app, tmp_path):
    args = [*SMALL, "--temperatures", "1.0,2.0,2.5", "--out", str(tmp_path), "--no-figures"]
    assert invoke(app, *args).exit_code == 0
    with h5py.File(tmp_path / "ising.h5", "a") as store:
        complete = store["spins"][:]
        store["done"][1] = False  # as if the run had stopped before temperature 2.0
        store["spins"][1] = 0
    result = invoke(app, *args)
    assert result.exit_code == 0, result.output
    assert "3 temperatures simulated now" in result.output  # its group of 8 is redone
    with h5py.File(tmp_path / "ising.h5") as store:
        np.testing.assert_array_equal(store["spins"][:], complete)
    assert "0 temperatures simulated now" in invoke(app, *args).output


def _interrupted_after_first_group(monkeypatch):
    """simulate_temperatures that dies (as a killed process would) on the second group."""
    real, calls = dataset.simulate_temperatures, []

    def dying(protocol, indices, progress=None):
        calls.append(list(indices))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(protocol, indices, progress)

    monkeypatch.setattr(dataset, "simulate_temperatures", dying)
    monkeypatch.setattr(dataset, "GROUP_SIZE", 1)


def test_the_data_set_appears_only_complete_and_a_partial_one_is_continued(tmp_path, monkeypatch):
    protocol = dataset.make_protocol(
        "equilibrium", L=4, temperatures="1.0,2.0,2.5", samples=32, chains=8,
        equilibration=10, backend="numba",
    )  # fmt: skip
    straight = dataset.generate(protocol, tmp_path / "straight", False, figures=False)
    with h5py.File(straight["path"]) as store:
        complete = store["spins"][:]
    with monkeypatch.context() as patch:
        _interrupted_after_first_group(patch)
        with pytest.raises(KeyboardInterrupt):
            dataset.generate(protocol, tmp_path / "cut", False, figures=False)
    assert not (tmp_path / "cut" / "ising.h5").exists()
    with h5py.File(tmp_path / "cut" / ".ising.h5.partial") as store:
        assert store["done"][:].tolist() == [True, False, False]
    monkeypatch.setattr(dataset, "GROUP_SIZE", 1)
    result = dataset.generate(protocol, tmp_path / "cut", False, figures=False)
    assert result["simulated"] == [1, 2]
    assert sorted(p.name for p in (tmp_path / "cut").iterdir()) == [
        "ising.h5", "summary.csv", "summary.json",
    ]  # fmt: skip
    with h5py.File(result["path"]) as store:
        np.testing.assert_array_equal(store["spins"][:], complete)


@pytest.mark.parametrize("damage", ["unreadable", "torn_lattices"])
def test_a_damaged_partial_data_set_is_redone(tmp_path, monkeypatch, damage):
    monkeypatch.setattr(dataset, "GROUP_SIZE", 1)
    protocol = dataset.make_protocol(
        "equilibrium", L=4, temperatures="1.0,2.5", samples=32, chains=8, equilibration=10,
        backend="numba",
    )  # fmt: skip
    straight = dataset.generate(protocol, tmp_path / "straight", False, figures=False)
    partial = tmp_path / "cut" / ".ising.h5.partial"
    partial.parent.mkdir()
    if damage == "unreadable":  # a kill while HDF5 wrote its metadata
        partial.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(200))
        redone = [0, 1]
    else:  # a kill while a group's lattices were written after its flag
        partial.write_bytes(straight["path"].read_bytes())
        with h5py.File(partial, "a") as store:
            store["spins"][1, 5] = 0
        redone = [1]
    result = dataset.generate(protocol, tmp_path / "cut", False, figures=False)
    assert result["simulated"] == redone
    with h5py.File(result["path"]) as a, h5py.File(straight["path"]) as b:
        np.testing.assert_array_equal(a["spins"][:], b["spins"][:])
    assert not partial.exists()


def test_refuses_to_continue_with_different_arguments(app, tmp_path, capsys):
    assert invoke(app, *SMALL, "--out", str(tmp_path), "--no-figures").exit_code == 0
    code, out, err = _scigan(capsys, *SMALL, "--seed", "1", "--out", str(tmp_path), "--no-figures")
    assert (code, out) == (2, "")
    assert "(seed)" in err and "--out" in err


TEMPERATURES_FIX = "give temperatures >= 0, e.g. --temperatures 0:4:0.1"


@pytest.mark.parametrize(
    ("args", "problem", "fix"),
    [
        (["--L", "1"], "L = 1: the lattice needs L >= 2", "pass --L 2 or more"),
        (["--temperatures", "-1,2"], "temperatures '-1,2': must be finite and >= 0",
         TEMPERATURES_FIX),
        (["--temperatures", "a:b"],
         "temperatures 'a:b' are neither start:stop:step nor a comma list of numbers",
         "write start:stop:step with stop included (e.g. --temperatures 0:4:0.1) or a comma "
         "list (e.g. --temperatures 1.0,2.269,3.0)"),
        (["--temperatures", "3:1:0.5"], "temperatures '3:1:0.5': need start <= stop and step > 0",
         "give start:stop:step with stop included, e.g. --temperatures 0:4:0.1"),
        (["--temperatures", ","], "no temperatures given",
         "give some, e.g. --temperatures 0:4:0.1"),
        (["--samples", "0"], "samples = 0: need at least 1 sample", "pass --samples 1 or more"),
        (["--samples", "-3"], "samples = -3: need at least 1 sample", "pass --samples 1 or more"),
        (["--algorithm", "glauber"], "unknown algorithm 'glauber'",
         "choose --algorithm metropolis | sublattice | wolff"),
        (["--start", "warm"], "unknown start 'warm'", "choose --start hot | cold"),
        (["--protocol", "fast"], "unknown protocol 'fast'",
         "choose --protocol equilibrium | thesis"),
        (["--device", "tpu"], "unknown device 'tpu'", "choose --device auto | cpu | cuda"),
        (["--L", "1", "--chains", "0"],
         "L = 1: the lattice needs L >= 2; chains = 0: need at least 1 chain",
         "pass --L 2 or more; pass --chains 1 or more"),
    ],
)  # fmt: skip
def test_user_errors_are_error_and_fix_lines_and_exit_2(tmp_path, capsys, args, problem, fix):
    code, out, err = _scigan(capsys, *SMALL, *args, "--out", str(tmp_path))
    assert (code, out) == (2, "")
    assert err == f"error: {problem}\n  fix: {fix}\n"
    assert not (tmp_path / "ising.h5").exists()


def test_parameter_errors_are_scigan_errors_and_value_errors():
    from scigan.core.errors import SciganError

    with pytest.raises(dataset.ParameterError) as exc:
        dataset.make_protocol(samples=0)
    assert isinstance(exc.value, SciganError) and isinstance(exc.value, ValueError)
    assert (exc.value.problem, exc.value.fix) == (
        "samples = 0: need at least 1 sample",
        "pass --samples 1 or more",
    )


def test_out_that_is_a_file_is_an_error_and_fix(tmp_path, capsys):
    f = tmp_path / "ising.h5"
    f.write_text("mine")
    code, out, err = _scigan(capsys, *SMALL, "--out", str(f))
    assert (code, out) == (2, "")
    assert err == (
        f"error: --out {f} is a file, not a folder\n"
        "  fix: give a folder (new or existing) to --out\n"
    )
    assert f.read_text() == "mine"


def test_an_unwritable_out_is_an_error_and_fix(tmp_path, capsys, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(dataset, "generate", refuse)
    code, out, err = _scigan(capsys, *SMALL, "--out", str(tmp_path), "--no-figures")
    assert (code, out) == (2, "")
    assert err == (
        f"error: cannot write the data set in {tmp_path}: Permission denied\n"
        "  fix: choose another --out (a folder you can write to, on a disk with room)\n"
    )


def test_thesis_protocol_runs_random_site_metropolis_from_a_random_start(tmp_path):
    protocol = dataset.make_protocol(
        "thesis", L=5, temperatures="0.5,3.0", samples=20, equilibration=10, interval=1
    )
    assert (protocol.algorithm, protocol.start, protocol.chains) == ("metropolis", "hot", 1)
    result = dataset.generate(protocol, tmp_path, show_progress=False, figures=False)
    assert result["simulated"] == [0, 1]
    assert len(result["summary"]) == 2


def test_temperature_ranges_include_the_stop():
    values = dataset.parse_temperatures("0:4:0.1")
    assert len(values) == 41 and values[0] == 0.0 and values[-1] == 4.0 and values[23] == 2.3
    assert dataset.parse_temperatures("1, 2.269") == (1.0, 2.269)


# --- what `scigan data ising --out DIR` writes over, and what it refuses (docs/runs.md) -------


def _scigan(capsys, *args):
    from scigan.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["data", "ising", *args])
        raise SystemExit(0)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def _files(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_no_figures_says_so_and_writes_none(tmp_path, capsys):
    code, out, _ = _scigan(capsys, *SMALL, "--out", str(tmp_path), "--no-figures")
    assert code == 0
    assert out == (
        f"wrote {tmp_path / 'ising.h5'} (2 temperatures simulated now, 2 in all); "
        f"summary.csv in {tmp_path}\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "ising.h5",
        "summary.csv",
        "summary.json",
    ]
    code, out, _ = _scigan(capsys, *SMALL, "--out", str(tmp_path))
    assert code == 0 and out.endswith(f"; summary.csv and figures in {tmp_path}\n")
    assert (tmp_path / "observables.png").is_file()


def test_other_parameters_are_replaced_only_with_overwrite(tmp_path, capsys):
    assert _scigan(capsys, *SMALL, "--out", str(tmp_path), "--no-figures")[0] == 0
    before = _files(tmp_path)
    code, out, err = _scigan(capsys, *SMALL, "--seed", "1", "--out", str(tmp_path), "--no-figures")
    assert (code, out) == (2, "")
    assert err == (
        f"error: {tmp_path / 'ising.h5'} was written with different parameters (seed)\n"
        "  fix: re-run with the same arguments to continue it, pass --overwrite to replace it, "
        "or choose another --out\n"
    )
    assert _files(tmp_path) == before
    args = [*SMALL, "--seed", "1", "--out", str(tmp_path), "--no-figures", "--overwrite"]
    code, out, _ = _scigan(capsys, *args)
    assert code == 0 and "(2 temperatures simulated now, 2 in all)" in out
    with h5py.File(tmp_path / "ising.h5") as store:
        assert json.loads(store.attrs["parameters"])["seed"] == 1


def test_files_of_something_else_in_out_are_refused_unless_overwrite(tmp_path, capsys):
    (tmp_path / "summary.csv").write_text("mine\n")
    code, out, err = _scigan(capsys, *SMALL, "--out", str(tmp_path), "--no-figures")
    assert (code, out) == (2, "")
    assert err == (
        f"error: {tmp_path / 'summary.csv'} exists\n"
        "  fix: pass --overwrite to replace it, or choose another --out\n"
    )
    assert _files(tmp_path) == {"summary.csv": b"mine\n"}
    (tmp_path / "summary.csv").unlink()
    (tmp_path / "ising.h5").write_text("not a data set")
    code, _, err = _scigan(capsys, *SMALL, "--out", str(tmp_path), "--no-figures")
    assert code == 2 and err.startswith(f"error: {tmp_path / 'ising.h5'} exists\n")
    assert (tmp_path / "ising.h5").read_text() == "not a data set"
    code, _, _ = _scigan(capsys, *SMALL, "--out", str(tmp_path), "--no-figures", "--overwrite")
    assert code == 0 and h5py.is_hdf5(tmp_path / "ising.h5")
