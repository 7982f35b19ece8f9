"""The Typer application, its global options and the exit-code contract.

Exit codes
----------
0
    Success.
2
    Bad input or usage: a :class:`~pixelpipe.errors.PixelpipeError` (bad
    file, bad parameter, malformed pipeline, backend that cannot start),
    a command-line usage error, or a file-system error naming a file
    (missing, not readable, no permission). One line on stderr, no
    traceback.
1
    Internal error (any other exception): one line on stderr naming the
    exception, with a hint to rerun with ``--debug`` (or
    ``PIXELPIPE_DEBUG=1``) to see the traceback.
130
    Interrupted (Ctrl-C).

Every failure goes through :meth:`PixelpipeGroup.main`, so the same rules
hold for the installed script, ``python -m pixelpipe`` and in-process
invocation (``typer.testing.CliRunner``).
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from pixelpipe import __version__
from pixelpipe.errors import PixelpipeError

PROG = "pixelpipe"

#: Exit status of each outcome (see the module docstring).
EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130

_DEBUG_HINT = "rerun with --debug or PIXELPIPE_DEBUG=1 for the traceback"


class _State:
    """Global options of the current invocation (set by the app callback)."""

    debug: bool = False


state = _State()


def _debug_requested() -> bool:
    return state.debug or os.environ.get("PIXELPIPE_DEBUG", "").strip() not in ("", "0")


def _one_line(text: str) -> str:
    """Collapse whitespace (newlines included) so a message stays on one line."""
    return " ".join(str(text).split())


def _fail(message: str, code: int, exc: BaseException | None = None) -> NoReturn:
    if exc is not None and _debug_requested():
        traceback.print_exception(exc, file=sys.stderr)
    print(f"{PROG}: error: {_one_line(message)}", file=sys.stderr)
    sys.stderr.flush()
    sys.exit(code)


def _click_kind(exc: BaseException) -> str | None:
    """Which Click/Typer exception ``exc`` is: "help", "usage", "click", "abort" or None.

    Typer ships its own copy of Click, so the classes are recognised by name
    in the exception's class hierarchy rather than by importing them.
    """
    names = {c.__name__ for c in type(exc).__mro__
             if c.__module__.split(".")[0] in ("click", "typer")}
    if "NoArgsIsHelpError" in names:
        return "help"
    if "UsageError" in names:
        return "usage"
    if "ClickException" in names:
        return "click"
    if "Abort" in names:
        return "abort"
    return None


def _usage_message(exc: Any) -> str:
    ctx = getattr(exc, "ctx", None)
    cmd = getattr(ctx, "command_path", None) or PROG
    return f"{exc.format_message()} (see '{cmd} --help')"


class PixelpipeGroup(TyperGroup):
    """Typer's group with pixelpipe's error handling and exit codes.

    Click is run in non-standalone mode so that every exception comes back
    here and is turned into one line on stderr and the exit status of the
    contract, instead of Click's multi-line usage box.
    """

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> NoReturn:
        state.debug = False
        try:
            rv = super().main(
                args=args,
                prog_name=prog_name or PROG,
                complete_var=complete_var,
                standalone_mode=False,
                windows_expand_args=windows_expand_args,
                **extra,
            )
        except PixelpipeError as exc:
            _fail(str(exc) or type(exc).__name__, EXIT_BAD_INPUT, exc)
        except KeyboardInterrupt as exc:
            _fail("interrupted", EXIT_INTERRUPTED, exc)
        except OSError as exc:
            if exc.filename is not None:
                # the file system refused a path the user gave: bad input, not a bug
                reason = exc.strerror or type(exc).__name__
                _fail(f"{exc.filename}: {reason}", EXIT_BAD_INPUT, exc)
            _internal(exc)
        except Exception as exc:
            kind = _click_kind(exc)
            if kind == "help":  # ``pixelpipe`` or ``pixelpipe apply`` alone: help, as usage error
                print(getattr(exc, "format_message", exc.__str__)(), file=sys.stderr)
                sys.exit(EXIT_BAD_INPUT)
            if kind == "usage":
                _fail(_usage_message(exc), EXIT_BAD_INPUT, exc)
            if kind == "click":  # a user-facing message (e.g. a file Click could not open)
                _fail(getattr(exc, "format_message", exc.__str__)(), EXIT_BAD_INPUT, exc)
            if kind == "abort":
                _fail("interrupted", EXIT_INTERRUPTED, exc)
            _internal(exc)
        code = rv if isinstance(rv, int) else EXIT_OK
        sys.stdout.flush()
        sys.exit(code)


def _internal(exc: BaseException) -> NoReturn:
    detail = str(exc)
    what = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    _fail(f"internal error: {what} ({_DEBUG_HINT})", EXIT_INTERNAL, exc)


app = typer.Typer(
    name=PROG,
    cls=PixelpipeGroup,
    help=(
        "GPU-accelerated image-processing pipelines (WebGPU) with a NumPy reference path.\n\n"
        "Exit status: 0 success, 2 bad input or usage, 1 internal error."
    ),
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version_callback(value: bool) -> None:
    if value:
        print(f"{PROG} {__version__}")
        raise typer.Exit()


@app.callback()
def _global_options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version_callback, is_eager=True,
                     help="Print the version and exit."),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option("--debug", help="On failure, print the Python traceback "
                     "(same as PIXELPIPE_DEBUG=1)."),
    ] = False,
) -> None:
    state.debug = debug


def _register() -> None:
    from pixelpipe.cli import bench, listing, running

    app.command("apply", no_args_is_help=True)(running.apply)
    app.command("info", no_args_is_help=True)(listing.info)
    app.command("backends")(listing.backends)
    app.command("ops")(listing.ops)
    app.command("demo")(running.demo)
    app.command("bench")(bench.bench)
    from pixelpipe.cli.develop import develop

    app.command("develop", no_args_is_help=True)(develop)
    from pixelpipe.cli.preset import preset_app

    app.add_typer(preset_app, name="preset")


_register()


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``) and exit."""
    command = typer.main.get_command(app)
    command.main(args=list(argv) if argv is not None else None, prog_name=PROG)
    raise AssertionError("unreachable: PixelpipeGroup.main always exits")  # pragma: no cover
