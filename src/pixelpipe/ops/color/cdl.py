"""ASC Color Decision List (CDL): slope, offset, power and saturation.

Algorithm
---------
The ASC CDL v1.2 (American Society of Cinematographers, "ASC Color Decision
List (ASC CDL) Transfer Functions and Interchange Syntax", v1.2, 2009)
defines, per channel ``c`` in R, G, B::

    sop_c = (in_c * slope_c + offset_c) ** power_c
    luma  = 0.2126 * sop_r + 0.7152 * sop_g + 0.0722 * sop_b    (Rec.709 weights)
    out_c = luma + saturation * (sop_c - luma)

Styles (the names of the Academy/ASC Common LUT Format and OpenColorIO):

``"asc"`` (CLF ``Fwd``, OpenColorIO ``CDL_ASC``)
    As the v1.2 spec: the slope/offset result is clamped to [0, 1] before the
    power, and the saturation result is clamped to [0, 1]. A clamp maps NaN
    to 0, +Inf to 1 and -Inf to 0, so the output is always finite and in
    [0, 1].
``"no_clamp"`` (CLF ``FwdNoClamp``, OpenColorIO ``CDL_NO_CLAMP``)
    No clamps, for scene-linear and HDR data. The power is applied only where
    its base is >= 0; a negative value passes through the power unchanged
    (``v < 0 ? v : v ** power``) and a NaN becomes 0 at the power step, both
    as OpenColorIO's CPU renderer defines them. +Inf stays +Inf through
    slope, offset and power, but the saturation step computes ``luma`` from
    all three channels, so any infinity makes every channel NaN
    (``inf - inf``), as in OpenColorIO.

Direction ``"inverse"`` (CLF ``Rev`` / ``RevNoClamp``, OpenColorIO's inverse
CDL) undoes the forward transform step by step::

    v = clamp(in)                      ("asc" only)
    v = luma(v) + (v - luma(v)) / saturation
    v = clamp(v) ** (1 / power)        ("asc"; "no_clamp": the pass-through power)
    out = (v - offset) / slope
    out = clamp(out)                   ("asc" only)

As in OpenColorIO, the reciprocals are ``1 / max(x, 0.01)`` in float32, so a
slope, power or saturation below 0.01 is inverted as if it were 0.01 (no
division by zero). The "asc" inverse is exact only for values that the
forward transform did not clip.

Every step is evaluated in float32 in the order above (the order of
OpenColorIO's scalar CPU renderer), so the reference, the WGSL kernel and
OpenColorIO (CPU processor built with ``OPTIMIZATION_NONE``) agree to within
a few float32 roundings; the tests hold all three to 1e-5 relative. Note:
OpenColorIO's default optimisation uses an approximate ``pow`` (about 2e-5
relative error) and folds a power of 1 into matrices, which skips its NaN-to-0
and final-clamp steps; pixelpipe always follows the renderer definition.
Alpha is untouched.

Why: the CDL is the interchange format for primary grades between on-set
tools, editorial and grading; matching the spec and OpenColorIO bit for bit
(within float32 rounding) is what makes a grade travel.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

import numpy as np
from pydantic import Field, field_validator

from pixelpipe.ops.base import Array, PointwiseOp, array_namespace, load_wgsl, pack_params

#: Rec.709 luma weights, as the ASC CDL v1.2 spec prescribes for saturation.
LUMA_REC709 = (0.2126, 0.7152, 0.0722)

#: OpenColorIO's floor for the reciprocals of the inverse transform.
_RCP_MIN = np.float32(0.01)

NonNeg = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]


def _broadcast3(v: Any) -> Any:
    """A scalar becomes ``(v, v, v)``; anything else is left for pydantic to check."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return (v, v, v)
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, (list, tuple)) and len(v) != 3:
        raise ValueError(f"expected one number or 3 values (R, G, B), got {len(v)} values")
    return v


def _rcp(v: Any) -> Any:
    """OpenColorIO's reverse-CDL reciprocal: ``1 / max(v, 0.01)`` in float32."""
    return np.float32(1.0) / np.maximum(np.asarray(v, np.float32), _RCP_MIN)


class CDL(PointwiseOp):
    """ASC CDL v1.2 primary grade (slope, offset, power, saturation) on RGB.

    Parameters
    ----------
    slope : float or 3 floats, >= 0, default (1, 1, 1)
        Per-channel gain (unitless). A scalar applies to R, G and B.
    offset : float or 3 floats, default (0, 0, 0)
        Per-channel offset added after the slope, in code values.
    power : float or 3 floats, > 0, default (1, 1, 1)
        Per-channel exponent applied after slope and offset.
    saturation : float, >= 0, default 1
        Scales the distance from Rec.709 luma (0: grey, 1: unchanged).
    style : {"asc", "no_clamp"}, default "asc"
        ``"asc"``: clamp to [0, 1] as ASC CDL v1.2 (NaN -> 0);
        ``"no_clamp"``: no clamps, negative values bypass the power.
    direction : {"forward", "inverse"}, default "forward"
        ``"inverse"`` undoes the forward transform (OpenColorIO's inverse CDL).

    Input/output: float32 (H, W, 4); alpha untouched. NaN/Inf behaviour is in
    the module docstring. Bad values raise
    :class:`~pixelpipe.errors.ParameterError` via :meth:`from_config`.

    Example: ``CDL(slope=(1.1, 1, 0.9), power=1.2, saturation=0.9)``.
    """

    op_name: ClassVar[str] = "cdl"

    slope: tuple[NonNeg, NonNeg, NonNeg] = Field(
        (1.0, 1.0, 1.0), description="ASC CDL slope per channel (R, G, B), >= 0; "
        "a scalar is broadcast", json_schema_extra={"unit": "gain"})
    offset: tuple[Finite, Finite, Finite] = Field(
        (0.0, 0.0, 0.0), description="ASC CDL offset per channel (R, G, B), added after "
        "the slope; a scalar is broadcast", json_schema_extra={"unit": "code value"})
    power: tuple[Positive, Positive, Positive] = Field(
        (1.0, 1.0, 1.0), description="ASC CDL power per channel (R, G, B), > 0; "
        "a scalar is broadcast", json_schema_extra={"unit": "exponent"})
    saturation: float = Field(
        1.0, ge=0.0, allow_inf_nan=False,
        description="ASC CDL saturation around Rec.709 luma (0 = grey, 1 = unchanged)",
        json_schema_extra={"unit": "factor"})
    style: Literal["asc", "no_clamp"] = Field(
        "asc", description='"asc": clamp to [0, 1] as ASC CDL v1.2; "no_clamp": no clamps, '
        "negative values bypass the power (OpenColorIO CDL_NO_CLAMP)")
    direction: Literal["forward", "inverse"] = Field(
        "forward", description='"forward" applies the CDL, "inverse" undoes it')

    @field_validator("slope", "offset", "power", mode="before")
    @classmethod
    def _scalar_to_rgb(cls, v: Any) -> Any:
        return _broadcast3(v)

    # --- the values the kernels use (identical on both backends) -----------
    def render_params(self) -> tuple[Array, Array, Array, np.float32]:
        """float32 (slope, offset, power, saturation) as applied.

        Forward: the parameters themselves. Inverse: ``1/max(slope, 0.01)``,
        ``-offset``, ``1/max(power, 0.01)``, ``1/max(saturation, 0.01)``.
        """
        slope = np.asarray(self.slope, np.float32)
        offset = np.asarray(self.offset, np.float32)
        power = np.asarray(self.power, np.float32)
        sat = np.float32(self.saturation)
        if self.direction == "inverse":
            return _rcp(slope), -offset, _rcp(power), np.float32(_rcp(sat))
        return slope, offset, power, sat

    def reference(self, x: Array) -> Array:
        xp = array_namespace(x)
        slope, offset, power, sat = (xp.asarray(v) for v in self.render_params())
        clamp = self.style == "asc"
        f32 = xp.float32

        def clamp01(v: Array) -> Array:
            # NaN -> 0, +Inf -> 1, -Inf -> 0 (the comparison is False for NaN)
            return xp.where(v > 0, xp.minimum(v, f32(1.0)), f32(0.0))

        def pw(v: Array) -> Array:
            if clamp:
                return xp.power(clamp01(v), power)
            with np.errstate(invalid="ignore"):
                p = xp.power(xp.maximum(v, f32(0.0)), power)
            out = xp.where(v < 0, v, p)
            return xp.where(xp.isnan(v), f32(0.0), out)

        def saturate(v: Array) -> Array:
            luma = (v[..., 0:1] * f32(LUMA_REC709[0]) + v[..., 1:2] * f32(LUMA_REC709[1])) \
                + v[..., 2:3] * f32(LUMA_REC709[2])
            return luma + sat * (v - luma)

        v = x[..., :3]
        with np.errstate(invalid="ignore", over="ignore"):
            if self.direction == "forward":
                v = pw(v * slope + offset)
                v = saturate(v)
                if clamp:
                    v = clamp01(v)
            else:
                if clamp:
                    v = clamp01(v)
                v = pw(saturate(v))
                v = (v + offset) * slope
                if clamp:
                    v = clamp01(v)
        out = x.copy()
        out[..., :3] = v.astype(xp.float32, copy=False)
        return out

    def wgsl(self) -> str:
        return load_wgsl(__package__, "cdl.wgsl")

    def params(self) -> Array:
        slope, offset, power, sat = self.render_params()
        p = pack_params(slope, offset, power, sat)
        p[0, 3] = 1.0 if self.style == "asc" else 0.0
        p[1, 3] = 1.0 if self.direction == "inverse" else 0.0
        return p
