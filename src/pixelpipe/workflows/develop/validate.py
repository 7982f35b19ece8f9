"""Validation of develop presets: every problem, with file, line, a stable code and a hint.

:func:`validate_files` checks preset files the way ``pixelpipe preset
validate`` does: it does not stop at the first problem but reports each
unknown section or key, wrong type, out-of-range value, bad choice, bad
curve, missing or unreadable LUT and broken or cyclic ``extends`` as one
:class:`Issue`. The loader (:func:`~pixelpipe.workflows.develop.preset.load_presets`)
runs the same checks and raises :class:`~pixelpipe.workflows.develop.preset.PresetError`
carrying the same issues.

Codes (stable; documented in ``docs/presets.md``)
-------------------------------------------------
=======  ==========================================================
PP001    TOML syntax error
PP002    preset file cannot be read (missing, a folder, not UTF-8)
PP101    unknown section
PP102    unknown key
PP201    wrong type
PP202    value out of range (or not a finite number)
PP203    value is not one of the allowed choices
PP204    invalid tone-curve points (count, shape, x not increasing)
PP301    LUT file not found
PP302    LUT file unreadable or not a 3-D ``.cube`` LUT
PP401    ``extends`` target not found
PP402    ``extends`` cycle
PP501    malformed ``--set`` override
=======  ==========================================================

Line numbers
------------
``tomllib`` parses but keeps no positions, so :func:`scan_positions` walks
the TOML text itself (after ``tomllib`` accepted it) and records the line on
which each table header, key and array element starts: dotted headers
(``[hsl.red]``), dotted keys (``sharpening.amount = 40``), quoted keys,
inline tables (``sharpening = { amount = 40 }``), arrays of tables and
multi-line arrays such as tone-curve ``points`` (each point gets its own
line). A problem is reported on the line of the most specific key or element
that the scan found for it (1-based; ``None`` for ``--set`` overrides).
"""

from __future__ import annotations

import difflib
import json
import re
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

#: Every code an :class:`Issue` can carry, with its meaning.
CODES: dict[str, str] = {
    "PP001": "TOML syntax error",
    "PP002": "preset file cannot be read",
    "PP101": "unknown section",
    "PP102": "unknown key",
    "PP201": "wrong type",
    "PP202": "value out of range",
    "PP203": "value is not one of the allowed choices",
    "PP204": "invalid tone-curve points",
    "PP301": "LUT file not found",
    "PP302": "LUT file unreadable or not a 3-D .cube LUT",
    "PP401": "extends target not found",
    "PP402": "extends cycle",
    "PP501": "malformed --set override",
}

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Issue:
    """One problem found in a preset.

    Attributes
    ----------
    file : str
        The preset file (as given, or joined to the file that ``extends``
        it), or ``"--set"`` for a command-line override.
    line : int or None
        1-based line of the key, section or array element at fault; ``None``
        when there is no line (a ``--set`` override, an unreadable file).
    code : str
        A stable code from :data:`CODES` (``"PP202"`` ...).
    message : str
        What is wrong, naming the section and key.
    hint : str
        How to fix it (``"allowed range -100..100"``, ``"did you mean
        'highlights'?"``); may be empty.
    """

    file: str
    line: int | None
    code: str
    message: str
    hint: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The issue as a JSON-ready dict ``{file, line, code, message, hint}``."""
        return asdict(self)

    def format(self) -> str:
        """One line: ``file:line: CODE message (hint: ...)``."""
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        text = f"{where}: {self.code} {self.message}"
        return f"{text} (hint: {self.hint})" if self.hint else text


# --------------------------------------------------------------------------- positions


class _Scanner:
    """Records the line of every header, key and array element of valid TOML text."""

    _BARE = re.compile(r"[A-Za-z0-9_-]+")

    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        self.line = 1
        self.pos: dict[Loc, int] = {}
        self.aot_count: dict[Loc, int] = {}

    # -- low level
    def _peek(self, n: int = 1) -> str:
        return self.s[self.i:self.i + n]

    def _advance(self, n: int = 1) -> None:
        self.line += self.s.count("\n", self.i, self.i + n)
        self.i += n

    def _skip(self, newlines: bool) -> None:
        """Skip blanks and comments (and newlines when ``newlines``)."""
        while self.i < len(self.s):
            c = self.s[self.i]
            if c in " \t\r" or (newlines and c == "\n"):
                self._advance()
            elif c == "#":
                end = self.s.find("\n", self.i)
                self._advance((len(self.s) if end < 0 else end) - self.i)
            else:
                return

    def _record(self, loc: Loc, line: int | None = None) -> None:
        self.pos.setdefault(loc, self.line if line is None else line)

    def _string(self) -> str:
        """Consume a string at the cursor; return its (approximately unescaped) value."""
        for quote in ('"""', "'''"):
            if self._peek(3) == quote:
                end = self.s.find(quote, self.i + 3)
                while quote == '"""' and end > 0 and self._escaped(end):
                    end = self.s.find(quote, end + 1)
                end = len(self.s) - 3 if end < 0 else end
                while self.s[end + 3:end + 4] == quote[0]:  # up to two quotes may close it
                    end += 1
                value = self.s[self.i + 3:end]
                self._advance(end + 3 - self.i)
                return value
        q = self.s[self.i]
        j = self.i + 1
        while j < len(self.s) and self.s[j] != q and self.s[j] != "\n":
            j += 2 if (q == '"' and self.s[j] == "\\") else 1
        value = self.s[self.i + 1:j]
        if q == '"':
            try:
                value = json.loads(f'"{value}"')
            except ValueError:
                pass
        self._advance(j + 1 - self.i)
        return value

    def _escaped(self, at: int) -> bool:
        n = 0
        while at - 1 - n >= 0 and self.s[at - 1 - n] == "\\":
            n += 1
        return n % 2 == 1

    def _key(self) -> list[str]:
        """A dotted key: bare or quoted parts separated by dots."""
        parts: list[str] = []
        while True:
            self._skip(newlines=False)
            if self._peek() in ('"', "'"):
                parts.append(self._string())
            else:
                m = self._BARE.match(self.s, self.i)
                if not m:
                    break
                parts.append(m.group(0))
                self._advance(m.end() - self.i)
            self._skip(newlines=False)
            if self._peek() != ".":
                break
            self._advance()
        return parts

    def _value(self, loc: Loc) -> None:
        self._skip(newlines=False)
        c = self._peek()
        if c == "[":
            self._advance()
            index = 0
            while self.i < len(self.s):
                self._skip(newlines=True)
                if self._peek() == "]":
                    self._advance()
                    return
                if self._peek() == ",":
                    self._advance()
                    continue
                self._record((*loc, index))
                self._value((*loc, index))
                index += 1
        elif c == "{":
            self._advance()
            while self.i < len(self.s):
                self._skip(newlines=True)
                if self._peek() == "}":
                    self._advance()
                    return
                if self._peek() == ",":
                    self._advance()
                    continue
                self._keyval(loc)
        elif c in ('"', "'"):
            self._string()
        else:
            m = re.compile(r"[^,\]}\n#]*").match(self.s, self.i)
            assert m is not None
            self._advance(max(1, m.end() - self.i))

    def _keyval(self, table: Loc) -> None:
        line = self.line
        parts = self._key()
        if not parts:  # not a key: skip one character so the scan always ends
            self._advance()
            return
        for n in range(1, len(parts) + 1):
            self._record((*table, *parts[:n]), line)
        self._skip(newlines=False)
        if self._peek() == "=":
            self._advance()
        self._value((*table, *parts))

    def run(self) -> dict[Loc, int]:
        table: Loc = ()
        while True:
            self._skip(newlines=True)
            if self.i >= len(self.s):
                return self.pos
            line = self.line
            if self._peek(2) == "[[":
                self._advance(2)
                key = tuple(self._key())
                self._skip(newlines=False)
                self._advance(2 if self._peek(2) == "]]" else 0)
                n = self.aot_count.get(key, 0)
                self.aot_count[key] = n + 1
                for k in range(1, len(key) + 1):
                    self._record(key[:k], line)
                table = (*key, n)
                self._record(table, line)
            elif self._peek() == "[":
                self._advance()
                header = tuple(self._key())
                self._skip(newlines=False)
                if self._peek() == "]":
                    self._advance()
                # a sub-table of an array of tables belongs to its last element
                resolved: list[str | int] = []
                for k, part in enumerate(header):
                    resolved.append(part)
                    count = self.aot_count.get(header[:k + 1])
                    if count is not None and k < len(header) - 1:
                        resolved.append(count - 1)
                table = tuple(resolved)
                for k in range(1, len(table) + 1):
                    self._record(table[:k], line)
            else:
                self._keyval(table)


def scan_positions(text: str) -> dict[Loc, int]:
    """The 1-based line on which each table, key and array element of ``text`` starts.

    Parameters
    ----------
    text : str
        TOML text that ``tomllib`` accepts (on other text the result is
        best-effort and the scan still ends).

    Returns
    -------
    dict
        Maps a key path such as ``("hsl", "red", "hue")`` or
        ``("tone_curve", "rgb", "points", 2)`` to its line; a table that is
        only implied by a dotted header or key gets the line of its first
        mention.
    """
    return _Scanner(text).run()


def line_of(positions: dict[Loc, int], loc: Sequence[str | int]) -> int | None:
    """The line of the most specific prefix of ``loc`` found in ``positions``."""
    for n in range(len(loc), 0, -1):
        line = positions.get(tuple(loc[:n]))
        if line is not None:
            return line
    return None


def toml_error_line(exc: Exception, text: str) -> int | None:
    """The line that a ``tomllib.TOMLDecodeError`` message points at, if any."""
    m = re.search(r"at line (\d+)", str(exc))
    if m:
        return int(m.group(1))
    if "end of document" in str(exc):
        return max(1, text.count("\n") + (0 if text.endswith("\n") else 1))
    return None


# --------------------------------------------------------------------------- models


def _unwrap(annotation: Any) -> list[Any]:
    """The alternatives of a union annotation (``X | None`` gives ``[X]``)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return [a for a in typing.get_args(annotation) if a is not type(None)]
    return [annotation]


def _model_of(annotation: Any) -> type[BaseModel] | None:
    for a in _unwrap(annotation):
        if isinstance(a, type) and issubclass(a, BaseModel):
            return a
    return None


def _fields_by_key(model: type[BaseModel]) -> dict[str, FieldInfo]:
    """A model's fields by the name used in TOML (the alias when there is one)."""
    return {(f.alias or name): f for name, f in model.model_fields.items()}


def field_at(model: type[BaseModel],
             loc: Sequence[str | int]) -> tuple[FieldInfo | None, type[BaseModel]]:
    """The field that ``loc`` names in ``model`` and the model that owns it.

    Walks nested section models; stops at the first element that is not a
    field of a model (an array index, an unknown key). Returns ``(None,
    model)`` when ``loc`` does not start with a known field.
    """
    owner = model
    found: FieldInfo | None = None
    for part in loc:
        if not isinstance(part, str):
            break
        f = _fields_by_key(owner).get(part)
        if f is None:
            return None, owner
        found = f
        sub = _model_of(f.annotation)
        if sub is None:
            break
        owner = sub
    return found, owner


def _range_of(f: FieldInfo | None) -> tuple[Any, Any]:
    lo = hi = None
    for m in (f.metadata if f is not None else []):
        lo = getattr(m, "ge", lo) if getattr(m, "ge", None) is not None else lo
        hi = getattr(m, "le", hi) if getattr(m, "le", None) is not None else hi
    return lo, hi


def _unit_of(f: FieldInfo | None) -> str:
    extra = f.json_schema_extra if f is not None else None
    unit = extra.get("unit") if isinstance(extra, dict) else None
    return str(unit) if unit else ""


def _choices_of(f: FieldInfo | None) -> list[Any]:
    if f is None:
        return []
    for a in _unwrap(f.annotation):
        if typing.get_origin(a) is Literal:
            return list(typing.get_args(a))
    return []


def _expected(f: FieldInfo | None) -> str:
    """A phrase for the type a field takes: "a number", "a table" ..."""
    if f is None:
        return "a value of another type"
    words: list[str] = []
    for a in _unwrap(f.annotation):
        if _model_of(a) is not None:
            words.append("a table")
        elif a is float:
            words.append("a number")
        elif a is int:
            words.append("an integer")
        elif a is str:
            words.append("a string")
        elif a is bool:
            words.append("true or false")
        elif typing.get_origin(a) is Literal:
            words.append("one of " + ", ".join(json.dumps(c) for c in typing.get_args(a)))
        elif typing.get_origin(a) in (tuple, list):
            words.append("an array")
        else:
            words.append(str(a))
    return " or ".join(words)


def _fmt_range(lo: Any, hi: Any) -> str:
    def num(v: Any) -> str:
        return f"{v:g}" if isinstance(v, float) else str(v)

    if lo is not None and hi is not None:
        return f"{num(lo)}..{num(hi)}"
    if lo is not None:
        return f">= {num(lo)}"
    return f"<= {num(hi)}"


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    text = json.dumps(value) if isinstance(value, str | int | float | bool) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return f"a TOML {type(value).__name__}"


def dotted(loc: Sequence[str | int]) -> str:
    """``("hsl", "red", "hue")`` as ``hsl.red.hue``; array indices as ``[2]``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _section_of(loc: Sequence[str | int]) -> str:
    return f"[{dotted(loc)}]" if loc else "the top level"


def _did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return match[0] if match else None


def _home_of(model: type[BaseModel], key: str, prefix: Loc = ()) -> str | None:
    """The first section (dotted) in which ``key`` is a field, searching depth-first."""
    for name, f in _fields_by_key(model).items():
        sub = _model_of(f.annotation)
        if sub is None:
            continue
        if key in _fields_by_key(sub):
            return dotted((*prefix, name))
        deeper = _home_of(sub, key, (*prefix, name))
        if deeper:
            return deeper
    return None


def _unknown(model: type[BaseModel], loc: Loc, value: Any, file: str, line: int | None) -> Issue:
    parent, key = loc[:-1], str(loc[-1])
    f_parent, owner = field_at(model, parent)
    if parent and f_parent is None:  # inside an unknown section: report that instead
        owner = model
    known = list(_fields_by_key(owner))
    guess = _did_you_mean(key, known)
    if isinstance(value, dict):
        message = f"unknown section [{dotted(loc)}]"
        if guess:
            hint = f"did you mean [{dotted((*parent, guess))}]?"
        else:
            tables = [k for k, f in _fields_by_key(owner).items() if _model_of(f.annotation)]
            hint = ("known sections here: " + ", ".join(f"[{dotted((*parent, t))}]" for t in tables)
                    if tables else f"[{dotted(parent)}] has no sub-sections")
        return Issue(file, line, "PP101", message, hint)
    message = f"unknown key '{key}' in {_section_of(parent)}"
    if guess:
        hint = f"did you mean '{guess}'?"
    elif not parent:
        home = _home_of(model, key)
        hint = (f"'{key}' belongs in [{home}]" if home
                else "top-level keys must be inside a section such as [tone]")
    else:
        hint = "known keys: " + ", ".join(known)
    return Issue(file, line, "PP102", message, hint)


_MISSING = object()


def _lookup(raw: Any, loc: Loc) -> Any:
    """The value at ``loc`` in a TOML table, or ``_MISSING``."""
    for part in loc:
        if isinstance(raw, dict) and isinstance(part, str) and part in raw:
            raw = raw[part]
        elif isinstance(raw, list) and isinstance(part, int) and 0 <= part < len(raw):
            raw = raw[part]
        else:
            return _MISSING
    return raw


def issues_from_error(model: type[BaseModel], exc: ValidationError, file: str,
                      positions: dict[Loc, int] | None = None,
                      raw: dict[str, Any] | None = None) -> list[Issue]:
    """Turn each error of a pydantic validation of ``model`` into an :class:`Issue`.

    Parameters
    ----------
    model : pydantic model class
        The model that was validated (``DevelopPreset``).
    exc : ValidationError
        Its errors, with locations in TOML names (aliases).
    file : str
        The file named in each issue.
    positions : dict or None
        :func:`scan_positions` of the file's text (``None``: no lines).
    raw : dict or None
        The TOML table that was validated, to show values as TOML typed them
        (dates and times, which go to the model as strings).
    """
    pos = positions or {}
    out: list[Issue] = []
    for err in exc.errors():
        loc: Loc = tuple(err["loc"])
        kind = err["type"]
        value = err.get("input")
        original = _lookup(raw, loc) if raw is not None else _MISSING
        if original is not _MISSING:
            value = original
        ctx = err.get("ctx") or {}
        line = line_of(pos, loc)
        f, _owner = field_at(model, loc)
        exact = f is not None and len([p for p in loc if isinstance(p, str)]) == len(loc)
        name = dotted(loc)
        if kind == "extra_forbidden":
            out.append(_unknown(model, loc, value, file, line))
        elif kind == "curve_points":
            index, x, prev_x = ctx.get("index"), ctx.get("x"), ctx.get("prev_x")
            if isinstance(index, int):
                out.append(order_issue(file, line_of(pos, (*loc, index)) or line, loc, index,
                                       x, prev_x))
        elif kind in ("too_short", "too_long") and "points" in loc:
            if loc[-1] == "points":
                n = len(value) if isinstance(value, list | tuple) else ctx.get("actual_length")
                if isinstance(n, int) and 2 <= n <= 32:
                    continue  # a point inside is malformed and reported on its own
                out.append(Issue(file, line, "PP204", f"{name} has {n} point(s)",
                                 "a curve has 2 to 32 points"))
            else:
                out.append(Issue(file, line, "PP204", f"{name} is not an [x, y] pair",
                                 "write each point as [x, y], e.g. [0.5, 0.55]"))
        elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than",
                      "finite_number"):
            lo, hi = _range_of(f) if exact else (ctx.get("ge"), ctx.get("le"))
            if lo is None and hi is None:
                lo, hi = ctx.get("ge"), ctx.get("le")
            unit = _unit_of(f) if exact else ""
            what = "is not a finite number" if kind == "finite_number" else "is out of range"
            rng = _fmt_range(lo, hi) if (lo is not None or hi is not None) else ""
            hint = (f"allowed range {rng}" + (f" ({unit})" if unit else "")) if rng else ""
            if "points" in loc and not exact:
                hint = "x and y of each point are in 0..1"
            out.append(Issue(file, line, "PP202", f"{name} = {_show(value)} {what}", hint))
        elif kind in ("literal_error", "enum"):
            choices = _choices_of(f)
            hint = "allowed: " + ", ".join(json.dumps(c) for c in choices) if choices else ""
            guess = _did_you_mean(str(value), [str(c) for c in choices])
            if guess:
                hint = f"did you mean {json.dumps(guess)}? ({hint})"
            out.append(Issue(file, line, "PP203",
                             f"{name} = {_show(value)} is not an allowed value", hint))
        elif kind == "missing":
            out.append(Issue(file, line, "PP201", f"{name} is missing", ""))
        else:
            expected = _expected(f) if exact else err["msg"].removeprefix("Input should be ")
            target = f"[{name}]" if _model_of(f.annotation if f else None) else name
            hint = f"expected {expected}"
            if isinstance(value, str) and expected in ("a number", "an integer"):
                hint += " (remove the quotes)"
            out.append(Issue(file, line, "PP201",
                             f"{target} has the wrong type: {_kind_of(value)} ({_show(value)})",
                             hint))
    return out


def order_issue(file: str, line: int | None, loc: Sequence[str | int], index: int,
                x: Any, prev_x: Any) -> Issue:
    """PP204 for a curve whose point ``index`` does not come after point ``index - 1``."""
    return Issue(file, line, "PP204",
                 f"{dotted(loc)}: x must be strictly increasing, but point {index} has "
                 f"x = {x:g} after x = {prev_x:g}",
                 "sort the points by x and remove repeated x values")


def curve_order_issues(raw: dict[str, Any], file: str,
                       positions: dict[Loc, int] | None = None) -> list[Issue]:
    """PP204 for every tone-curve channel of a TOML table whose x values do not increase.

    Checked on the raw table so that the order is reported even when some
    other point of the same curve has a wrong type or range (then the
    model's own check does not run).
    """
    pos = positions or {}
    out: list[Issue] = []
    curves = raw.get("tone_curve")
    if not isinstance(curves, dict):
        return out
    for channel, table in curves.items():
        points = table.get("points") if isinstance(table, dict) else None
        if not isinstance(points, list):
            continue
        xs = [p[0] if isinstance(p, list) and p and isinstance(p[0], int | float)
              and not isinstance(p[0], bool) else None for p in points]
        for i in range(1, len(xs)):
            x, prev = xs[i], xs[i - 1]
            if x is not None and prev is not None and not x > prev:
                loc = ("tone_curve", channel, "points")
                out.append(order_issue(file, line_of(pos, (*loc, i)), loc, i, x, prev))
                break
    return out


# --------------------------------------------------------------------------- entry point


def validate_files(paths: Iterable[str | Path]) -> list[Issue]:
    """Check preset files and everything they ``extends``; return every problem found.

    Parameters
    ----------
    paths : iterable of str or Path
        Preset TOML files. A file reached twice (named twice, or extended by
        several) is checked once.

    Returns
    -------
    list of Issue
        Empty when every file is valid; otherwise every problem, in file
        order then line order within a file. Never raises for a bad preset.
    """
    from pixelpipe.workflows.develop.preset import _Loader  # the loader imports this module

    loader = _Loader()
    for p in paths:
        loader.load_top(Path(p))
    return loader.issues
