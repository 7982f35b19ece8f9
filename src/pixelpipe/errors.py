"""Exception hierarchy.

Every failure that is the user's to fix (a bad file, a bad parameter, a
backend that cannot start) raises a :class:`PixelpipeError` subclass whose
message names the file or parameter and the problem. The CLI prints that
message on one line and exits with status 2; any other exception is an
internal error (exit 1).
"""

from __future__ import annotations

from pathlib import Path


class PixelpipeError(Exception):
    """Base class of every error that pixelpipe raises on purpose."""


class InputError(PixelpipeError):
    """A file cannot be read: unreadable, truncated, corrupt, unsupported or too large.

    The message always starts with the file's path.
    """

    def __init__(self, path: str | Path | None, problem: str) -> None:
        self.path = None if path is None else str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path else problem)


class OutputError(PixelpipeError):
    """A file cannot be written (exists and overwrite not allowed, bad format, bad bit depth)."""

    def __init__(self, path: str | Path | None, problem: str) -> None:
        self.path = None if path is None else str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path else problem)


class ParameterError(PixelpipeError):
    """An operation or pipeline parameter is missing, of the wrong type or out of range."""


class PipelineError(PixelpipeError):
    """A pipeline description (TOML file or ``--op`` string) is malformed."""


class BackendUnavailable(PixelpipeError):
    """A backend asked for by name cannot start here; the message says why."""


class GPUError(PixelpipeError):
    """The GPU failed while running (device lost, out of memory, limits exceeded).

    The message names the adapter.
    """
