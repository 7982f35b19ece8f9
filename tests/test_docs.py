"""The docs stay in step with the code: the op index and the CLI reference."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pixelpipe import ops

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
