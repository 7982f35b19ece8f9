"""3-D lookup table (``lut3d``), trilinear or tetrahedral, with an optional 1-D shaper.

Algorithm
---------
A 3-D LUT samples an RGB -> RGB function on an ``N x N x N`` grid spanning
``domain_min .. domain_max`` per channel; ``table[i, j, k]`` is the output
at red index ``i``, green ``j``, blue ``k``. For input ``(r, g, b)`` each
channel gives a cell index and a fraction exactly as in the 1-D case::

    t = clamp((x - domain_min) * (N - 1) / (domain_max - domain_min), 0, N - 1)
    i = min(floor(t), N - 2);  f = t - i

(input outside the domain is clamped to it; NaN counts as ``domain_min``,
+-Inf as the nearest end; the output is always finite). Writing ``Cxyz``
for the corner ``table[i+x, j+y, k+z]`` and ``fr, fg, fb`` for the
fractions:

* ``trilinear``: the tensor product of three linear interpolations, eight
  corners weighted by ``(1-fr or fr)(1-fg or fg)(1-fb or fb)``;
* ``tetrahedral``: the cube is split along its main diagonal ``C000-C111``
  into six tetrahedra, picked by the order of ``fr, fg, fb``; the result
  interpolates the four corners of that tetrahedron, e.g. for
  ``fr > fg > fb``::

      out = (1-fr) C000 + (fr-fg) C100 + (fg-fb) C110 + fb C111

  and likewise for the five other orders. It uses 4 corners instead of 8,
  keeps the neutral axis exactly on the table's grey entries, and is what
  OpenColorIO (``INTERP_TETRAHEDRAL``) and DaVinci Resolve offer as their
  best 3-D interpolation.

Sources: Kasson, Nin, Plouffe, "An analysis of selected computer interchange
color spaces", ACM Transactions on Graphics 11(4), 1992, and Kasson, Plouffe,
Nin, "Tetrahedral interpolation technique for color space conversion",
Proc. SPIE 1909, 1993 (the six-tetrahedra split); the Adobe "Cube LUT
Specification" 1.0 (grid sampling, domain); OpenColorIO 2 ``Lut3DOpCPU``
for the clamp and NaN handling.

Shaper: a Resolve ``.cube`` file may hold a 1-D table followed by the 3-D
one. :meth:`LUT3D.from_cube` keeps it as ``shaper`` (float32 (M, 3) with its
own domain): each channel first goes through the shaper (linear 1-D lookup,
clamped to the shaper's domain, see :mod:`pixelpipe.ops.color.lut1d`) and
the shaper's output is the 3-D table's input, as OpenColorIO's
``FileTransform`` applies such a file.

The reference computes in float64 and rounds to float32; the WebGPU kernel
computes in float32. They agree to 1e-5 relative (``tests/ops/test_luts.py``;
measured worst cases are a few 1e-7 on smooth tables and ~2e-6 on random
tables, from the float32 fractional index).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from pixelpipe.errors import ParameterError
from pixelpipe.ops.base import Array, PointwiseOp, array_namespace, load_wgsl, pack_params
from pixelpipe.ops.color.lut1d import (
    LUT1D_SIZES,
    TableArray,
    Triple,
    apply_lut1d,
    as_table,
    check_domain,
    lut_index,
    resolve_lut_path,
)

#: Grid sizes accepted for a 3-D LUT (129^3 entries is the largest in common use).
LUT3D_SIZES = (2, 129)

Interpolation = Literal["trilinear", "tetrahedral"]


def apply_lut3d(xp: Any, rgb: Any, table: Any, lo: Any, hi: Any, interpolation: str) -> Any:
    """3-D lookup of float64 ``rgb`` (..., 3) in ``table`` (N, N, N, 3) indexed [r][g][b]."""
    n = table.shape[0]
    idx, frac = lut_index(xp, rgb, lo, hi, n)
    t = xp.asarray(table, xp.float64)
    i, j, k = idx[..., 0], idx[..., 1], idx[..., 2]
    fr, fg, fb = frac[..., 0:1], frac[..., 1:2], frac[..., 2:3]

    def c(x: int, y: int, z: int) -> Any:
        return t[i + x, j + y, k + z]

    if interpolation == "trilinear":
        c00 = c(0, 0, 0) + fr * (c(1, 0, 0) - c(0, 0, 0))
        c01 = c(0, 0, 1) + fr * (c(1, 0, 1) - c(0, 0, 1))
        c10 = c(0, 1, 0) + fr * (c(1, 1, 0) - c(0, 1, 0))
        c11 = c(0, 1, 1) + fr * (c(1, 1, 1) - c(0, 1, 1))
        c0 = c00 + fg * (c10 - c00)
        c1 = c01 + fg * (c11 - c01)
        return c0 + fb * (c1 - c0)

    c000, c111 = c(0, 0, 0), c(1, 1, 1)
    # the six tetrahedra of the split along the C000-C111 diagonal
    cases = [
        (fr > fg) & (fg > fb),   # r > g > b
        (fr > fg) & (fr > fb),   # r > b >= g
        (fr > fg),               # b >= r > g
        (fb > fg),               # b > g >= r
        (fb > fr),               # g >= b > r
    ]
    values = [
        (1 - fr) * c000 + (fr - fg) * c(1, 0, 0) + (fg - fb) * c(1, 1, 0) + fb * c111,
        (1 - fr) * c000 + (fr - fb) * c(1, 0, 0) + (fb - fg) * c(1, 0, 1) + fg * c111,
        (1 - fb) * c000 + (fb - fr) * c(0, 0, 1) + (fr - fg) * c(1, 0, 1) + fg * c111,
        (1 - fb) * c000 + (fb - fg) * c(0, 0, 1) + (fg - fr) * c(0, 1, 1) + fr * c111,
        (1 - fg) * c000 + (fg - fb) * c(0, 1, 0) + (fb - fr) * c(0, 1, 1) + fr * c111,
    ]
    # otherwise g >= r >= b
    out = (1 - fg) * c000 + (fg - fr) * c(0, 1, 0) + (fr - fb) * c(1, 1, 0) + fb * c111
    for cond, val in zip(reversed(cases), reversed(values), strict=True):
        out = xp.where(cond, val, out)
    return out


class LUT3D(PointwiseOp):
    """3-D LUT with trilinear or tetrahedral interpolation (see the module docstring).

    Parameters
    ----------
    table : float32 (N, N, N, 3), N in 2..129
        Output R, G, B at each grid point, indexed ``[r][g][b]``.
    interpolation : {"tetrahedral", "trilinear"}, default "tetrahedral"
    domain_min, domain_max : (float, float, float), default (0,0,0) / (1,1,1)
        Input value of the first and last grid point per channel (of the
        3-D table's input, i.e. the shaper's output when there is a shaper).
    shaper : float32 (M, 3) or None, M in 2..65536
        Optional 1-D table applied per channel before the 3-D lookup.
    shaper_domain_min, shaper_domain_max : (float, float, float)
        The shaper's domain.
    path : str or None
        The file the tables came from (display only).

    From TOML / ``--op``: ``path = "film.cube"`` (relative to the preset's
    folder) and optionally ``interpolation``. Input/output float32
    (H, W, 4); alpha untouched; output always finite.

    Raises :class:`~pixelpipe.errors.ParameterError` (through
    :meth:`from_config`) for a bad table, size or domain, and
    :class:`~pixelpipe.errors.InputError` for a missing or malformed file.
    """

    op_name: ClassVar[str] = "lut3d"

    table: TableArray = Field(
        repr=False, description="3-D table, float32 (N, N, N, 3) indexed [r][g][b], N in 2..129",
        json_schema_extra={"unit": "output value"})
    interpolation: Interpolation = Field(
        "tetrahedral", description="interpolation between grid points: tetrahedral (6 "
                                   "tetrahedra, as OCIO/Resolve) or trilinear")
    domain_min: Triple = Field(
        (0.0, 0.0, 0.0), description="input value of the first grid point per channel",
        json_schema_extra={"unit": "input value"})
    domain_max: Triple = Field(
        (1.0, 1.0, 1.0), description="input value of the last grid point per channel",
        json_schema_extra={"unit": "input value"})
    shaper: TableArray | None = Field(
        None, repr=False, description="optional 1-D shaper applied first, float32 (M, 3)",
        json_schema_extra={"unit": "output value"})
    shaper_domain_min: Triple = Field(
        (0.0, 0.0, 0.0), description="input value of the shaper's first entry per channel",
        json_schema_extra={"unit": "input value"})
    shaper_domain_max: Triple = Field(
        (1.0, 1.0, 1.0), description="input value of the shaper's last entry per channel",
        json_schema_extra={"unit": "input value"})
    path: str | None = Field(None, description="the .cube file the table was read from "
                                               "(in TOML: resolved relative to the preset)")

    @field_validator("table", mode="before")
    @classmethod
    def _table(cls, v: Any) -> np.ndarray:
        arr = as_table(v, 4, "table")
        n = arr.shape[0]
        if arr.shape[:3] != (n, n, n):
            raise ValueError(f"table has shape {arr.shape}; expected (N, N, N, 3)")
        if not LUT3D_SIZES[0] <= n <= LUT3D_SIZES[1]:
            raise ValueError(f"table size {n} is out of range {LUT3D_SIZES[0]}..{LUT3D_SIZES[1]}")
        return arr

    @field_validator("shaper", mode="before")
    @classmethod
    def _shaper(cls, v: Any) -> np.ndarray | None:
        if v is None:
            return None
        arr = as_table(v, 2, "shaper")
        if not LUT1D_SIZES[0] <= arr.shape[0] <= LUT1D_SIZES[1]:
            raise ValueError(f"shaper has {arr.shape[0]} entries; expected "
                             f"{LUT1D_SIZES[0]}..{LUT1D_SIZES[1]}")
        return arr

    @model_validator(mode="after")
    def _domain(self) -> LUT3D:
        check_domain(self.domain_min, self.domain_max, "domain")
        check_domain(self.shaper_domain_min, self.shaper_domain_max, "shaper domain")
        return self

    def _key(self) -> tuple[Any, ...]:
        sh = None if self.shaper is None else self.shaper.tobytes()
        return (self.table.tobytes(), self.interpolation, self.domain_min, self.domain_max,
                sh, self.shaper_domain_min, self.shaper_domain_max)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and isinstance(other, LUT3D) and \
            self._key() == other._key()

    def __hash__(self) -> int:
        return hash((self.op_name, *self._key()))

    # --- construction --------------------------------------------------------
    @classmethod
    def from_cube(cls, path: str | Path, interpolation: Interpolation = "tetrahedral") -> LUT3D:
        """The 3-D table of a ``.cube`` file, with its 1-D shaper when it has one.

        The result applies the file as OpenColorIO's ``FileTransform`` does
        (shaper, then 3-D table, each clamped to its domain).

        Raises :class:`InputError` for an unreadable/malformed file,
        :class:`ParameterError` when the file has no 3-D table (use
        :class:`~pixelpipe.ops.color.lut1d.LUT1D`) or a grid above 129.
        """
        from pixelpipe.io.cube import read_cube

        cube = read_cube(path)
        if cube.lut3d is None:
            raise ParameterError(f"op 'lut3d': {path}: the file holds no 3-D table; "
                                 f"use the 'lut1d' op")
        n = cube.lut3d.shape[0]
        if n > LUT3D_SIZES[1]:
            raise ParameterError(f"op 'lut3d': {path}: 3-D size {n} is above the supported "
                                 f"maximum {LUT3D_SIZES[1]}")
        kw: dict[str, Any] = {}
        if cube.lut1d is not None:
            kw = {"shaper": cube.lut1d, "shaper_domain_min": tuple(cube.lut1d_domain_min),
                  "shaper_domain_max": tuple(cube.lut1d_domain_max)}
        return cls(table=cube.lut3d, interpolation=interpolation,
                   domain_min=tuple(cube.lut3d_domain_min),
                   domain_max=tuple(cube.lut3d_domain_max), path=str(path), **kw)

    @classmethod
    def from_config(cls, config: dict[str, Any], base_dir: Path | None = None) -> LUT3D:
        """Build from TOML: ``path`` (a .cube file) + ``interpolation``, or inline ``table``."""
        config = dict(config)
        if "path" in config and "table" not in config:
            p = resolve_lut_path(cls.op_name, config.pop("path"), base_dir)
            interp = config.pop("interpolation", "tetrahedral")
            if config:
                raise ParameterError(f"op {cls.op_name!r}: unknown parameter(s) with path: "
                                     f"{', '.join(sorted(config))}")
            if interp not in ("trilinear", "tetrahedral"):
                raise ParameterError(f"op {cls.op_name!r}: interpolation: expected "
                                     f"'trilinear' or 'tetrahedral', got {interp!r}")
            return cls.from_cube(p, interpolation=interp)
        op = super().from_config(config, base_dir)
        assert isinstance(op, LUT3D)
        return op

    # --- implementations -----------------------------------------------------
    def reference(self, x: Array) -> Array:
        xp = array_namespace(x)
        out = x.copy()
        rgb = xp.asarray(x[..., :3], xp.float64)
        if self.shaper is not None:
            shaped = apply_lut1d(xp, rgb, xp.asarray(self.shaper),
                                 self.shaper_domain_min, self.shaper_domain_max)
            # the shaper's output is float32 on every backend (as between two ops)
            rgb = xp.asarray(shaped.astype(xp.float32), xp.float64)
        out[..., :3] = apply_lut3d(xp, rgb, xp.asarray(self.table), self.domain_min,
                                   self.domain_max, self.interpolation)
        return out

    def wgsl(self) -> str:
        return load_wgsl(__package__, "lut3d.wgsl")

    def params(self) -> Array:
        n = self.table.shape[0]
        lo = np.asarray(self.domain_min, np.float64)
        scale = (n - 1) / (np.asarray(self.domain_max, np.float64) - lo)
        m = 0 if self.shaper is None else self.shaper.shape[0]
        slo = np.asarray(self.shaper_domain_min, np.float64)
        sscale = (max(m, 2) - 1) / (np.asarray(self.shaper_domain_max, np.float64) - slo)
        head = pack_params((*lo, n), (*scale, 1.0 if self.interpolation == "tetrahedral" else 0.0),
                           (*slo, m), (*sscale, 0.0))
        rows = np.zeros((m + n ** 3, 4), np.float32)
        if self.shaper is not None:
            rows[:m, :3] = self.shaper
        rows[m:, :3] = self.table.reshape(-1, 3)
        return np.concatenate([head, rows])
