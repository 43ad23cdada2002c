"""Case studies are discovered, not listed: every folder `scigan/<name>/` with a `casestudy.py`
is one. Adding a case study means adding one folder.

A `casestudy.py` module provides:
    defaults_path() -> Path                       its commented defaults YAML
    bundled_config(name) -> Path | None           named recipes shipped in <name>/configs/
    train(config: dict, run_dir: Path, max_steps: int | None, progress: bool) -> str
    sample(run_dir: Path, n: int, out: Path, seed: int | None) -> str
    evaluate(run_dir: Path, n: int | None, progress: bool) -> str
(each returns a short human summary). A `cli.py` beside it may provide
    register(data_app: typer.Typer) -> None       adds its `scigan data <name>` command
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

from scigan.core.config import resolve
from scigan.core.errors import ConfigError


def _package_root() -> Path:
    return Path(__file__).resolve().parent.parent


def case_study_names() -> list[str]:
    return sorted(p.name for p in _package_root().iterdir() if (p / "casestudy.py").is_file())


def data_command_modules() -> list[str]:
    return sorted(p.name for p in _package_root().iterdir() if (p / "cli.py").is_file())


def load_case_study(name: str) -> ModuleType:
    names = case_study_names()
    if name not in names:
        raise ConfigError(f"unknown case study {name!r}", f"choose one of: {', '.join(names)}")
    return importlib.import_module(f"scigan.{name}.casestudy")


def resolve_case_config(
    case: ModuleType, user_config: str | None, overrides: list[str] | tuple[str, ...]
) -> dict:
    """Defaults < --config (a file, or the name of a bundled recipe) < --set overrides."""
    path = None
    if user_config is not None:
        path = Path(user_config)
        if not path.is_file():
            bundled = case.bundled_config(user_config)
            if bundled is None:
                raise ConfigError(
                    f"--config {user_config!r} is neither a file nor a bundled recipe",
                    "give a YAML path, or a recipe name from the case study's configs/ folder",
                )
            path = bundled
    return resolve(case.defaults_path(), path, overrides)
