"""Case studies are plug-ins: each is registered under the entry point group
`scigan.case_studies` (scigan's own three in its pyproject.toml; a user's in their package's),
and checked against the contract (`scigan.core.casestudy`) when it is loaded. Only the case
study a command names is loaded, so a broken plug-in does not break the others."""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

from scigan.core.casestudy import CaseStudy, check_case_study
from scigan.core.config import resolve
from scigan.core.errors import ConfigError

GROUP = "scigan.case_studies"


def _entry_points() -> dict[str, EntryPoint]:
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=GROUP):
        found.setdefault(ep.name, ep)  # the first on sys.path wins, as for imports
    return found


def case_study_names() -> list[str]:
    return sorted(_entry_points())


def load_case_study(name: str) -> CaseStudy:
    """The registered case study `name`, checked against the contract."""
    points = _entry_points()
    if not points:
        raise ConfigError(
            "no case study is registered: scigan's own entry points are missing from the "
            "installed package's metadata (an install made before they existed)",
            "reinstall scigan: pip install -e . (or make clean, then make run)",
        )
    if name not in points:
        raise ConfigError(
            f"unknown case study {name!r}",
            f"choose one of: {', '.join(sorted(points))} (or install the package that adds it)",
        )
    ep = points[name]
    try:
        obj = ep.load()
    except Exception as exc:  # a plug-in's import error is the plug-in's to fix
        raise ConfigError(
            f"case study {name!r} ({ep.value}) failed to load: {type(exc).__name__}: {exc}",
            "fix or reinstall the package that provides it",
        ) from exc
    return check_case_study(obj, name)


def all_case_studies() -> tuple[list[CaseStudy], list[ConfigError]]:
    """Every registered case study that loads, and the errors of those that do not."""
    loaded, failed = [], []
    for name in case_study_names():
        try:
            loaded.append(load_case_study(name))
        except ConfigError as exc:
            failed.append(exc)
    return loaded, failed


def resolve_case_config(
    case: CaseStudy, user_config: str | None, overrides: list[str] | tuple[str, ...]
) -> dict:
    """Defaults < --config (a file, or the name of a bundled recipe) < --set overrides."""
    path = None
    if user_config is not None:
        path = Path(user_config)
        if not path.is_file():
            bundled = case.bundled_config(user_config)
            if bundled is None:
                names = ", ".join(case.recipes()) or "none"
                raise ConfigError(
                    f"--config {user_config!r} is neither a file nor a bundled recipe",
                    f"give a YAML path, or a recipe name of {case.name} ({names})",
                )
            path = bundled
    return resolve(case.defaults_path(), path, overrides)
