"""3x3 colour matrix with offset on RGB.

Algorithm
---------
``out = M @ rgb + offset`` per pixel: ``out_i = (M[i,0]*r + M[i,1]*g) +
M[i,2]*b + offset_i`` for i in R, G, B; alpha untouched. This is the affine
map used for colour-space conversion (e.g. linear Rec.709 -> Rec.2020 or
-> ACES AP1), chromatic adaptation matrices (Bradford, CAT02, computed
elsewhere and pasted here), channel mixing, and camera-to-XYZ matrices. It is
OpenColorIO's ``MatrixTransform`` restricted to RGB (its 4x4 matrix with
the alpha row and column of the identity, and an offset with alpha 0).

The matrix and offset are rounded to float32 once on the host, and the sum is
evaluated in float32 on both backends (the GPU may fuse multiply-adds, a
difference of about one float32 rounding). NaN and Inf follow IEEE
arithmetic in the full 3x3 sum: a NaN in any input channel makes every
output channel NaN, even where its coefficient is 0 (``0 * nan = nan``), and
an infinity gives Inf or NaN (``0 * inf``, ``inf - inf``). OpenColorIO's
optimised processor uses a scale-only path for diagonal matrices, which does
not spread NaN across channels; pixelpipe always evaluates the full sum, so
the result does not depend on the values of the coefficients.

Source: linear algebra; the matrix layout (rows of the 3x3, offset added
after) is that of OpenColorIO's MatrixTransform and of the SMPTE ST 2065-1 /
ITU-R BT.2087 conversion matrices.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

import numpy as np
from pydantic import Field, field_validator

from pixelpipe.ops.base import Array, PointwiseOp, array_namespace, load_wgsl, pack_params

Finite = Annotated[float, Field(allow_inf_nan=False)]
Row = tuple[Finite, Finite, Finite]

IDENTITY: tuple[Row, Row, Row] = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))


class Matrix(PointwiseOp):
    """Affine colour transform ``out = matrix @ rgb + offset`` on RGB.

    Parameters
    ----------
    matrix : 3 rows of 3 floats (or a float array of shape (3, 3)), default identity
        Row ``i`` gives output channel ``i`` (R, G, B) as a combination of the
        input R, G, B. Finite values, unitless. A flat list of 9 numbers is
        read row by row (handy in ``--op`` strings).
    offset : float or 3 floats, default (0, 0, 0)
        Added after the matrix, per output channel (R, G, B); a scalar is
        broadcast.

    Input/output: float32 (H, W, 4); alpha untouched; NaN/Inf follow IEEE
    arithmetic (see the module docstring). A matrix that is not 3x3 or holds
    non-finite values raises :class:`~pixelpipe.errors.ParameterError` via
    :meth:`from_config`.
    """

    op_name: ClassVar[str] = "matrix"

    matrix: tuple[Row, Row, Row] = Field(
        IDENTITY, description="3x3 matrix as 3 rows of 3 (row i = output channel i from "
        "input R, G, B)", json_schema_extra={"unit": "coefficient"})
    offset: tuple[Finite, Finite, Finite] = Field(
        (0.0, 0.0, 0.0), description="added to R, G, B after the matrix; a scalar is "
        "broadcast", json_schema_extra={"unit": "code value"})

    @field_validator("matrix", mode="before")
    @classmethod
    def _array_to_rows(cls, v: Any) -> Any:
        if isinstance(v, np.ndarray):
            v = v.tolist()
        if isinstance(v, (list, tuple)) and len(v) == 9 and \
                all(isinstance(e, (int, float)) for e in v):
            v = [list(v[0:3]), list(v[3:6]), list(v[6:9])]  # flat, row-major (--op strings)
        if isinstance(v, (list, tuple)) and (
                len(v) != 3 or any(not isinstance(r, (list, tuple)) or len(r) != 3 for r in v)):
            shape = [len(r) if isinstance(r, (list, tuple)) else "scalar" for r in v]
            raise ValueError(f"expected 3 rows of 3 numbers, got rows of lengths {shape}")
        return v

    @field_validator("offset", mode="before")
    @classmethod
    def _scalar_to_rgb(cls, v: Any) -> Any:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return (v, v, v)
        if isinstance(v, np.ndarray):
            v = v.tolist()
        if isinstance(v, (list, tuple)) and len(v) != 3:
            raise ValueError(f"expected one number or 3 values (R, G, B), got {len(v)} values")
        return v

    def as_arrays(self) -> tuple[Array, Array]:
        """The float32 matrix (3, 3) and offset (3,) as applied."""
        return np.asarray(self.matrix, np.float32), np.asarray(self.offset, np.float32)

    def reference(self, x: Array) -> Array:
        xp = array_namespace(x)
        m, o = (xp.asarray(a) for a in self.as_arrays())
        r, g, b = x[..., 0], x[..., 1], x[..., 2]
        out = x.copy()
        with np.errstate(invalid="ignore", over="ignore"):
            for i in range(3):
                out[..., i] = (m[i, 0] * r + m[i, 1] * g) + m[i, 2] * b + o[i]
        return out

    def wgsl(self) -> str:
        return load_wgsl(__package__, "matrix.wgsl")

    def wgsl_function(self) -> str:
        return "color_matrix"

    def params(self) -> Array:
        m, o = self.as_arrays()
        return pack_params(m[0], m[1], m[2], o)
