"""``pixelpipe preset``: validate develop presets and print their JSON Schema.

``pixelpipe preset validate FILE... [--format text|json]`` checks each file
and the files it ``extends`` and reports every problem (not just the first)
with file, line, a stable code and a hint; exit status 0 when every file is
valid, 2 otherwise. ``pixelpipe preset schema`` prints the JSON Schema of a
preset, generated from the same pydantic model that validates it.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

preset_app = typer.Typer(
    name="preset",
    help="Develop presets: validate files, print the JSON Schema.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


class Format(StrEnum):
    """Output format of ``preset validate``."""

    text = "text"
    json = "json"


@preset_app.command("validate", no_args_is_help=True)
def validate(
    files: Annotated[list[Path], typer.Argument(help="Preset TOML files.", show_default=False)],
    fmt: Annotated[
        Format,
        typer.Option("--format", help="text: one line per problem; json: a list of objects "
                     "{file, line, code, message, hint}."),
    ] = Format.text,
) -> None:
    """Check preset files and report every problem; exit 0 when all are valid, else 2."""
    from pixelpipe.workflows.develop.validate import validate_files

    issues = validate_files(files)
    if fmt is Format.json:
        print(json.dumps([i.to_dict() for i in issues], indent=2))
    else:
        for issue in issues:
            print(issue.format())
        bad = len({i.file for i in issues})
        if issues:
            s = "s" if len(issues) > 1 else ""
            print(f"{len(issues)} problem{s} in {bad} file{'s' if bad > 1 else ''}",
                  file=sys.stderr)
        else:
            n = len(files)
            print(f"{n} preset{'s' if n > 1 else ''} valid")
    if issues:
        raise typer.Exit(2)


@preset_app.command("schema")
def schema() -> None:
    """Print the JSON Schema of a develop preset (ranges, units, descriptions, defaults)."""
    from pixelpipe.workflows.develop.preset import DevelopPreset

    print(json.dumps(DevelopPreset.json_schema(), indent=2))
