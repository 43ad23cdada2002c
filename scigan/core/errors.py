"""User-facing errors: each names the problem and the fix; the CLI prints no traceback."""


class SciganError(Exception):
    """Base class for errors a user can cause and fix (bad input, bad config, bad run dir)."""

    def __init__(self, problem: str, fix: str | None = None):
        self.problem = problem
        self.fix = fix
        super().__init__(problem if fix is None else f"{problem}\n  fix: {fix}")


class InputError(SciganError):
    """Bad input data (unreadable file, nothing usable in it)."""


class ConfigError(SciganError):
    """Bad configuration (unknown key, wrong type, changed config on resume)."""


class OutputError(SciganError):
    """A path a command would write that it must not (a run's own file, an existing file
    without --overwrite, a folder where a file belongs); see scigan.core.outputs."""
