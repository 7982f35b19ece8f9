"""The docs stay in step with the code: the op index and the CLI reference."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer

from pixelpipe import ops
from pixelpipe.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
OPS_INDEX = ROOT / "docs" / "ops" / "README.md"
CLI_DOC = ROOT / "docs" / "cli.md"

# | `name` | `Class` | family | kind | [page](target) ... | description |
ROW = re.compile(r"^\| `(?P<name>[a-z0-9_]+)` \| `(?P<cls>\w+)` \| (?P<family>\w+) \| "
                 r"(?P<kind>\w+) \| \[[^\]]+\]\((?P<target>[^)]+)\)")


def _index_rows() -> dict[str, re.Match[str]]:
    rows = {}
    for line in OPS_INDEX.read_text(encoding="utf-8").splitlines():
        m = ROW.match(line)
        if m:
            rows[m["name"]] = m
    return rows


@pytest.mark.parametrize("name", sorted(ops.registry()))
def test_every_registered_op_is_in_the_ops_index(name):
    rows = _index_rows()
    assert name in rows, f"op {name!r} is missing from docs/ops/README.md"
    row, cls = rows[name], ops.registry()[name]
    assert row["cls"] == cls.__name__
    assert row["family"] == cls.__module__.split(".")[2]
    assert row["kind"] == cls.kind
    target = row["target"]
    assert (OPS_INDEX.parent / target).is_file(), f"{name}: link {target!r} leads nowhere"


def test_ops_index_lists_no_unknown_op():
    assert set(_index_rows()) <= set(ops.registry())


def _commands() -> list[tuple[str, Any]]:
    """Every command of the CLI as (``"pixelpipe apply"``, its click command), nested groups too.

    Typer builds on its own copy of click, so groups are found by their
    ``commands`` mapping rather than by class.
    """
    root = typer.main.get_command(app)
    found: list[tuple[str, Any]] = []

    def walk(prefix: str, cmd: Any) -> None:
        found.append((prefix, cmd))
        for name, sub in (getattr(cmd, "commands", None) or {}).items():
            walk(f"{prefix} {name}", sub)

    walk("pixelpipe", root)
    return found


def test_cli_has_the_commands_this_test_walks():
    names = {path for path, _ in _commands()}
    assert {"pixelpipe apply", "pixelpipe develop", "pixelpipe preset validate"} <= names


@pytest.mark.parametrize("path", [p for p, _ in _commands()[1:]])
def test_every_cli_command_is_in_cli_md(path):
    assert f"`{path}" in CLI_DOC.read_text(encoding="utf-8"), f"{path!r} missing from docs/cli.md"


@pytest.mark.parametrize(("path", "option"), [
    (p, o) for p, cmd in _commands() for param in cmd.params
    if param.param_type_name == "option" for o in param.opts if o.startswith("--")])
def test_every_cli_option_is_in_cli_md(path, option):
    assert re.search(rf"`[^`]*{re.escape(option)}(?![\w-])", CLI_DOC.read_text(encoding="utf-8")), \
        f"{path} {option} missing from docs/cli.md"
