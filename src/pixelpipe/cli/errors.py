"""Errors raised by the command line itself."""

from __future__ import annotations

from pixelpipe.errors import PixelpipeError


class UsageProblem(PixelpipeError):
    """A command line that cannot be right (conflicting or missing options).

    Like every :class:`~pixelpipe.errors.PixelpipeError`, it ends the
    command with one line on stderr and exit status 2.
    """
