"""White balance: per-channel RGB gains, given directly or from a colour temperature.

Algorithm
---------
The op multiplies linear R, G, B by three gains (alpha untouched). The gains
are either given (``gains``) or derived on the host, in float64, from the
scene illuminant's correlated colour temperature ``temperature`` (CCT, kelvin)
and ``tint``, relative to a reference white (``reference_white``, D65 by default):

1. **Illuminant chromaticity on a locus.** ``locus="auto"`` (default) follows
   the CIE convention for standard illuminants: the CIE daylight locus
   (CIE 15:2004, eq. 3.3-3.4; the D-series illuminants) for 4000 K and above,
   the Planckian (black-body) locus below 4000 K. The Planckian locus is
   Kang et al.'s cubic approximation (Kang, Moon, Hong, Lee, Cho, Kim,
   "Design of Advanced Color Temperature Control System for HDTV
   Applications", J. Korean Physical Society 41(6), 2002), valid
   1667-25,000 K, within 4e-4 in CIE 1960 (u, v) of the exact locus. As the
   CIE D-series, the daylight locus sits slightly above the Planckian one
   (green side; about +0.003 Duv), so "auto" steps by that much at 4000 K:
   ``locus="planckian"`` or ``"daylight"`` (4000 K and up only) pick one
   locus everywhere. On the daylight locus 6504 K is D65 and 5003 K is D50
   to within 2e-5 in x and y.
2. **Tint.** The CIE defines a chromaticity near the Planckian locus by CCT
   and Duv, the signed distance from the locus in the CIE 1960 UCS (u, v)
   diagram, positive above the locus (towards green) (CIE 15:2004 sec. 9.5;
   Ohno, "Practical Use and Calculation of CCT and Duv", LEUKOS 10(1), 2014).
   Here ``Duv = tint / 5000``: ``tint`` from -100 to 100 spans Duv -0.02 to
   +0.02 (fluorescent and LED light sources are typically within +-0.01).
   The locus point of step 1 is moved by Duv along the unit normal of the
   Planckian locus at the same temperature, the isotemperature direction.
   Positive tint describes a greenish illuminant, so its correction removes
   green (the image turns magenta), the direction of the tint control of
   common raw converters.
3. **Reference white** (``reference_white``): a named CIE illuminant (CIE 15:2004 table T.3, 2
   degree observer; "E" is the equal-energy white x = y = 1/3) or a
   temperature in kelvin placed on the locus by step 1 with Duv 0.
4. **Gains (von Kries scaling in the working RGB).** Both whites are
   converted to XYZ with Y = 1 and then to linear RGB of ``primaries``
   (ITU-R BT.709 / sRGB, or ITU-R BT.2020; the normalised primary matrix of
   SMPTE RP 177 built from the primaries and the D65 white point of the
   standard). ``gains = RGB(reference) / RGB(illuminant)``, so the
   illuminant's white becomes the reference white and keeps its luminance Y.

Why von Kries in RGB and not a Bradford transform: white balance on camera
or scene-linear RGB is, by convention and in every raw pipeline, a diagonal
scaling of the working channels: it is exact for the white point, cheap,
exactly invertible and commutes with exposure. A Bradford (or CAT02)
adaptation is a full 3x3 matrix in XYZ; where that is wanted, compute it
(e.g. with colour-science) and apply it with the ``matrix`` op.

``temperature == reference_white`` (given in kelvin) with ``tint == 0`` is exactly
the identity, and so are ``gains = (1, 1, 1)`` and the default (neither
given). Extreme combinations whose illuminant lies outside the primaries'
gamut (a channel of RGB(illuminant) <= 0, e.g. 2000 K with a strong green
tint in Rec.709) raise :class:`~pixelpipe.errors.ParameterError`.

Kernel: ``out.rgb = in.rgb * gains`` in float32; NaN and Inf propagate as in
IEEE arithmetic (all gains are positive and finite).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field, field_validator, model_validator

from pixelpipe.ops.base import Array, PointwiseOp, array_namespace, load_wgsl, pack_params

#: CIE standard illuminant white points, CIE 1931 2 degree observer (CIE 15:2004, table T.3).
ILLUMINANTS_XY: dict[str, tuple[float, float]] = {
    "A": (0.44757, 0.40745),
    "D50": (0.34567, 0.35850),
    "D55": (0.33242, 0.34743),
    "D65": (0.31270, 0.32900),
    "D75": (0.29902, 0.31485),
    "E": (1.0 / 3.0, 1.0 / 3.0),
}

#: RGB primaries (R, G, B xy) and white point of the supported working spaces.
PRIMARIES: dict[str, tuple[tuple[tuple[float, float], ...], tuple[float, float]]] = {
    # ITU-R BT.709-6 item 1.3-1.4 (also IEC 61966-2-1 sRGB)
    "rec709": (((0.640, 0.330), (0.300, 0.600), (0.150, 0.060)), (0.3127, 0.3290)),
    # ITU-R BT.2020-2 table 3
    "rec2020": (((0.708, 0.292), (0.170, 0.797), (0.131, 0.046)), (0.3127, 0.3290)),
}

#: Duv per unit of ``tint``: tint 100 = Duv 0.02.
DUV_PER_TINT = 0.02 / 100.0

T_MIN, T_MAX = 2000.0, 25000.0
_KANG_KNOTS = (2222.0, 4000.0)  # where the pieces of Kang et al.'s spline meet
DAYLIGHT_MIN = 4000.0

Gain = Annotated[float, Field(gt=0.0, le=64.0, allow_inf_nan=False)]
Kelvin = Annotated[float, Field(ge=T_MIN, le=T_MAX, allow_inf_nan=False)]


def planckian_xy(t: float) -> tuple[float, float]:
    """CIE 1931 xy of the Planckian locus at ``t`` kelvin (Kang et al. 2002 cubic spline).

    Valid for 1667 K <= t <= 25,000 K (raises ``ValueError`` outside); within
    about 4e-4 in (u, v) of the exact locus.
    """
    if not 1667.0 <= t <= 25000.0:
        raise ValueError(f"Planckian approximation defined for 1667-25000 K, got {t} K")
    r = 1.0 / t
    if t <= 4000.0:
        x = -0.2661239e9 * r**3 - 0.2343589e6 * r**2 + 0.8776956e3 * r + 0.179910
    else:
        x = -3.0258469e9 * r**3 + 2.1070379e6 * r**2 + 0.2226347e3 * r + 0.240390
    if t <= 2222.0:
        y = -1.1063814 * x**3 - 1.34811020 * x**2 + 2.18555832 * x - 0.20219683
    elif t <= 4000.0:
        y = -0.9549476 * x**3 - 1.37418593 * x**2 + 2.09137015 * x - 0.16748867
    else:
        y = 3.0817580 * x**3 - 5.87338670 * x**2 + 3.75112997 * x - 0.37001483
    return x, y


def daylight_xy(t: float) -> tuple[float, float]:
    """CIE 1931 xy of the CIE daylight locus at ``t`` kelvin (CIE 15:2004 eq. 3.3-3.4).

    Defined for 4000 K <= t <= 25,000 K (raises ``ValueError`` outside).
    ``t`` is the nominal CCT of the formula: D65 is 6504 K, D50 5003 K.
    """
    if not DAYLIGHT_MIN <= t <= 25000.0:
        raise ValueError(f"CIE daylight locus defined for 4000-25000 K, got {t} K")
    r = 1.0 / t
    if t <= 7000.0:
        x = -4.6070e9 * r**3 + 2.9678e6 * r**2 + 0.09911e3 * r + 0.244063
    else:
        x = -2.0064e9 * r**3 + 1.9018e6 * r**2 + 0.24748e3 * r + 0.237040
    y = -3.000 * x**2 + 2.870 * x - 0.275
    return x, y


def xy_to_uv(x: float, y: float) -> tuple[float, float]:
    """CIE 1931 xy -> CIE 1960 UCS uv."""
    d = -2.0 * x + 12.0 * y + 3.0
    return 4.0 * x / d, 6.0 * y / d


def uv_to_xy(u: float, v: float) -> tuple[float, float]:
    """CIE 1960 UCS uv -> CIE 1931 xy."""
    d = 2.0 * u - 8.0 * v + 4.0
    return 3.0 * u / d, 2.0 * v / d


def planckian_normal_uv(t: float) -> tuple[float, float]:
    """Unit normal of the Planckian locus at ``t`` K in (u, v), pointing above it (+Duv).

    From a difference of :func:`planckian_xy` over 0.1 % of ``t``, taken
    within the spline piece that holds ``t`` (the pieces meet at 2222 K and
    4000 K with different slopes).
    """
    h = t * 5e-4
    lo, hi = max(t - h, 1667.0), min(t + h, 25000.0)
    for knot in _KANG_KNOTS:
        if lo < knot < hi or (t == knot and hi > knot):
            lo, hi = (t - 2 * h, t) if t <= knot else (t, t + 2 * h)
    u0, v0 = xy_to_uv(*planckian_xy(lo))
    u1, v1 = xy_to_uv(*planckian_xy(hi))
    du, dv = u1 - u0, v1 - v0
    n = math.hypot(du, dv)
    # the locus runs towards smaller u as t rises; (dv, -du) points to larger v
    return dv / n, -du / n


def cct_duv_to_xy(t: float, duv: float = 0.0,
                  locus: Literal["auto", "daylight", "planckian"] = "auto") -> tuple[float, float]:
    """CIE 1931 xy of the chromaticity at CCT ``t`` (K) and ``duv`` off the locus.

    ``locus``: "auto" = CIE daylight at 4000 K and above, Planckian below;
    "daylight" (4000-25000 K only) or "planckian" (1667-25000 K). ``duv`` is
    applied along the Planckian locus normal in CIE 1960 (u, v), positive
    towards green. Raises ``ValueError`` outside the locus's range.
    """
    if locus == "daylight" or (locus == "auto" and t >= DAYLIGHT_MIN):
        base = daylight_xy(t)
    else:
        base = planckian_xy(t)
    if duv == 0.0:
        return base
    u, v = xy_to_uv(*base)
    nu, nv = planckian_normal_uv(t)
    return uv_to_xy(u + duv * nu, v + duv * nv)


def rgb_to_xyz_matrix(primaries: str) -> npt.NDArray[np.float64]:
    """Linear RGB -> XYZ matrix of ``primaries``, white at Y = 1 (SMPTE RP 177 NPM)."""
    prims, white = PRIMARIES[primaries]
    p = np.array([[x / y, 1.0, (1.0 - x - y) / y] for x, y in prims]).T  # columns: XYZ of R, G, B
    xw, yw = white
    w = np.array([xw / yw, 1.0, (1.0 - xw - yw) / yw])
    return p * np.linalg.solve(p, w)


def white_rgb(xy: tuple[float, float], primaries: str) -> npt.NDArray[np.float64]:
    """Linear RGB of the chromaticity ``xy`` at luminance Y = 1."""
    x, y = xy
    xyz = np.array([x / y, 1.0, (1.0 - x - y) / y])
    return np.linalg.solve(rgb_to_xyz_matrix(primaries), xyz)


class WhiteBalance(PointwiseOp):
    """Per-channel RGB gains: explicit, or from the illuminant's temperature and tint.

    Parameters
    ----------
    gains : 3 floats in (0, 64], optional
        Multipliers for R, G, B. Exclusive with ``temperature``.
    temperature : float, 2000 to 25000 K, optional
        Correlated colour temperature of the scene illuminant to correct for
        (e.g. 3200 for tungsten light: the image turns bluer).
    tint : float, -100 to 100, default 0
        Illuminant's offset from the locus, ``Duv = tint / 5000`` (+-0.02 Duv);
        positive = greenish illuminant (the correction adds magenta).
        Needs ``temperature``.
    reference_white : {"D65", "D50", "D55", "D75", "A", "E"} or float (K, 2000-25000), default "D65"
        The white the illuminant is mapped to.
    locus : {"auto", "daylight", "planckian"}, default "auto"
        Where a temperature lies: CIE daylight locus >= 4000 K and Planckian
        below ("auto"), or one of the two everywhere.
    primaries : {"rec709", "rec2020"}, default "rec709"
        The linear RGB primaries of the data (the gains are von Kries scaling
        in this RGB).

    With neither ``gains`` nor ``temperature`` the op is the identity.
    Input/output: float32 (H, W, 4), linear RGB; alpha untouched; NaN/Inf
    propagate. Inconsistent or out-of-range parameters raise
    :class:`~pixelpipe.errors.ParameterError` via :meth:`from_config`.
    """

    op_name: ClassVar[str] = "white_balance"

    gains: tuple[Gain, Gain, Gain] | None = Field(
        None, description="explicit R, G, B multipliers in (0, 64]; exclusive with temperature",
        json_schema_extra={"unit": "gain"})
    temperature: Kelvin | None = Field(
        None, description="correlated colour temperature of the scene illuminant to correct "
        "for, 2000-25000 K", json_schema_extra={"unit": "K"})
    tint: float = Field(
        0.0, ge=-100.0, le=100.0, allow_inf_nan=False,
        description="illuminant offset from the locus, Duv = tint / 5000 (-100..100 = "
        "-0.02..0.02 Duv); positive = greenish illuminant, corrected towards magenta",
        json_schema_extra={"unit": "Duv/5000"})
    reference_white: Kelvin | Literal["A", "D50", "D55", "D65", "D75", "E"] = Field(
        "D65", description="reference white: a CIE illuminant name or a temperature in K "
        "on the locus", json_schema_extra={"unit": "K or illuminant name"})
    locus: Literal["auto", "daylight", "planckian"] = Field(
        "auto", description='"auto": CIE daylight locus from 4000 K, Planckian below; '
        '"daylight" (4000 K and up) or "planckian" everywhere')
    primaries: Literal["rec709", "rec2020"] = Field(
        "rec709", description="linear RGB primaries of the data (ITU-R BT.709/sRGB or BT.2020)")

    @field_validator("gains", mode="before")
    @classmethod
    def _array_to_tuple(cls, v: Any) -> Any:
        if isinstance(v, np.ndarray):
            v = v.tolist()
        if isinstance(v, (list, tuple)) and len(v) != 3:
            raise ValueError(f"expected 3 gains (R, G, B), got {len(v)} values")
        return v

    @model_validator(mode="after")
    def _check_consistent(self) -> WhiteBalance:
        if self.gains is not None and self.temperature is not None:
            raise ValueError("give either gains or temperature (+ tint), not both")
        if self.tint != 0.0 and self.temperature is None:
            raise ValueError("tint needs a temperature")
        if self.locus == "daylight":
            for name, t in (("temperature", self.temperature),
                            ("reference_white", self.reference_white)):
                if isinstance(t, float) and t < DAYLIGHT_MIN:
                    raise ValueError(f'{name} {t:g} K is below 4000 K, where the CIE daylight '
                                     'locus is not defined; use locus="planckian" or "auto"')
        if self.temperature is not None:
            g = self._temperature_gains()
            if not (np.all(np.isfinite(g)) and np.all(g > 0) and np.all(g <= 1e4)):
                raise ValueError(
                    f"temperature {self.temperature:g} K with tint {self.tint:g} gives an "
                    f"illuminant outside the {self.primaries} gamut (gains {g.tolist()})")
        return self

    def reference_xy(self) -> tuple[float, float]:
        """CIE 1931 xy of the reference white."""
        if isinstance(self.reference_white, str):
            return ILLUMINANTS_XY[self.reference_white]
        return cct_duv_to_xy(self.reference_white, 0.0, self.locus)

    def illuminant_xy(self) -> tuple[float, float] | None:
        """CIE 1931 xy of the scene illuminant (None when ``temperature`` is not set)."""
        if self.temperature is None:
            return None
        return cct_duv_to_xy(self.temperature, self.tint * DUV_PER_TINT, self.locus)

    def _temperature_gains(self) -> npt.NDArray[np.float64]:
        ill = self.illuminant_xy()
        assert ill is not None
        with np.errstate(divide="ignore", invalid="ignore"):
            return white_rgb(self.reference_xy(), self.primaries) / white_rgb(ill, self.primaries)

    def rgb_gains(self) -> npt.NDArray[np.float64]:
        """The R, G, B gains (float64, shape (3,)) the op applies."""
        if self.gains is not None:
            return np.asarray(self.gains, np.float64)
        if self.temperature is None:
            return np.ones(3)
        return self._temperature_gains()

    def reference(self, x: Array) -> Array:
        xp = array_namespace(x)
        g = xp.asarray(self.rgb_gains().astype(np.float32))
        out = x.copy()
        out[..., :3] = x[..., :3] * g
        return out

    def wgsl(self) -> str:
        return load_wgsl(__package__, "white_balance.wgsl")

    def params(self) -> Array:
        return pack_params(self.rgb_gains().astype(np.float32))
