"""The contract between the core and a case study.

A case study is a subclass of `CaseStudy`, registered under the entry point group
`scigan.case_studies` (see docs/extending.md). The core drives every run the same way
(`scigan.core.workflow`): it resolves and validates the config, picks the device and threads,
opens the run directory, trains the units the case study plans, and reopens a trained run for
sampling and evaluation. The case study supplies only what is its own: its config model and
defaults, its data, its training task, its generator, how samples are written and how they are
measured.

Loading a case study (every command does, `scigan --help` included) must not import torch:
this module and each case study's casestudy.py import it only inside the methods that train,
sample or evaluate (tests/test_imports.py checks it).
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from scigan.core.config import RunConfig, bundled_recipe, package_file, read_yaml, validate
from scigan.core.errors import ConfigError
from scigan.core.loop import LoopSettings

if TYPE_CHECKING:  # torch is imported only by the commands that train, sample or evaluate
    import torch
    import typer
    from torch import nn

    from scigan.core.rundir import RunDir
    from scigan.core.trainer import GANTask


@dataclass(frozen=True)
class TrainingUnit:
    """One training loop of a run. Most runs have one, in the run's own directory (`subdir`
    None); a case study that trains several models apart (Ising: one group of temperatures
    after another) gives each its own sub-run directory, which resumes on its own."""

    build_task: Callable[[], GANTask]  # called just before the unit trains
    settings: LoopSettings
    subdir: str | None = None  # relative to the run directory, e.g. "groups/00"
    name: str | None = None  # names the unit in the summary line, e.g. "group 0"
    label: str | None = None  # printed before the unit trains when a run has several
    models: int = 1  # GANs the unit trains together (a stack): for GAN-steps/s


@dataclass
class TrainedRun:
    """A trained run, opened in one pass: its validated config, device, generator and step."""

    case: CaseStudy
    run: RunDir
    config: Any  # an instance of case.config_model
    device: torch.device
    generator: Any  # what case.load_generator returned (a module, or the case's own record)
    step: int
    info: dict[str, Any]


@dataclass
class Evaluation:
    """What a case study's evaluation returns; the core adds the common keys (case_study,
    run_dir, step, seconds), writes metrics.json, then the figures."""

    metrics: dict[str, Any]  # the sets (generated, heldout_floor, baseline_*) and the rest
    table: str  # printed after the metrics file's name
    headline: str  # e.g. "step 10000, 2931 samples"
    write_figures: Callable[[Path], list[Path]] = field(default=lambda directory: [])


class CaseStudy(ABC):
    """Subclass, set the class attributes, implement the abstract methods.

    Optional class attributes (with their defaults): `may_differ`, `resumable_sections`,
    `metrics_per`, and `sample_file`, the file `scigan sample RUN` writes when no --out is
    given (default "samples"; give it the suffix of the format `save_samples` writes, e.g.
    "samples.fasta", "samples.npy")."""

    #: the name users type: `scigan train NAME`; the entry point must have the same name
    name: ClassVar[str]
    #: the pydantic model of the whole config (a RunConfig with a `data.path` field)
    config_model: ClassVar[type[RunConfig]]
    #: the package holding defaults.yaml and configs/<recipe>.yaml
    package: ClassVar[str]
    #: dotted config keys a resume may change (beyond the `resumable_sections`)
    may_differ: ClassVar[frozenset[str]] = frozenset({"device", "num_threads"})
    #: config sections a resume may change: they do not change what is trained
    resumable_sections: ClassVar[tuple[str, ...]] = ("log",)
    #: the metrics.json key of a list of per-condition entries holding the sets (Ising: one
    #: entry per temperature); None: the sets are at the top level (docs/metrics.md)
    metrics_per: ClassVar[str | None] = None
    #: what `scigan sample RUN` writes without --out (in the current folder); its suffix names
    #: the format `save_samples` writes
    sample_file: ClassVar[str] = "samples"
    #: `scigan sweep`'s named selection criteria: name -> an expression over results.csv
    #: columns, minimised (scigan.sweep.results); the first is the default
    sweep_criteria: ClassVar[dict[str, str]] = {}
    #: the column of a metrics_per entry that names its condition (Ising: "temperature"):
    #: sweeps select the best point per condition
    sweep_group_by: ClassVar[str | None] = None
    #: config keys that set how long training lasts: a sweep over one trains each longest
    #: budget once and serves the shorter ones from the checkpoints kept at their last steps
    budget_keys: ClassVar[tuple[str, ...]] = ()
    #: config keys in which a sweep's points may differ and still train as one stacked model
    #: (each point exactly independent); a case study naming any implements
    #: `stacked_training_units` and `stack_member_state`
    stack_keys: ClassVar[tuple[str, ...]] = ()

    # --- config -------------------------------------------------------------------------
    def defaults_path(self) -> Path:
        """The commented defaults YAML: every key, with the recipe's values."""
        return package_file(self.package, "defaults.yaml")

    def bundled_config(self, name: str) -> Path | None:
        """A named recipe shipped with the case study (`--config NAME`), or None."""
        return bundled_recipe(self.package, name)

    def recipes(self) -> list[str]:
        folder = package_file(self.package, "configs")
        return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []

    # --- data ---------------------------------------------------------------------------
    @abstractmethod
    def default_data(self, config: Any) -> Path:
        """The data file used when the config names none (built on first use)."""

    @abstractmethod
    def load_data(self, config: Any) -> Any:
        """The data set of `config.data.path`, with clear errors for unusable files."""

    def data_record(self, data: Any) -> dict[str, Any]:
        """What run.json records about the data (its `meta` by default) and any other
        top-level entries, e.g. {"data": ..., "temperatures": [...]}."""
        return {"data": data.meta}

    # --- training -----------------------------------------------------------------------
    @abstractmethod
    def training_units(self, config: Any, data: Any, device: torch.device) -> list[TrainingUnit]:
        """The training loops of a run, in order."""

    def stacked_training_units(
        self, configs: list[Any], data: Any, device: torch.device
    ) -> list[TrainingUnit]:
        """The training loops of a stack of points (configs differing only in `stack_keys`):
        the same units (subdirs) as one point's, each unit's task training every point's
        models. A unit's task logs point b's losses under its own names + "@b", and writes
        point b's samples into samples/member_BBB/ (scigan.sweep.stacks splits them)."""
        raise NotImplementedError(f"case study {self.name} stacks no points (no stack_keys)")

    def stack_member_state(
        self, task_state: dict[str, Any], member: int, members: int, config: Any
    ) -> dict[str, Any]:
        """Point `member`'s part (of `members`) of a stacked unit's task.state_dict(): what
        training that point alone would have saved. `config`: the point's validated config."""
        raise NotImplementedError(f"case study {self.name} stacks no points (no stack_keys)")

    def stack_model_bytes(self, config: Any, data: Any) -> int:
        """Memory one point takes in a stack (weights, gradients, optimizer state, the step's
        temporaries), for sizing stacks to memory."""
        return 0

    def describe_progress(self, config: Any, data: Any, step: int, total: int) -> str:
        """How far a unit has come, for the summary line."""
        return f"step {step}/{total}"

    def after_training(self, run: RunDir, config: Any) -> str:
        """Work after the loops (e.g. an animation of the samples); returns a summary suffix."""
        return ""

    # --- the generator ------------------------------------------------------------------
    def build_generator(self, config: Any, info: dict[str, Any]) -> nn.Module:
        """The untrained generator of a run with this config and run.json `info`."""
        raise NotImplementedError

    def load_generator(self, run: RunDir, config: Any, device: torch.device) -> tuple[Any, int]:
        """(generator, step) from the run's last checkpoint (loaded weights_only). The default
        loads `state["task"]["generator"]` into `build_generator`'s module."""
        state = run.load_last_checkpoint(device, f"scigan train {self.name} --run-dir {run.path}")
        generator = self.build_generator(config, run.read_info())
        generator.load_state_dict(state["task"]["generator"])
        return generator.to(device), int(state["step"])

    @abstractmethod
    def generate(self, trained: TrainedRun, n: int, seed: int | None) -> Any:
        """n samples (seed None: the run's own sampling seed)."""

    def sample_paths(self, out: Path) -> list[Path]:
        """Every file `save_samples(..., out)` writes (default: `out` itself). The core checks
        them before generating (scigan.core.outputs): none may be a run's own file, and none
        may exist unless the user passed --overwrite."""
        return [Path(out)]

    @abstractmethod
    def save_samples(self, trained: TrainedRun, samples: Any, out: Path) -> str:
        """Write samples to `out` (exactly the files `sample_paths(out)` names); returns the
        summary line."""

    # --- evaluation ---------------------------------------------------------------------
    @abstractmethod
    def evaluate(
        self, trained: TrainedRun, n: int | None, say: Callable[[str], None]
    ) -> Evaluation:
        """Measure the generator against held-out data and baselines."""

    # --- command line -------------------------------------------------------------------
    def nested_budget_problem(self, config: Any) -> str | None:
        """Why the shorter budgets of a run of `config` are not its checkpoints at their last
        steps (e.g. a schedule that depends on the total length), or None when they are."""
        return None

    def register_commands(self, data_app: typer.Typer) -> None:
        """Add the case study's own commands, e.g. `scigan data NAME`; none by default."""
        return None


def check_case_study(obj: Any, entry_point: str) -> CaseStudy:
    """The registered object as a CaseStudy instance, or a ConfigError naming what is wrong."""
    where = f"case study entry point {entry_point!r}"
    fix = "see docs/extending.md: subclass scigan.core.casestudy.CaseStudy"
    if inspect.isclass(obj) and issubclass(obj, CaseStudy):
        missing = sorted(obj.__abstractmethods__)
        if missing:
            raise ConfigError(f"{where}: {obj.__name__} lacks {', '.join(missing)}", fix)
        obj = obj()
    if not isinstance(obj, CaseStudy):
        raise ConfigError(f"{where} gives {obj!r}, not a CaseStudy", fix)
    cls = type(obj)
    for attr in ("name", "config_model", "package"):
        if not hasattr(cls, attr):
            raise ConfigError(f"{where}: {cls.__name__} does not set `{attr}`", fix)
    if obj.name != entry_point:
        raise ConfigError(
            f"{where} names a case study called {obj.name!r}",
            f"give the entry point and `name` the same value ({obj.name!r} or {entry_point!r})",
        )
    if not (inspect.isclass(obj.config_model) and issubclass(obj.config_model, RunConfig)):
        raise ConfigError(f"{where}: config_model must subclass scigan.core.config.RunConfig", fix)
    data_field = obj.config_model.model_fields.get("data")
    if data_field is None or "path" not in getattr(data_field.annotation, "model_fields", {}):
        raise ConfigError(f"{where}: its config has no `data.path` key", fix)
    if cls.load_generator is CaseStudy.load_generator and (
        cls.build_generator is CaseStudy.build_generator
    ):
        raise ConfigError(f"{where}: implement build_generator (or load_generator)", fix)
    defaults = obj.defaults_path()
    if not defaults.is_file():
        raise ConfigError(f"{where}: its defaults file {defaults} does not exist", fix)
    validate(obj.config_model, read_yaml(defaults))
    return obj
