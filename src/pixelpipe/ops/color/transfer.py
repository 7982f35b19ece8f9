"""Transfer functions (``transfer``): linear <-> encoded, both directions.

``direction = "encode"`` maps scene/display-linear values to the encoding
(OETF / inverse EOTF / log encoding); ``"decode"`` is its exact inverse.
Each curve is applied to R, G and B independently; alpha is untouched.

Curves (``x`` linear, ``v`` encoded)
------------------------------------
``srgb`` — IEC 61966-2-1:1999, the sRGB piecewise curve::

    v = 12.92 x                      x <= 0.0031308
    v = 1.055 x^(1/2.4) - 0.055      otherwise
    x = v / 12.92                    v <= 0.04045
    x = ((v + 0.055) / 1.055)^2.4    otherwise

``rec709`` — ITU-R BT.709-6 camera OETF (and its inverse)::

    v = 4.5 x                        x < 0.018
    v = 1.099 x^0.45 - 0.099         otherwise
    x = v / 4.5                      v < 1.099 * 0.018^0.45 - 0.099 (= 0.0812479)
    x = ((v + 0.099) / 1.099)^(1/0.45)

  (A BT.709 *display* decodes with the BT.1886 EOTF, a pure 2.4 power for a
  zero black level: use ``function = "gamma", gamma = 2.4``.)

``gamma`` — a pure power law, ``v = x^(1/gamma)``, ``x = v^gamma`` (e.g.
2.2 for a "gamma 2.2" display, 2.4 for BT.1886 with zero black level).

``acescct`` — ACES S-2016-001 (ACEScct)::

    v = 10.5402377416545 x + 0.0729055341958355   x <= 0.0078125
    v = (log2(x) + 9.72) / 17.52                  otherwise
    x = (v - 0.0729055341958355) / 10.5402377416545   v <= 0.155251141552511
    x = 2^(17.52 v - 9.72)                        otherwise

``acescc`` — ACES S-2014-003 (ACEScc)::

    v = (log2(2^-16) + 9.72) / 17.52              x <= 0
    v = (log2(2^-16 + x / 2) + 9.72) / 17.52      x < 2^-15
    v = (log2(x) + 9.72) / 17.52                  otherwise
    x = (2^(17.52 v - 9.72) - 2^-16) * 2          v < (9.72 - 15) / 17.52
    x = 2^(17.52 v - 9.72)                        v < (log2(65504) + 9.72) / 17.52
    x = 65504                                     otherwise

``logc3`` — ARRI LogC3 (ALEXA, SUP 3.x, EI 800; "ALEXA Log C Curve —
Usage in VFX", ARRI white paper 2017), with cut = 0.010591,
a = 5.555556, b = 0.052272, c = 0.247190, d = 0.385537, e = 5.367655,
f = 0.092809::

    v = c log10(a x + b) + d         x > cut
    v = e x + f                      otherwise
    x = (10^((v - d) / c) - b) / a   v > e cut + f
    x = (v - f) / e                  otherwise

``slog3`` — Sony S-Log3 ("Technical Summary for S-Gamut3.Cine/S-Log3 and
S-Gamut3/S-Log3", Sony 2014), code values normalised by 1023::

    v = (420 + 261.5 log10((x + 0.01) / 0.19)) / 1023        x >= 0.01125
    v = (95 + x (171.2102946929 - 95) / 0.01125) / 1023      otherwise
    x = 0.19 * 10^((1023 v - 420) / 261.5) - 0.01            v >= 171.2102946929 / 1023
    x = (1023 v - 95) 0.01125 / (171.2102946929 - 95)        otherwise

``cineon`` — Kodak Cineon printing density (Kodak "Conversion of 10-bit
log film data to 8-bit linear or video data for the Cineon digital film
system", 1995): reference white 685, reference black 95, 0.002 density per
code value, negative gamma 0.6, so 300 code values per decade of exposure;
``black = 10^((95 - 685) / 300)``::

    v = (685 + 300 log10(x (1 - black) + black)) / 1023
    x = (10^((1023 v - 685) / 300) - black) / (1 - black)

Negative values, NaN and Inf
----------------------------
* ``srgb``, ``rec709``, ``acescct``, ``logc3``, ``slog3``: the linear segment
  near zero is extended to all negative values (both directions), as
  colour-science and OpenColorIO's ``ExponentWithLinear`` (default negative
  style ``linear``) do: the curves stay continuous and invertible.
* ``gamma``: mirrored about zero, ``v = sign(x) |x|^(1/gamma)`` (OpenColorIO
  ``NEGATIVE_MIRROR``), invertible.
* ``acescc``: every ``x <= 0`` encodes to the same value (the standard's
  behaviour, not invertible there); decode is bounded below by ``-2^-15``
  and above by 65504 (half-float max), as the standard says.
* ``cineon``: the log has a pole at ``x = -black / (1 - black)``; encode
  clamps the result at code value 0 (the lowest 10-bit code), i.e.
  ``x`` below ``(10^(-685/300) - black) / (1 - black) ≈ -0.00565`` encodes
  to 0. Decode is defined everywhere.
* NaN in gives NaN out (every curve, both directions). +Inf encodes/decodes
  to +Inf (acescc decode: 65504); -Inf to -Inf where the curve is linear
  below zero, to the bounded values above for ``acescc`` and ``cineon``.
  Large finite inputs whose result exceeds float32 give +Inf.

The reference evaluates in float64 and rounds to float32; the WebGPU kernel
uses float32 ``log2``/``exp2``/``pow``. They agree to 1e-5 relative
(``tests/ops/test_transfer.py``), and the reference agrees with
colour-science (``colour.models``) to 1e-5 on every curve.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from pixelpipe.ops.base import Array, PointwiseOp, array_namespace, load_wgsl, pack_params

Function = Literal["srgb", "rec709", "gamma", "acescct", "acescc", "logc3", "slog3", "cineon"]
Direction = Literal["encode", "decode"]

#: Numeric ids shared with ``transfer.wgsl``.
FUNCTION_IDS: dict[str, int] = {
    "srgb": 0, "rec709": 1, "gamma": 2, "acescct": 3, "acescc": 4, "logc3": 5, "slog3": 6,
    "cineon": 7,
}

# ARRI LogC3, SUP 3.x, EI 800
LOGC3 = {"cut": 0.010591, "a": 5.555556, "b": 0.052272, "c": 0.247190, "d": 0.385537,
         "e": 5.367655, "f": 0.092809}
HALF_MAX = 65504.0
CINEON_BLACK = 10.0 ** ((95.0 - 685.0) / 300.0)
#: Encoded value at the BT.709 break point, 1.099 * 0.018^0.45 - 0.099 (the decode threshold)
REC709_V_CUT = 1.099 * 0.018 ** 0.45 - 0.099


def encode(xp: Any, x: Any, function: str, gamma: float = 2.2) -> Any:
    """Linear -> encoded, float64 in and out (see the module docstring)."""
    with np.errstate(all="ignore"):
        if function == "srgb":
            return xp.where(x <= 0.0031308, 12.92 * x,
                            1.055 * xp.abs(x) ** (1 / 2.4) - 0.055)
        if function == "rec709":
            return xp.where(x < 0.018, 4.5 * x, 1.099 * xp.abs(x) ** 0.45 - 0.099)
        if function == "gamma":
            return xp.sign(x) * xp.abs(x) ** (1.0 / gamma)
        if function == "acescct":
            return xp.where(x <= 0.0078125, 10.5402377416545 * x + 0.0729055341958355,
                            (xp.log2(x) + 9.72) / 17.52)
        if function == "acescc":
            low = (xp.log2(2.0 ** -16 + 0.5 * x) + 9.72) / 17.52
            out = xp.where(x < 2.0 ** -15, low, (xp.log2(x) + 9.72) / 17.52)
            return xp.where(x <= 0, (-16.0 + 9.72) / 17.52, out)
        if function == "logc3":
            k = LOGC3
            return xp.where(x > k["cut"], k["c"] * xp.log10(k["a"] * x + k["b"]) + k["d"],
                            k["e"] * x + k["f"])
        if function == "slog3":
            return xp.where(x >= 0.01125,
                            (420.0 + xp.log10((x + 0.01) / 0.19) * 261.5) / 1023.0,
                            (x * (171.2102946929 - 95.0) / 0.01125 + 95.0) / 1023.0)
        if function == "cineon":
            b = CINEON_BLACK
            arg = xp.maximum(x * (1.0 - b) + b, 10.0 ** (-685.0 / 300.0))
            return (685.0 + 300.0 * xp.log10(arg)) / 1023.0
    raise ValueError(f"unknown transfer function {function!r}")


def decode(xp: Any, v: Any, function: str, gamma: float = 2.2) -> Any:
    """Encoded -> linear, float64 in and out (see the module docstring)."""
    with np.errstate(all="ignore"):
        if function == "srgb":
            return xp.where(v <= 0.04045, v / 12.92, ((xp.abs(v) + 0.055) / 1.055) ** 2.4)
        if function == "rec709":
            return xp.where(v < REC709_V_CUT, v / 4.5,
                            ((xp.abs(v) + 0.099) / 1.099) ** (1 / 0.45))
        if function == "gamma":
            return xp.sign(v) * xp.abs(v) ** gamma
        if function == "acescct":
            return xp.where(v <= 0.155251141552511, (v - 0.0729055341958355) / 10.5402377416545,
                            2.0 ** (17.52 * v - 9.72))
        if function == "acescc":
            p = 2.0 ** (17.52 * v - 9.72)
            out = xp.where(v < (xp.log2(HALF_MAX) + 9.72) / 17.52, p, HALF_MAX)
            return xp.where(v < (9.72 - 15.0) / 17.52, (p - 2.0 ** -16) * 2.0, out)
        if function == "logc3":
            k = LOGC3
            return xp.where(v > k["e"] * k["cut"] + k["f"],
                            (10.0 ** ((v - k["d"]) / k["c"]) - k["b"]) / k["a"],
                            (v - k["f"]) / k["e"])
        if function == "slog3":
            return xp.where(v >= 171.2102946929 / 1023.0,
                            10.0 ** ((v * 1023.0 - 420.0) / 261.5) * 0.19 - 0.01,
                            (v * 1023.0 - 95.0) * 0.01125 / (171.2102946929 - 95.0))
        if function == "cineon":
            b = CINEON_BLACK
            return (10.0 ** ((1023.0 * v - 685.0) / 300.0) - b) / (1.0 - b)
    raise ValueError(f"unknown transfer function {function!r}")


class Transfer(PointwiseOp):
    """Apply a transfer function (encode: linear -> encoded; decode: encoded -> linear).

    Parameters
    ----------
    function : {"srgb", "rec709", "gamma", "acescct", "acescc", "logc3", "slog3", "cineon"}
        The curve (sources and formulas in the module docstring).
    direction : {"encode", "decode"}, default "encode"
        ``encode`` maps linear values to the encoding, ``decode`` inverts it.
    gamma : float, 0.1 to 10, default 2.2
        Exponent of the ``gamma`` curve (display gamma; encode raises to
        ``1/gamma``); ignored by the other curves.

    Input/output: float32 (H, W, 4), R, G, B transformed, alpha untouched.
    Negative values, NaN and Inf: see the module docstring.
    """

    op_name: ClassVar[str] = "transfer"

    function: Function = Field(description="transfer function: srgb (IEC 61966-2-1), rec709 "
                                           "(BT.709 OETF), gamma (pure power), acescct, acescc, "
                                           "logc3 (ARRI LogC3 EI 800), slog3 (Sony), cineon")
    direction: Direction = Field("encode", description="encode: linear -> encoded; "
                                                       "decode: encoded -> linear")
    gamma: float = Field(2.2, ge=0.1, le=10.0,
                         description="exponent of the 'gamma' curve (display gamma); "
                                     "other curves ignore it",
                         json_schema_extra={"unit": "exponent"})

    def reference(self, x: Array) -> Array:
        xp = array_namespace(x)
        out = x.copy()
        v = xp.asarray(x[..., :3], xp.float64)
        f = encode if self.direction == "encode" else decode
        with np.errstate(over="ignore"):
            y = f(xp, v, self.function, self.gamma).astype(xp.float32)
        out[..., :3] = xp.where(xp.isnan(v), v.astype(xp.float32), y)
        return out

    def wgsl(self) -> str:
        return load_wgsl(__package__, "transfer.wgsl")

    def params(self) -> Array:
        return pack_params((FUNCTION_IDS[self.function], 0 if self.direction == "encode" else 1,
                            self.gamma, 1.0 / self.gamma))
