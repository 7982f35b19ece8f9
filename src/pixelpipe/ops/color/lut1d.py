"""Per-channel 1-D lookup table (``lut1d``).

Algorithm
---------
A 1-D LUT of ``N`` entries ``T[0..N-1]`` (one column per channel) samples a
curve at ``N`` evenly spaced inputs from ``domain_min`` to ``domain_max``.
For channel value ``x``::

    t  = (x - domain_min) * (N - 1) / (domain_max - domain_min)   # fractional index
    t  = clamp(t, 0, N - 1)          # out-of-domain input -> nearest end entry
    i  = min(floor(t), N - 2);  f = t - i
    y  = T[i] + f * (T[i + 1] - T[i])                               # linear interpolation

R, G and B each use their own column (and their own domain); alpha is
untouched. Input outside the domain is clamped to it, as OpenColorIO's
``Lut1DOp`` and DaVinci Resolve do (the table says nothing about values it
does not cover; extrapolating a sampled curve is unsafe). NaN is looked up
as the domain minimum (entry 0), +Inf as the maximum and -Inf as the
minimum, again as OpenColorIO does, so the output is always finite.

Source: the Adobe "Cube LUT Specification" 1.0 (2013), which defines the
sampling and linear interpolation of 1-D tables; the clamp follows
OpenColorIO 2 (``Lut1DOpCPU``).

The reference computes in float64 and rounds to float32; the WebGPU kernel
computes in float32 with the table and domain packed into its parameter
rows. They agree to 1e-5 relative (``tests/ops/test_luts.py``); the residue
is the float32 rounding of the fractional index ``t`` (about ``N * 6e-8``
entries) times the table's step between neighbouring entries.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar

import numpy as np
from pydantic import Field, WithJsonSchema, field_validator, model_validator

from pixelpipe.errors import ParameterError
from pixelpipe.ops.base import Array, PointwiseOp, array_namespace, load_wgsl, pack_params

#: Table sizes accepted for a 1-D LUT (the .cube specification's range).
LUT1D_SIZES = (2, 65536)

Triple = tuple[float, float, float]

#: A float32 table held as a NumPy array; in JSON Schema a nested list of numbers.
TableArray = Annotated[
    np.ndarray,
    WithJsonSchema({"type": "array", "items": {"type": "array", "items": {"type": "number"}}}),
]


def as_table(value: Any, ndim: int, what: str) -> np.ndarray:
    """``value`` (array or nested lists) as a read-only C-contiguous float32 array.

    Raises ``ValueError`` (reported by pydantic) for a wrong shape or non-finite values.
    """
    try:
        arr = np.array(value, dtype=np.float32, copy=True, order="C")
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be an array of numbers") from None
    if arr.ndim != ndim or arr.shape[-1] != 3:
        raise ValueError(f"{what} has shape {arr.shape}; expected {ndim} axes ending in 3")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what} holds NaN or Inf entries")
    arr.setflags(write=False)
    return arr


def check_domain(lo: Triple, hi: Triple, what: str) -> None:
    """``ValueError`` unless ``lo[c] < hi[c]`` for every channel and all are finite."""
    for c in range(3):
        if not (np.isfinite(lo[c]) and np.isfinite(hi[c]) and lo[c] < hi[c]):
            raise ValueError(f"{what}: min {lo} must be below max {hi} on every channel")


def lut_index(xp: Any, x: Any, lo: Any, hi: Any, n: int) -> tuple[Any, Any]:
    """Integer index ``i`` (0..n-2) and weight ``f`` (0..1) of ``x`` in an ``n``-point grid.

    ``x`` float64; NaN counts as ``lo``; values outside ``[lo, hi]`` are clamped.
    """
    scale = (n - 1) / (xp.asarray(hi, xp.float64) - xp.asarray(lo, xp.float64))
    t = (x - xp.asarray(lo, xp.float64)) * scale
    t = xp.where(xp.isnan(t), 0.0, xp.clip(t, 0.0, n - 1))
    i = xp.minimum(xp.floor(t), n - 2)
    return i.astype(xp.int64), t - i


def apply_lut1d(xp: Any, rgb: Any, table: Any, lo: Any, hi: Any) -> Any:
    """Per-channel linear 1-D lookup of float64 ``rgb`` (..., 3) in ``table`` (N, 3)."""
    n = table.shape[0]
    i, f = lut_index(xp, rgb, lo, hi, n)
    t = xp.asarray(table, xp.float64)
    cols = xp.arange(3)
    a = t[i, cols]
    b = t[i + 1, cols]
    return a + f * (b - a)


def resolve_lut_path(op_name: str, value: Any, base_dir: Path | None) -> Path:
    """``value`` as a path, relative ones resolved against ``base_dir``."""
    if not isinstance(value, str | Path) or not str(value):
        raise ParameterError(f"op {op_name!r}: path: expected a file name, got {value!r}")
    p = Path(value).expanduser()
    if not p.is_absolute() and base_dir is not None:
        p = Path(base_dir) / p
    return p


class LUT1D(PointwiseOp):
    """Per-channel 1-D LUT with linear interpolation (see the module docstring).

    Parameters
    ----------
    table : float32 (N, 3), N in 2..65536
        Output R, G, B for ``N`` evenly spaced inputs over the domain.
    domain_min, domain_max : (float, float, float), default (0,0,0) / (1,1,1)
        Input value of the first and last entry, per channel; min < max.
        Input outside is clamped to the domain.
    path : str or None
        The file the table came from (display only).

    From TOML / ``--op``: ``path = "curve.cube"`` (relative to the preset's
    folder) loads a 1-D ``.cube`` file. Input/output float32 (H, W, 4);
    alpha untouched; NaN -> the entry at ``domain_min``.

    Raises :class:`~pixelpipe.errors.ParameterError` (through
    :meth:`from_config`) for a bad table or domain, and
    :class:`~pixelpipe.errors.InputError` for a missing or malformed file.
    """

    op_name: ClassVar[str] = "lut1d"

    table: TableArray = Field(
        repr=False, description="1-D table, float32 (N, 3), N in 2..65536: output RGB per entry",
        json_schema_extra={"unit": "output value"})
    domain_min: Triple = Field(
        (0.0, 0.0, 0.0), description="input value of the first entry per channel (R, G, B)",
        json_schema_extra={"unit": "input value"})
    domain_max: Triple = Field(
        (1.0, 1.0, 1.0), description="input value of the last entry per channel (R, G, B)",
        json_schema_extra={"unit": "input value"})
    path: str | None = Field(None, description="the .cube file the table was read from "
                                               "(in TOML: resolved relative to the preset)")

    @field_validator("table", mode="before")
    @classmethod
    def _table(cls, v: Any) -> np.ndarray:
        arr = as_table(v, 2, "table")
        if not LUT1D_SIZES[0] <= arr.shape[0] <= LUT1D_SIZES[1]:
            raise ValueError(f"table has {arr.shape[0]} entries; expected "
                             f"{LUT1D_SIZES[0]}..{LUT1D_SIZES[1]}")
        return arr

    @model_validator(mode="after")
    def _domain(self) -> LUT1D:
        check_domain(self.domain_min, self.domain_max, "domain")
        return self

    def __eq__(self, other: object) -> bool:
        return (type(other) is type(self) and isinstance(other, LUT1D)
                and np.array_equal(self.table, other.table)
                and self.domain_min == other.domain_min and self.domain_max == other.domain_max)

    def __hash__(self) -> int:
        return hash((self.op_name, self.table.tobytes(), self.domain_min, self.domain_max))

    # --- construction --------------------------------------------------------
    @classmethod
    def from_cube(cls, path: str | Path) -> LUT1D:
        """The 1-D table of a ``.cube`` file.

        Raises :class:`InputError` for an unreadable/malformed file and
        :class:`ParameterError` when the file holds a 3-D table (use
        :class:`~pixelpipe.ops.color.lut3d.LUT3D`).
        """
        from pixelpipe.io.cube import read_cube

        cube = read_cube(path)
        if cube.lut3d is not None or cube.lut1d is None:
            raise ParameterError(f"op 'lut1d': {path}: the file holds a 3-D table; "
                                 f"use the 'lut3d' op")
        return cls(table=cube.lut1d, domain_min=tuple(cube.lut1d_domain_min),
                   domain_max=tuple(cube.lut1d_domain_max), path=str(path))

    @classmethod
    def from_config(cls, config: dict[str, Any], base_dir: Path | None = None) -> LUT1D:
        """Build from TOML: ``path`` (a .cube file) or an inline ``table``."""
        config = dict(config)
        if "path" in config and "table" not in config:
            p = resolve_lut_path(cls.op_name, config.pop("path"), base_dir)
            if config:
                raise ParameterError(f"op {cls.op_name!r}: unknown parameter(s) with path: "
                                     f"{', '.join(sorted(config))}")
            return cls.from_cube(p)
        op = super().from_config(config, base_dir)
        assert isinstance(op, LUT1D)
        return op

    # --- implementations -----------------------------------------------------
    def reference(self, x: Array) -> Array:
        xp = array_namespace(x)
        out = x.copy()
        rgb = xp.asarray(x[..., :3], xp.float64)
        table = xp.asarray(self.table)
        out[..., :3] = apply_lut1d(xp, rgb, table, self.domain_min, self.domain_max)
        return out

    def wgsl(self) -> str:
        return load_wgsl(__package__, "lut1d.wgsl")

    def params(self) -> Array:
        n = self.table.shape[0]
        lo = np.asarray(self.domain_min, np.float64)
        scale = (n - 1) / (np.asarray(self.domain_max, np.float64) - lo)
        head = pack_params((*lo, n), (*scale, 0.0))
        rows = np.zeros((n, 4), np.float32)
        rows[:, :3] = self.table
        return np.concatenate([head, rows])
