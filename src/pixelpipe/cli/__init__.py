"""The ``pixelpipe`` command line (Typer + rich).

Entry point: :func:`pixelpipe.cli.app.main` (the ``pixelpipe`` script and
``python -m pixelpipe``). Commands and exit codes are documented in
``docs/cli.md``: 0 success, 2 bad input or usage (one line on stderr),
1 internal error (one line; ``--debug`` or ``PIXELPIPE_DEBUG=1`` prints the
traceback).
"""

from pixelpipe.cli.app import app, main

__all__ = ["app", "main"]
