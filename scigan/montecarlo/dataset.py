"""Ising data sets: Monte Carlo lattices at a list of temperatures, written to HDF5.

Layout of DIR/ising.h5:
  spins          int8   (temperature, sample, L, L)   samples time-major over the chains:
                                                      sample k comes from chain k % chains
  energy         float64 (temperature, sample)         energy per spin
  magnetization  float64 (temperature, sample)         magnetization per spin
  temperatures   float64 (temperature,)
  done           bool   (temperature,)                 written temperatures (for resuming)
  attrs["parameters"]: JSON of every protocol parameter and the seed.
Plus DIR/summary.csv and DIR/summary.json (per temperature: means, errors, tau_int, exact
values) and figures DIR/fig9_lattice_evolution.png, DIR/observables.png.

Temperatures are simulated in fixed groups; a group is written as soon as it is done, and a
re-run with the same parameters skips the written ones. Until every group is written the file
is DIR/.ising.h5.partial, renamed to ising.h5 at the end: a process killed mid-write (HDF5
files are not journaled) can damage only the partial file, which a re-run then checks and, if
it is unreadable, starts anew; ising.h5 exists only complete. Each temperature's chains are seeded
by (seed, temperature index, chain), so the data do not depend on grouping or resuming.
"""

from __future__ import annotations

import csv
import json
import math
import os
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import yaml

from scigan.core.errors import SciganError
from scigan.montecarlo import exact, mc, observables

GROUP_SIZE = 8  # temperatures simulated together, the unit of resuming
FILE_NAME = "ising.h5"
SUMMARY_FILES = ("summary.json", "summary.csv")
FIGURE_FILES = ("fig9_lattice_evolution.png", "observables.png")


class ParameterError(SciganError, ValueError):
    """A parameter a user can fix: `problem` names it, `fix` says what to pass instead (the
    CLI prints them as every scigan command's errors). Still a ValueError for callers that
    catch that."""


def _one_error(problems: list[tuple[str, str]]) -> ParameterError:
    """Several (problem, fix) pairs as one error, each part joined with "; "."""
    return ParameterError("; ".join(p for p, _ in problems), "; ".join(f for _, f in problems))


EXAMPLE_TEMPERATURES = "--temperatures 0:4:0.1"


def load_defaults() -> dict:
    text = resources.files("scigan.montecarlo").joinpath("defaults.yaml").read_text()
    return yaml.safe_load(text)


def parse_temperatures(text: str) -> tuple[float, ...]:
    """'start:stop:step' (stop included) or 'a,b,c' -> temperatures, rounded to 1e-10."""
    try:
        if ":" in text:
            start, stop, step = (float(x) for x in text.split(":"))
            if step <= 0 or stop < start:
                raise ParameterError(
                    f"temperatures {text!r}: need start <= stop and step > 0",
                    f"give start:stop:step with stop included, e.g. {EXAMPLE_TEMPERATURES}",
                )
            count = int(math.floor((stop - start) / step + 1e-9)) + 1
            values = start + step * np.arange(count)
        else:
            values = np.array([float(x) for x in text.split(",") if x.strip()])
    except ValueError as error:
        if isinstance(error, ParameterError):
            raise
        raise ParameterError(
            f"temperatures {text!r} are neither start:stop:step nor a comma list of numbers",
            f"write start:stop:step with stop included (e.g. {EXAMPLE_TEMPERATURES}) or a comma "
            "list (e.g. --temperatures 1.0,2.269,3.0)",
        ) from None
    if values.size == 0:
        raise ParameterError("no temperatures given", f"give some, e.g. {EXAMPLE_TEMPERATURES}")
    if np.any(values < 0) or not np.all(np.isfinite(values)):
        raise ParameterError(
            f"temperatures {text!r}: must be finite and >= 0",
            f"give temperatures >= 0, e.g. {EXAMPLE_TEMPERATURES}",
        )
    return tuple(float(round(v, 10)) for v in values)


@dataclass(frozen=True)
class Protocol:
    """Everything that determines a data set."""

    L: int
    temperatures: tuple[float, ...]
    samples: int
    algorithm: str
    start: str
    chains: int
    equilibration: int
    interval: int
    global_flip: bool
    seed: int
    backend: str  # "numba" or a torch device ("cpu", "cuda"): different random streams
    protocol: str

    def check(self) -> None:
        problems: list[tuple[str, str]] = []  # (problem, fix)
        if self.L < 2:
            problems.append((f"L = {self.L}: the lattice needs L >= 2", "pass --L 2 or more"))
        if self.samples < 1:
            problems.append(
                (f"samples = {self.samples}: need at least 1 sample", "pass --samples 1 or more")
            )
        if self.algorithm not in mc.ALGORITHMS:
            problems.append(
                (
                    f"unknown algorithm {self.algorithm!r}",
                    "choose --algorithm " + " | ".join(mc.ALGORITHMS),
                )
            )
        if self.start not in ("hot", "cold"):
            problems.append((f"unknown start {self.start!r}", "choose --start hot | cold"))
        if self.chains < 1:
            problems.append(
                (f"chains = {self.chains}: need at least 1 chain", "pass --chains 1 or more")
            )
        if self.equilibration < 0:
            problems.append(
                (
                    f"equilibration = {self.equilibration}: must be >= 0 sweeps",
                    "pass --equilibration 0 or more",
                )
            )
        if self.interval < 1:
            problems.append(
                (f"interval = {self.interval}: must be >= 1 sweep", "pass --interval 1 or more")
            )
        if any(t < 0 for t in self.temperatures):
            problems.append(
                (
                    "temperatures must be >= 0",
                    f"give temperatures >= 0, e.g. {EXAMPLE_TEMPERATURES}",
                )
            )
        if self.backend != "numba" and self.algorithm != "sublattice":
            problems.append(
                (
                    f"the torch/{self.backend} path runs the sublattice algorithm only, "
                    f"not {self.algorithm!r}",
                    "use --algorithm sublattice or --device cpu",
                )
            )
        if problems:
            raise _one_error(problems)

    def as_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def make_protocol(protocol: str = "equilibrium", **overrides) -> Protocol:
    """A Protocol from defaults.yaml: the named protocol's settings, then any non-None
    override (L, temperatures as text or sequence, samples, algorithm, start, chains,
    equilibration, interval, global_flip, seed, backend)."""
    defaults = load_defaults()
    if protocol not in defaults["protocols"]:
        raise ParameterError(
            f"unknown protocol {protocol!r}",
            "choose --protocol " + " | ".join(defaults["protocols"]),
        )
    values = {
        "L": defaults["L"],
        "temperatures": defaults["temperatures"],
        "samples": defaults["samples"],
        "seed": defaults["seed"],
        "backend": "numba",
    }
    values.update(defaults["protocols"][protocol])
    values.update({k: v for k, v in overrides.items() if v is not None})
    temperatures = values["temperatures"]
    values["temperatures"] = (
        parse_temperatures(temperatures)
        if isinstance(temperatures, str)
        else tuple(float(t) for t in temperatures)
    )
    result = Protocol(protocol=protocol, **values)
    result.check()
    return result


def simulate_temperatures(protocol: Protocol, indices, progress=None) -> np.ndarray:
    """Lattices (len(indices), samples, L, L) int8 for the temperatures at `indices`."""
    temperatures = [protocol.temperatures[k] for k in indices]
    device = "cpu" if protocol.backend == "numba" else protocol.backend
    chains = mc.make_chains(
        protocol.L,
        temperatures,
        protocol.chains,
        protocol.seed,
        indices,
        protocol.algorithm,
        protocol.start,
        device,
    )
    chains.equilibrate(protocol.equilibration)
    if progress:
        progress(protocol.equilibration)
    steps = -(-protocol.samples // protocol.chains)
    L = protocol.L
    out = np.empty((len(indices), steps * protocol.chains, L, L), dtype=np.int8)
    for step in range(steps):
        chains.sweep(protocol.interval)
        if protocol.global_flip:
            chains.global_flip()
        lattices = chains.lattices().reshape(len(indices), protocol.chains, L, L)
        out[:, step * protocol.chains : (step + 1) * protocol.chains] = lattices
        if progress:
            progress(protocol.interval)
    return out[:, : protocol.samples]


def output_files(out_dir: Path, figures: bool = True) -> list[Path]:
    """Every file `generate(..., out_dir, figures=figures)` writes, the data set first."""
    names = (FILE_NAME, *SUMMARY_FILES, *(FIGURE_FILES if figures else ()))
    return [Path(out_dir) / name for name in names]


def stored_parameters(path: Path) -> str | None:
    """The parameters (JSON) a data set file was written with; None when it is no readable
    data set of this kind."""
    import h5py

    try:
        with h5py.File(path, "r") as store:
            stored = store.attrs.get("parameters")
    except OSError:
        return None
    return stored if isinstance(stored, str) else None


def different_parameters(path: Path, stored: str, protocol: Protocol) -> ParameterError:
    """The error for a data set file written with other parameters than `protocol`."""
    old, new = json.loads(stored), json.loads(protocol.as_json())
    differing = sorted(k for k in new if old.get(k) != new[k])
    return ParameterError(
        f"{path} was written with different parameters ({', '.join(differing)})",
        "re-run with the same arguments to continue it, pass --overwrite to replace it, or "
        "choose another --out",
    )


def partial_file(path: Path) -> Path:
    """Where the data set `path` is written until it is complete."""
    return path.with_name(f".{path.name}.partial")


def _reopen_partial(path: Path, protocol: Protocol):
    """The partial data set at `path` to continue, or None (then removed) when it is damaged
    or of other parameters. Temperatures whose lattices are not all +-1 count as not done."""
    import h5py

    try:
        store = h5py.File(path, "a")
    except OSError:  # damaged by a kill mid-write
        path.unlink()
        return None
    try:
        if store.attrs.get("parameters") != protocol.as_json():
            raise OSError("other parameters")
        done = store["done"][:]
        for k in np.flatnonzero(done):
            if not np.isin(store["spins"][k], (-1, 1)).all():
                done[k] = False
        store["done"][:] = done
    except (OSError, KeyError, ValueError):
        store.close()
        path.unlink()
        return None
    return store


def _open_store(path: Path, protocol: Protocol):
    import h5py

    n_t, L = len(protocol.temperatures), protocol.L
    if path.name.endswith(".partial") and path.exists():
        store = _reopen_partial(path, protocol)
        if store is not None:
            return store
    if path.exists():
        store = h5py.File(path, "a")
        stored = store.attrs.get("parameters")
        if stored != protocol.as_json():
            store.close()
            raise different_parameters(path, stored or "{}", protocol)
        return store
    path.parent.mkdir(parents=True, exist_ok=True)
    store = h5py.File(path, "w")
    store.attrs["parameters"] = protocol.as_json()
    store.create_dataset(
        "spins",
        (n_t, protocol.samples, L, L),
        dtype="i1",
        chunks=(1, min(protocol.samples, 4096), L, L),
        compression="lzf",
    )
    store.create_dataset("energy", (n_t, protocol.samples), dtype="f8")
    store.create_dataset("magnetization", (n_t, protocol.samples), dtype="f8")
    store.create_dataset("temperatures", data=np.array(protocol.temperatures))
    store.create_dataset("done", data=np.zeros(n_t, dtype=bool))
    for key, value in asdict(protocol).items():
        if key != "temperatures":
            store.attrs[key] = value
    return store


def generate(
    protocol: Protocol, out_dir: Path, show_progress: bool = True, figures: bool = True
) -> dict:
    """Simulate what is missing in out_dir/ising.h5, then write the summary and figures.

    Returns {"path", "simulated" (temperature indices run now), "summary" (rows)}.
    """
    from tqdm.auto import tqdm

    protocol.check()
    out_dir = Path(out_dir)
    path = out_dir / FILE_NAME
    n_t = len(protocol.temperatures)
    groups = [list(range(i, min(i + GROUP_SIZE, n_t))) for i in range(0, n_t, GROUP_SIZE)]
    simulated = []
    # an existing ising.h5 (of these parameters: the CLI checks) is continued in place
    work = path if path.exists() else partial_file(path)
    with _open_store(work, protocol) as store:
        done = store["done"][:]
        pending = [g for g in groups if not done[g].all()]
        steps = -(-protocol.samples // protocol.chains)
        per_group = protocol.equilibration + steps * protocol.interval
        with tqdm(
            total=per_group * len(pending),
            unit="sweep",
            disable=not show_progress,
            desc=f"Ising L={protocol.L}",
        ) as bar:
            for group in pending:
                lattices = simulate_temperatures(protocol, group, bar.update)
                store["spins"][group[0] : group[-1] + 1] = lattices
                store["energy"][group[0] : group[-1] + 1] = observables.energy_per_spin(lattices)
                store["magnetization"][group[0] : group[-1] + 1] = (
                    observables.magnetization_per_spin(lattices)
                )
                store["done"][group[0] : group[-1] + 1] = True
                store.flush()
                simulated.extend(group)
        energy, magnetization = store["energy"][:], store["magnetization"][:]
        correlations = [
            observables.correlation_function(store["spins"][k, :1000]) for k in range(n_t)
        ]
    if work != path:
        _fsync(work)
        work.replace(path)
    rows = summary_rows(protocol, energy, magnetization, correlations)
    write_summary(rows, out_dir)
    if figures:
        from scigan.montecarlo import figures as figs

        evolution, observables_png = (out_dir / name for name in FIGURE_FILES)
        figs.lattice_evolution(protocol.seed, evolution, L=protocol.L)
        figs.observables_vs_temperature(rows, protocol.L, observables_png)
    return {"path": path, "simulated": simulated, "summary": rows}


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def summary_rows(protocol: Protocol, energy, magnetization, correlations=None) -> list[dict]:
    """Per-temperature summary with exact finite-lattice and Onsager values beside it."""
    temps = np.array(protocol.temperatures)
    exact_values = exact.exact_observables(protocol.L, temps)
    rows = []
    for k, t in enumerate(temps):
        row = observables.summarize(
            energy[k], magnetization[k], t, protocol.L, protocol.chains, protocol.interval
        )
        for key in ("energy", "specific_heat", "abs_m", "binder", "susceptibility"):
            row[f"exact_{key}"] = float(exact_values[key][k])
        row["onsager_m"] = float(exact.onsager_magnetization(t))
        row["onsager_e"] = float(exact.onsager_energy(t))
        row["onsager_c"] = float(exact.onsager_specific_heat(t))
        if correlations is not None:
            row["correlation"] = [float(g) for g in correlations[k]]
        rows.append(row)
    return rows


def write_summary(rows: list[dict], out_dir: Path) -> None:
    summary_json, summary_csv = (Path(out_dir) / name for name in SUMMARY_FILES)
    summary_json.write_text(json.dumps(rows, indent=1))
    columns = [k for k in rows[0] if k != "correlation"]
    with open(summary_csv, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
