"""Reader for ``.cube`` LUT files, both dialects.

Format
------
A ``.cube`` file is plain text (UTF-8/ASCII), one item per line:

* blank lines and lines starting with ``#`` are ignored (anywhere);
* ``TITLE "text"``: an optional title;
* ``LUT_1D_SIZE N`` (2..65536) and/or ``LUT_3D_SIZE N`` (2..256);
* domain keywords, which say which input values the first and last table
  entries stand for:

  - IRIDAS/Adobe dialect (Adobe "Cube LUT Specification" 1.0, 2013):
    ``DOMAIN_MIN r g b`` and ``DOMAIN_MAX r g b``, per channel, default
    ``0 0 0`` / ``1 1 1``; the file holds ONE table (1-D or 3-D);
  - DaVinci Resolve dialect (Resolve's "LUT" documentation):
    ``LUT_1D_INPUT_RANGE min max`` and ``LUT_3D_INPUT_RANGE min max``, one
    pair for all three channels; a file may hold a 1-D *shaper* followed by
    a 3-D table, and the 3-D table's input is the shaper's output;

* the table: lines of three numbers ``R G B``. A 1-D table has ``N``
  lines; a 3-D table has ``N**3`` lines with **red changing fastest**, then
  green, then blue (line ``r + N*g + N*N*b`` is the entry for grid point
  ``(r, g, b)``). With both sizes present the 1-D lines come first.

Keywords come before the table. Both dialects are read by one parser: the
keywords do not clash, and mixing ``DOMAIN_*`` with a shaper file is
rejected because it is ambiguous (which table would it describe?).

Layout returned
---------------
:class:`CubeFile` holds float32 arrays: ``lut1d`` of shape ``(N, 3)`` and
``lut3d`` of shape ``(N, N, N, 3)`` **indexed ``[r][g][b]``** (so
``lut3d[i, j, k]`` is the output for red index ``i``, green ``j``, blue
``k``), i.e. the file order transposed; domains are float64 ``(3,)`` arrays.

Errors: any malformed file raises :class:`~pixelpipe.errors.InputError`
``(path, "line N: ...")`` (wrong entry count, non-numeric value, size out of
range, missing size, unknown keyword ...), and an unreadable file raises
:class:`InputError` naming the path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from pixelpipe.errors import InputError

#: Sizes allowed by the Adobe specification.
LUT1D_SIZE_RANGE = (2, 65536)
LUT3D_SIZE_RANGE = (2, 256)

_F32 = npt.NDArray[np.float32]
_F64 = npt.NDArray[np.float64]


def _unit_min() -> _F64:
    return np.zeros(3)


def _unit_max() -> _F64:
    return np.ones(3)


@dataclass(frozen=True)
class CubeFile:
    """The contents of a ``.cube`` file.

    Attributes
    ----------
    title : str or None
        The ``TITLE`` text, without quotes.
    lut1d : float32 (N, 3) or None
        The 1-D table (a shaper when ``lut3d`` is also present).
    lut1d_domain_min, lut1d_domain_max : float64 (3,)
        Input values of the first and last 1-D entries, per channel.
    lut3d : float32 (N, N, N, 3) or None
        The 3-D table indexed ``[r][g][b]``.
    lut3d_domain_min, lut3d_domain_max : float64 (3,)
        Input values of the first and last 3-D grid points, per channel.
    path : str or None
        Where it was read from.
    """

    title: str | None = None
    lut1d: _F32 | None = None
    lut1d_domain_min: _F64 = field(default_factory=_unit_min)
    lut1d_domain_max: _F64 = field(default_factory=_unit_max)
    lut3d: _F32 | None = None
    lut3d_domain_min: _F64 = field(default_factory=_unit_min)
    lut3d_domain_max: _F64 = field(default_factory=_unit_max)
    path: str | None = None

    def __repr__(self) -> str:
        parts = [f"title={self.title!r}"]
        if self.lut1d is not None:
            parts.append(f"lut1d={self.lut1d.shape[0]}")
        if self.lut3d is not None:
            parts.append(f"lut3d={self.lut3d.shape[0]}^3")
        return f"CubeFile({', '.join(parts)})"


def _parse_floats(path: Path, lineno: int, words: list[str], count: int, what: str) -> list[float]:
    if len(words) != count:
        raise InputError(path, f"line {lineno}: {what} needs {count} numbers, got {len(words)}")
    try:
        vals = [float(w) for w in words]
    except ValueError:
        raise InputError(path, f"line {lineno}: {what}: non-numeric value in "
                               f"{' '.join(words)!r}") from None
    if not all(math.isfinite(v) for v in vals):
        raise InputError(path, f"line {lineno}: {what}: values must be finite, got "
                               f"{' '.join(words)!r}")
    return vals


def _parse_size(path: Path, lineno: int, key: str, words: list[str], lo: int, hi: int) -> int:
    if len(words) != 1:
        raise InputError(path, f"line {lineno}: {key} needs one integer, got {len(words)} values")
    try:
        n = int(words[0])
    except ValueError:
        raise InputError(path, f"line {lineno}: {key}: {words[0]!r} is not an integer") from None
    if not lo <= n <= hi:
        raise InputError(path, f"line {lineno}: {key} {n} is out of range {lo}..{hi}")
    return n


def parse_cube(text: str, path: str | Path = "<string>") -> CubeFile:
    """Parse ``.cube`` text (see the module docstring); ``path`` names it in errors."""
    p = Path(path)
    title: str | None = None
    size1: int | None = None
    size3: int | None = None
    dom_min: list[float] | None = None
    dom_max: list[float] | None = None
    range1: list[float] | None = None
    range3: list[float] | None = None
    seen: dict[str, int] = {}
    rows: list[list[float]] = []
    first_row_line = 0
    last_row_line = 0

    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if lineno == 1:
            line = line.lstrip("\ufeff")
        if not line or line.startswith("#"):
            continue
        head = line.split(None, 1)[0]
        key = head.upper()
        if key[0].isalpha() and not _is_number(head):
            if rows:
                raise InputError(p, f"line {lineno}: keyword {head} after the table data "
                                    f"(keywords must come first)")
            if key in seen:
                raise InputError(p, f"line {lineno}: {key} repeated (first on line {seen[key]})")
            seen[key] = lineno
            words = line.split()[1:]
            if key == "TITLE":
                rest = line[len(head):].strip()
                if len(rest) >= 2 and rest[0] == rest[-1] == '"':
                    rest = rest[1:-1]
                title = rest
            elif key == "LUT_1D_SIZE":
                size1 = _parse_size(p, lineno, key, words, *LUT1D_SIZE_RANGE)
            elif key == "LUT_3D_SIZE":
                size3 = _parse_size(p, lineno, key, words, *LUT3D_SIZE_RANGE)
            elif key == "DOMAIN_MIN":
                dom_min = _parse_floats(p, lineno, words, 3, key)
            elif key == "DOMAIN_MAX":
                dom_max = _parse_floats(p, lineno, words, 3, key)
            elif key == "LUT_1D_INPUT_RANGE":
                range1 = _parse_floats(p, lineno, words, 2, key)
                _check_range(p, lineno, key, [range1[0]] * 3, [range1[1]] * 3)
            elif key == "LUT_3D_INPUT_RANGE":
                range3 = _parse_floats(p, lineno, words, 2, key)
                _check_range(p, lineno, key, [range3[0]] * 3, [range3[1]] * 3)
            else:
                raise InputError(p, f"line {lineno}: unknown keyword {head!r}")
            continue
        if not rows:
            first_row_line = lineno
        last_row_line = lineno
        rows.append(_parse_floats(p, lineno, line.split(), 3, "a table entry"))

    end = last_row_line or (text.count("\n") + 1)
    if size1 is None and size3 is None:
        raise InputError(p, f"line {first_row_line or end}: missing LUT_1D_SIZE or LUT_3D_SIZE")
    if range1 is not None and size1 is None:
        raise InputError(p, f"line {seen['LUT_1D_INPUT_RANGE']}: LUT_1D_INPUT_RANGE "
                            f"without LUT_1D_SIZE")
    if range3 is not None and size3 is None:
        raise InputError(p, f"line {seen['LUT_3D_INPUT_RANGE']}: LUT_3D_INPUT_RANGE "
                            f"without LUT_3D_SIZE")
    has_domain = dom_min is not None or dom_max is not None
    if has_domain and size1 is not None and size3 is not None:
        k = "DOMAIN_MIN" if "DOMAIN_MIN" in seen else "DOMAIN_MAX"
        raise InputError(p, f"line {seen[k]}: {k} is ambiguous in a file with both a 1-D "
                            f"shaper and a 3-D table; use LUT_1D_INPUT_RANGE / "
                            f"LUT_3D_INPUT_RANGE")
    dmin = dom_min if dom_min is not None else [0.0, 0.0, 0.0]
    dmax = dom_max if dom_max is not None else [1.0, 1.0, 1.0]
    if has_domain:
        k = "DOMAIN_MAX" if "DOMAIN_MAX" in seen else "DOMAIN_MIN"
        _check_range(p, seen[k], "DOMAIN_MIN/DOMAIN_MAX", dmin, dmax)

    n1 = size1 or 0
    n3 = (size3 or 0) ** 3
    if len(rows) != n1 + n3:
        expected = " + ".join(
            s for s in (f"{n1} (1-D)" if size1 else "", f"{n3} (3-D)" if size3 else "") if s
        )
        raise InputError(p, f"line {end}: expected {expected} table entries, found {len(rows)}")

    table = np.asarray(rows, np.float64).astype(np.float32).reshape(-1, 3)
    lut1d = table[:n1].copy() if size1 else None
    lut3d = None
    if size3:
        n = size3
        # file order: red fastest -> reshape gives [b][g][r]; transpose to [r][g][b]
        lut3d = np.ascontiguousarray(table[n1:].reshape(n, n, n, 3).transpose(2, 1, 0, 3))

    def dom(r: list[float] | None, single: bool) -> tuple[_F64, _F64]:
        if r is not None:
            return np.full(3, r[0]), np.full(3, r[1])
        if single:
            return np.asarray(dmin, np.float64), np.asarray(dmax, np.float64)
        return _unit_min(), _unit_max()

    d1 = dom(range1, bool(size1) and not size3)
    d3 = dom(range3, bool(size3) and not size1)
    return CubeFile(title=title, lut1d=lut1d, lut1d_domain_min=d1[0], lut1d_domain_max=d1[1],
                    lut3d=lut3d, lut3d_domain_min=d3[0], lut3d_domain_max=d3[1], path=str(p))


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


def _check_range(p: Path, lineno: int, key: str, lo: list[float], hi: list[float]) -> None:
    if not all(a < b for a, b in zip(lo, hi, strict=True)):
        raise InputError(p, f"line {lineno}: {key}: minimum must be below maximum "
                            f"(got {lo} .. {hi})")


def read_cube(path: str | Path) -> CubeFile:
    """Read a ``.cube`` file (IRIDAS/Adobe or Resolve dialect).

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    CubeFile
        Tables as float32, ``lut3d`` indexed ``[r][g][b]``.

    Raises
    ------
    InputError
        The file cannot be read, is not text, or is malformed (the message
        gives the line number).
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError(p, "LUT file not found") from None
    except OSError as exc:
        raise InputError(p, f"cannot read LUT file: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(p, f"line {line}: not a text .cube file (invalid UTF-8)") from None
    return parse_cube(text, p)
