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


class TrainingDiverged(SciganError):
    """A loss or a weight became NaN or infinite; the last good checkpoint is kept."""

    def __init__(self, step: int, what: str, saved_step: int):
        self.step, self.saved_step = step, saved_step
        kept = (
            f"the last good checkpoint (step {saved_step}) is kept"
            if saved_step
            else ("no checkpoint had been written")
        )
        super().__init__(
            f"training diverged at step {step}: {what}; {kept}",
            "lower the learning rates (--set train.lr_...) or change the recipe, and train in a "
            "new --run-dir",
        )


class TrainingAborted(BaseException):
    """A second stop signal (Ctrl-C, SIGTERM) while a step ran: stop without saving. Not an
    Exception, like KeyboardInterrupt, so that no `except Exception` swallows it."""

    def __init__(self, signal_name: str):
        self.signal_name = signal_name
        super().__init__(signal_name)
