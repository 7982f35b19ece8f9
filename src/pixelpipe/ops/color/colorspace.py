"""Linear RGB colour-space conversion (``colorspace``): a 3x3 matrix between RGB spaces.

Algorithm
---------
Every supported space is linear RGB defined by the CIE 1931 xy chromaticities
of its three primaries and of its white point (the defining constants of
each standard, listed in :data:`SPACES`), or CIE XYZ itself. From them:

1. **Normalised primary matrix** (SMPTE RP 177-1993, sec. 3.3): the matrix
   ``NPM`` taking linear RGB to XYZ with the white at Y = 1. Its columns are
   the primaries' XYZ ``(x/y, 1, (1-x-y)/y)`` scaled by
   ``S = P^-1 W`` so that RGB (1, 1, 1) maps to the white's XYZ ``W``.
2. **Chromatic adaptation** where the whites differ (ACES's white
   x = 0.32168, y = 0.33767 against D65): the linearised Bradford transform
   (Lam 1985; as in ICC.1:2010 Annex E and CIE 160:2004 discussions)::

       CAT = M_BFD^-1 diag(M_BFD W_dst / M_BFD W_src) M_BFD

   with the Bradford cone-response matrix ``M_BFD``. Where the whites are
   equal no adaptation is applied (the matrix is exactly NPM_dst^-1 NPM_src).
3. The conversion: ``M = NPM_dst^-1 CAT NPM_src``, computed once in float64
   on the host, rounded to float32, and applied per pixel as
   ``out_i = (M[i,0] r + M[i,1] g) + M[i,2] b`` on both backends (the GPU
   may fuse multiply-adds: about one float32 rounding apart). Alpha is
   untouched; NaN and Inf follow IEEE arithmetic across the full 3x3 sum,
   as in the ``matrix`` op.

The result matches colour-science's ``matrix_RGB_to_RGB(...,
chromatic_adaptation_transform="Bradford")`` on its ``RGB_COLOURSPACES``
definitions (matrices derived from the primaries) to 2e-15 (tested); the
chromaticities are typed here from the standards rather than imported, so
that a plain install does not need colour-science. Values outside the
target gamut come out negative or above 1: the op does not clip (gamut
mapping is a separate decision).

Sources: ITU-R BT.709-6, ITU-R BT.2020-2, SMPTE EG 432-1:2010 (P3 primaries;
Display P3 uses them with the D65 white), Adobe RGB (1998) Color Image
Encoding v2005-05, SMPTE ST 2065-1:2012 (ACES AP0), ACES S-2014-004 (ACEScg,
AP1), CIE 15:2004 (D65), SMPTE RP 177-1993, Lam (1985) "Metamerism and
colour constancy" (Bradford).
"""

from __future__ import annotations

from functools import cache
from typing import ClassVar, Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field

from pixelpipe.ops.base import Array, PointwiseOp, array_namespace, load_wgsl, pack_params

Space = Literal["rec709", "rec2020", "display-p3", "adobe-rgb", "acescg", "aces2065-1",
                "xyz-d65"]

D65 = (0.3127, 0.3290)  # CIE 15:2004 as rounded by BT.709 / BT.2020 / sRGB
D50 = (0.3457, 0.3585)  # ICC.1:2010 PCS illuminant (x, y rounded to 4 places)
ACES_WHITE = (0.32168, 0.33767)  # SMPTE ST 2065-1

#: name -> ((R xy, G xy, B xy) or None for XYZ, white xy)
SPACES: dict[str, tuple[tuple[tuple[float, float], ...] | None, tuple[float, float]]] = {
    "rec709": (((0.640, 0.330), (0.300, 0.600), (0.150, 0.060)), D65),  # BT.709-6 / sRGB
    "rec2020": (((0.708, 0.292), (0.170, 0.797), (0.131, 0.046)), D65),  # BT.2020-2
    "display-p3": (((0.680, 0.320), (0.265, 0.690), (0.150, 0.060)), D65),  # EG 432-1 + D65
    "adobe-rgb": (((0.640, 0.330), (0.210, 0.710), (0.150, 0.060)), D65),  # Adobe RGB (1998)
    "acescg": (((0.713, 0.293), (0.165, 0.830), (0.128, 0.044)), ACES_WHITE),  # AP1
    "aces2065-1": (((0.7347, 0.2653), (0.0, 1.0), (0.0001, -0.0770)), ACES_WHITE),  # AP0
    "xyz-d65": (None, D65),
}

#: Bradford cone-response matrix (Lam 1985).
BRADFORD = np.array([[0.8951, 0.2664, -0.1614],
                     [-0.7502, 1.7135, 0.0367],
                     [0.0389, -0.0685, 1.0296]])

F64 = npt.NDArray[np.float64]


def xy_to_xyz(xy: tuple[float, float]) -> F64:
    """XYZ (Y = 1) of the chromaticity ``xy``."""
    x, y = xy
    return np.array([x / y, 1.0, (1.0 - x - y) / y])


def bradford(src_white: tuple[float, float], dst_white: tuple[float, float]) -> F64:
    """3x3 Bradford chromatic adaptation matrix (XYZ -> XYZ) from one white to another."""
    if tuple(src_white) == tuple(dst_white):
        return np.eye(3)
    s = BRADFORD @ xy_to_xyz(src_white)
    d = BRADFORD @ xy_to_xyz(dst_white)
    return np.linalg.solve(BRADFORD, np.diag(d / s) @ BRADFORD)


def npm(space: str) -> F64:
    """Normalised primary matrix: linear RGB of ``space`` -> XYZ in its own white (Y_w = 1)."""
    prims, white = SPACES[space]
    if prims is None:
        return np.eye(3)
    p = np.array([xy_to_xyz(c) for c in prims]).T  # columns: XYZ of R, G, B
    return p * np.linalg.solve(p, xy_to_xyz(white))


def rgb_to_xyz(space: str, white: tuple[float, float] | None = None) -> F64:
    """Linear RGB of ``space`` -> XYZ, Bradford-adapted to ``white`` (default: the space's own)."""
    own = SPACES[space][1]
    return bradford(own, white or own) @ npm(space)


@cache
def conversion_matrix(source: str, target: str) -> F64:
    """Float64 3x3 matrix taking linear ``source`` RGB to linear ``target`` RGB (read-only)."""
    m: F64
    if source == target:
        m = np.eye(3)
    else:
        m = np.asarray(np.linalg.solve(
            npm(target), bradford(SPACES[source][1], SPACES[target][1]) @ npm(source)),
            np.float64)
    m.setflags(write=False)
    return m


class ColorSpace(PointwiseOp):
    """Convert linear RGB from one colour space to another (3x3 matrix, Bradford adaptation).

    Parameters
    ----------
    source, target : str
        One of "rec709", "rec2020", "display-p3", "adobe-rgb", "acescg",
        "aces2065-1", "xyz-d65": linear colour spaces; ``rec709`` is linear
        sRGB / BT.709, ``xyz-d65`` is CIE XYZ with the D65 white at Y = 1.
        Default rec709 -> rec2020.

    Input/output: float32 (H, W, 4), linear RGB (no transfer function is
    applied: decode first with the ``transfer`` op); alpha untouched; no
    clipping; NaN/Inf follow IEEE arithmetic through the 3x3 sum. Unknown
    names raise :class:`~pixelpipe.errors.ParameterError` via :meth:`from_config`.
    """

    op_name: ClassVar[str] = "colorspace"

    source: Space = Field("rec709", description="linear colour space of the input")
    target: Space = Field("rec2020", description="linear colour space of the output")

    def is_identity(self) -> bool:
        return self.source == self.target

    def matrix(self) -> F64:
        """The float64 3x3 matrix (row i = output channel i from input R, G, B)."""
        return conversion_matrix(self.source, self.target)

    def reference(self, x: Array) -> Array:
        xp = array_namespace(x)
        m = xp.asarray(self.matrix().astype(np.float32))
        r, g, b = x[..., 0], x[..., 1], x[..., 2]
        out = x.copy()
        with np.errstate(invalid="ignore", over="ignore"):
            for i in range(3):
                out[..., i] = (m[i, 0] * r + m[i, 1] * g) + m[i, 2] * b
        return out

    def wgsl(self) -> str:
        return load_wgsl(__package__, "colorspace.wgsl")

    def params(self) -> Array:
        m = self.matrix().astype(np.float32)
        return pack_params(m[0], m[1], m[2])
