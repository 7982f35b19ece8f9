"""``pixelpipe info``, ``pixelpipe backends`` and ``pixelpipe ops``: describe things.

These commands only read; their output goes to stdout (``--json`` where
offered, for scripts), errors follow the exit-code contract of
:mod:`pixelpipe.cli.app`.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
import shutil
import textwrap
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from pixelpipe.errors import InputError

#: Adapter limits shown by ``pixelpipe backends`` (WebGPU names, then labels).
SHOWN_LIMITS = (
    ("max-storage-buffer-binding-size", "max storage buffer binding size", True),
    ("max-buffer-size", "max buffer size", True),
    ("max-compute-workgroups-per-dimension", "max workgroups per dimension", False),
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _console() -> Console:
    return Console(highlight=False, soft_wrap=False)


def _json_default(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, bytes):
        return f"<{len(obj)} bytes>"
    if isinstance(obj, (Path, set, frozenset)):
        return str(obj) if isinstance(obj, Path) else sorted(obj)
    if hasattr(obj, "item"):  # NumPy scalars
        return obj.item()
    return str(obj)


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=_json_default))


# --- info ---------------------------------------------------------------------
def info(
    file: Annotated[Path, typer.Argument(metavar="FILE", show_default=False,
                                         help="Image file to describe.")],
    as_json: JsonOpt = False,
) -> None:
    """Describe an image file without decoding its pixels where the format allows.

    Shows format, size, channels, sample type and bit depth, colour
    encoding, and for OpenEXR the parts, layers and data/display windows.
    """
    from pixelpipe import io

    if not file.exists():
        raise InputError(file, "no such file")
    if not file.is_file():
        raise InputError(file, "not a file")
    fi = io.info(file)
    if as_json:
        _print_json(fi)
    else:
        print(str(fi))


# --- backends -----------------------------------------------------------------
def _bytes(n: Any) -> str:
    if not isinstance(n, int):
        return "unknown"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            text = f"{size:.0f}" if unit == "B" or size == int(size) else f"{size:.1f}"
            return f"{text} {unit}" if unit == "B" else f"{text} {unit} ({n:,} B)"
        size /= 1024
    return str(n)  # pragma: no cover


def backends(as_json: JsonOpt = False) -> None:
    """List the backends, whether each can run here (and if not, why), and every WebGPU adapter.

    For each adapter: index, name, type, graphics backend, whether it is a
    software rasteriser, and its key limits (max storage buffer binding
    size, max buffer size, max workgroups per dimension). Software adapters
    (llvmpipe, lavapipe ...) are used only when named with --adapter or
    PIXELPIPE_ADAPTER. 'auto' shows what --backend auto would take.
    """
    from pixelpipe.backends import detect

    statuses = detect()
    adapters: list[dict[str, object]] = []
    for st in statuses:
        adapters.extend(st.adapters)
    wgpu = next((s for s in statuses if s.name == "wgpu"), None)
    auto = "wgpu" if wgpu is not None and wgpu.available else "cpu"
    if as_json:
        _print_json({
            "backends": [{"name": s.name, "available": s.available, "reason": s.reason}
                         for s in statuses],
            "auto": auto,
            "adapters": adapters,
        })
        return
    print("Backends:")
    width = max(len(s.name) for s in statuses)
    for s in statuses:
        flag = "available" if s.available else "not available"
        print(f"  {s.name:<{width}}  {flag}: {s.reason}")
    print(f"  {'auto':<{width}}  -> {auto}")
    print()
    if not adapters:
        print("WebGPU adapters: none")
        return
    print("WebGPU adapters:")
    for a in adapters:
        soft = "software" if a.get("software") else "hardware"
        print(f"  [{a.get('index')}] {a.get('name')}")
        print(f"      type {a.get('type')}, backend {a.get('backend')}, {soft}")
        limits = a.get("limits")
        lim: dict[str, Any] = limits if isinstance(limits, dict) else {}
        for key, label, is_bytes in SHOWN_LIMITS:
            value = lim.get(key)
            shown = _bytes(value) if is_bytes else str(value)
            print(f"      {label}: {shown}")


# --- ops ------------------------------------------------------------------------
def _first_line(text: str | None) -> str:
    if not text:
        return ""
    for line in inspect.cleandoc(text).splitlines():
        if line.strip():
            return line.strip().replace("``", "")
    return ""


def op_summary(cls: type) -> str:
    """One-line description of an op class (its docstring's first line)."""
    import sys

    doc = cls.__dict__.get("__doc__")
    if not doc:
        doc = getattr(sys.modules.get(cls.__module__), "__doc__", None)
    return _first_line(doc)


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return {**defs.get(ref.rsplit("/", 1)[-1], {}),
                **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


_TYPE_NAMES = {"number": "float", "integer": "int", "boolean": "bool", "string": "str",
               "null": "none", "object": "table"}


def schema_type(schema: dict[str, Any], defs: dict[str, Any]) -> str:
    """A short type name for a JSON-Schema property (``float``, ``3 x float``, ``'a' | 'b'``)."""
    s = _resolve(schema, defs)
    if "enum" in s:
        return " | ".join(repr(v) for v in s["enum"])
    if "const" in s:
        return repr(s["const"])
    for key in ("anyOf", "oneOf"):
        if key in s:
            return " | ".join(schema_type(sub, defs) for sub in s[key])
    t = s.get("type")
    if t == "array":
        if "prefixItems" in s:
            items = [schema_type(sub, defs) for sub in s["prefixItems"]]
            if len(set(items)) == 1:
                return f"{len(items)} x {items[0]}"
            return "(" + ", ".join(items) + ")"
        item = schema_type(s.get("items", {}), defs) if s.get("items") else "value"
        lo, hi = s.get("minItems"), s.get("maxItems")
        if lo is not None and lo == hi:
            return f"{lo} x {item}"
        if lo is not None or hi is not None:
            return f"{lo or 0}..{hi if hi is not None else ''} x {item}"
        return f"list of {item}"
    if t == "string" and s.get("format") == "path":
        return "path"
    if isinstance(t, list):
        return " | ".join(_TYPE_NAMES.get(str(x), str(x)) for x in t)
    if isinstance(t, str):
        return _TYPE_NAMES.get(t, t)
    return "any"


def _num(v: Any) -> str:
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return str(v)


def schema_range(schema: dict[str, Any], defs: dict[str, Any]) -> str:
    """The allowed range of a property as an interval, e.g. ``[-10, 10]``, ``(0, inf)``; or ''."""
    s = _resolve(schema, defs)
    for key in ("anyOf", "oneOf"):
        if key in s:
            parts = [schema_range(sub, defs) for sub in s[key]]
            return " | ".join(p for p in parts if p)
    if s.get("type") == "array":
        items = s.get("items") or {}
        if not items and s.get("prefixItems"):
            ranges = {schema_range(sub, defs) for sub in s["prefixItems"]}
            return ranges.pop() if len(ranges) == 1 else ", ".join(sorted(ranges))
        return schema_range(items, defs) if items else ""
    lo_incl, hi_incl = "minimum" in s, "maximum" in s
    lo = s.get("minimum", s.get("exclusiveMinimum"))
    hi = s.get("maximum", s.get("exclusiveMaximum"))
    if lo is None and hi is None:
        return ""
    left = "[" if lo_incl else "("
    right = "]" if hi_incl else ")"
    lo_s = _num(lo) if lo is not None else "-inf"
    hi_s = _num(hi) if hi is not None else "inf"
    return f"{left}{lo_s}, {hi_s}{right}"


def _default_text(v: Any) -> str:
    if isinstance(v, float) and math.isfinite(v):
        return _num(v)
    if isinstance(v, (list, tuple)):
        return ",".join(_default_text(x) for x in v)
    if isinstance(v, str):
        return repr(v)
    if v is None:
        return "none"
    return json.dumps(v) if isinstance(v, bool) else str(v)


def op_parameters(cls: Any) -> list[dict[str, str]]:
    """Rows (name, type, default, range, unit, description) of an op's parameters."""
    schema = cls.model_json_schema()
    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    rows = []
    for name, prop in schema.get("properties", {}).items():
        rprop = _resolve(prop, defs)
        unit = prop.get("unit") or rprop.get("unit") or ""
        default = "(required)" if name in required else (
            _default_text(prop["default"]) if "default" in prop else "")
        rows.append({
            "name": name,
            "type": schema_type(prop, defs),
            "default": default,
            "range": schema_range(prop, defs),
            "unit": str(unit),
            "description": str(prop.get("description") or rprop.get("description") or ""),
        })
    return rows


def ops(
    name: Annotated[str | None, typer.Argument(
        metavar="NAME", show_default=False,
        help="An op's name: show its parameters instead of the catalogue.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the op catalogue, or one op's parameters.

    Without NAME: every op's name, kind (pointwise, neighborhood, global,
    geometry, frames) and one-line description. With NAME: the op's
    description and each parameter's name, type, default, range, unit and
    description, built from its parameter model (--json prints the model's
    JSON Schema). Use the names in --op strings and [[ops]] tables.
    """
    from pixelpipe.ops import get_op_class, registry

    if name is None:
        reg = registry()
        if as_json:
            _print_json([{"name": n, "kind": str(c.kind.value), "description": op_summary(c)}
                         for n, c in sorted(reg.items())])
            return
        table = Table(box=None, pad_edge=False, show_edge=False)
        table.add_column("name", no_wrap=True)
        table.add_column("kind", no_wrap=True)
        table.add_column("description")
        for n, c in sorted(reg.items()):
            table.add_row(n, c.kind.value, op_summary(c))
        _console().print(table)
        return
    cls = get_op_class(name)  # ParameterError listing the known names if unknown
    if as_json:
        _print_json(cls.model_json_schema())
        return
    print(f"{name} ({cls.kind.value}): {op_summary(cls)}")
    rows = op_parameters(cls)
    if not rows:
        print("no parameters")
        return
    print("parameters:")
    width = max(40, min(shutil.get_terminal_size().columns, 100))
    for r in rows:
        facts = [r["type"], f"default {r['default']}" if r["default"] != "(required)"
                 else "required"]
        if r["range"]:
            facts.append(f"range {r['range']}")
        if r["unit"]:
            facts.append(f"unit {r['unit']}")
        print(f"  {r['name']}: " + "; ".join(facts))
        if r["description"]:
            print(textwrap.fill(r["description"], width=width, initial_indent="      ",
                                subsequent_indent="      "))
