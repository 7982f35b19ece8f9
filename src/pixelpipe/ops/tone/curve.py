"""Point tone curves: master RGB, red, green, blue and luma (``tone_curve``).

Algorithm
---------
Each curve is given by 2 to 32 points ``(x_i, y_i)`` in [0, 1] with ``x``
strictly increasing, and is the monotone piecewise cubic Hermite
interpolant of Fritsch & Carlson ("Monotone piecewise cubic interpolation",
SIAM J. Numer. Anal. 17(2), 1980), computed on the host in float64:

1. secants ``d_i = (y_{i+1} - y_i) / (x_{i+1} - x_i)``;
2. tangents: ``m_i = (d_{i-1} + d_i) / 2`` inside when both secants have the
   same sign, ``m_i = 0`` where they differ or one is 0 (a local extremum or
   a flat run), and the one-sided secant at the two ends;
3. monotonicity: on each segment with ``d_i != 0``, with ``a = m_i / d_i``
   and ``b = m_{i+1} / d_i``, if ``a^2 + b^2 > 9`` both tangents are scaled by
   ``3 / sqrt(a^2 + b^2)`` (Fritsch & Carlson's circle condition, sufficient
   for a monotone cubic on the segment);
4. per segment the cubic in ``s = x - x_i``:
   ``y = y_i + s (c1 + s (c2 + s c3))`` with ``c1 = m_i``,
   ``c2 = (3 d_i - 2 m_i - m_{i+1}) / h_i`` and ``c3 = (m_i + m_{i+1} - 2 d_i) / h_i^2``.

The curve passes through every point, is C1, and is monotone on every
segment (no overshoot): increasing points give an increasing curve. Two
points give the straight line through them, exactly.

**Outside [x_0, x_N]** the curve continues as a straight line with the end
tangent (``y_0 + m_0 (x - x_0)`` and ``y_N + m_N (x - x_N)``), not flat. So
the curve [(0, 0), (1, 1)] is the identity on every value, HDR and negative
values keep their order and information, and the result stays monotone. A
curve whose last point is (0.9, 1) still maps every input above 0.9 to 1 or
more, which the output encoding shows as white, as a clipping end point
does in other developers; only the ops after it see the values above 1. An
infinite input maps to the limit of that line (the end value where the end
tangent is 0).

**Order.** ``rgb`` (the master curve) on each of R, G and B, then ``red``,
``green`` and ``blue`` on their own channel, then ``luma``. The luma curve
is applied to ``Y = 0.2627 R + 0.6780 G + 0.0593 B``, the ITU-R BT.2020 luma
of the encoded values (the Rec.2020 weights, because the working space is
Rec.2020), and RGB is scaled by ``L(Y) / Y``: a luminance-only adjustment
that keeps the ratios R:G:B (hue and saturation). Where ``Y <= 0`` (black,
or negative luma from out-of-gamut values) the ratio is undefined; there the
difference ``L(Y) - Y`` is added to each channel instead (a shift along the
grey axis), so a curve that lifts black lifts black pixels. A pixel whose
luma is not finite (a NaN or infinite channel) is left to the luma curve as
it is. Alpha is untouched; NaN stays NaN in every curve.

A curve that is None or exactly [(0, 0), (1, 1)] is skipped, so those are
exact identities (:meth:`ToneCurve.is_identity`).

Precision: the reference evaluates the float64 coefficients in float64 and
rounds to float32; the WebGPU kernel evaluates the same Horner form in
float32 with knots and coefficients rounded to float32 (a linear scan over
the knots finds the segment). They agree to 1e-5 relative for curves whose
slope stays below about 20 (``tests/ops/test_tone.py``); the residue is the
float32 rounding of ``s`` (about ``6e-8``) times the local slope, so very
steep curves (points 0.001 apart) agree less closely.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

import numpy as np
import numpy.typing as npt
from pydantic import Field, WithJsonSchema, field_validator

from pixelpipe.ops.base import Array, PointwiseOp, array_namespace, load_wgsl, pack_params
from pixelpipe.ops.color.saturation import LUMA_WEIGHTS

#: Number of points a curve may have.
MIN_POINTS, MAX_POINTS = 2, 32
#: The neutral curve.
IDENTITY: tuple[tuple[float, float], ...] = ((0.0, 0.0), (1.0, 1.0))
#: Curve names in the order they are applied.
CURVES = ("rgb", "red", "green", "blue", "luma")

#: The points of a curve: 2..32 (x, y) pairs in [0, 1] (TOML/JSON: a list of 2-item
#: lists). Checked by ``ToneCurve._points`` (one clear message per problem).
Points = Annotated[tuple[tuple[float, float], ...], WithJsonSchema({
    "type": "array", "minItems": MIN_POINTS, "maxItems": MAX_POINTS,
    "items": {"type": "array", "minItems": 2, "maxItems": 2,
              "items": {"type": "number", "minimum": 0.0, "maximum": 1.0}}})]


def fritsch_carlson(points: Points) -> npt.NDArray[np.float64]:
    """Float64 ``(n, 5)`` rows ``(x_i, y_i, c1, c2, c3)`` of the monotone cubic through ``points``.

    Row ``i < n-1`` is the cubic of segment ``[x_i, x_{i+1}]``; the last row
    holds the end tangent as ``c1`` and ``c2 = c3 = 0`` (the straight line
    past the end). See the module docstring for the steps.
    """
    p = np.asarray(points, np.float64)
    x, y = p[:, 0], p[:, 1]
    n = x.size
    h = np.diff(x)
    d = np.diff(y) / h
    m = np.empty(n)
    m[0], m[-1] = d[0], d[-1]
    for i in range(1, n - 1):
        m[i] = 0.0 if d[i - 1] * d[i] <= 0.0 else 0.5 * (d[i - 1] + d[i])
    for i in range(n - 1):
        if d[i] == 0.0:
            m[i] = m[i + 1] = 0.0
            continue
        a, b = m[i] / d[i], m[i + 1] / d[i]
        r2 = a * a + b * b
        if r2 > 9.0:
            tau = 3.0 / np.sqrt(r2)
            m[i], m[i + 1] = tau * a * d[i], tau * b * d[i]
    rows = np.zeros((n, 5))
    rows[:, 0], rows[:, 1], rows[:, 2] = x, y, m
    rows[:-1, 3] = (3.0 * d - 2.0 * m[:-1] - m[1:]) / h
    rows[:-1, 4] = (m[:-1] + m[1:] - 2.0 * d) / (h * h)
    return rows


def evaluate(xp: Any, v: Any, rows: npt.NDArray[np.float64]) -> Any:
    """The curve with coefficient ``rows`` (from :func:`fritsch_carlson`) at float64 ``v``.

    Inside ``[x_0, x_N)``: the segment's cubic in Horner form; outside: the
    straight line with the end tangent (its ``c1 * s`` term left out where
    ``c1 = 0``, so an infinite input gives the end value). NaN -> NaN.
    """
    r = xp.asarray(rows)
    knots = r[:, 0]
    n = knots.shape[0]
    k = xp.clip(xp.searchsorted(knots, v, side="right") - 1, 0, n - 1)
    k = xp.where(xp.isnan(v), 0, k)
    seg = r[k]
    y0, c1, c2, c3 = seg[..., 1], seg[..., 2], seg[..., 3], seg[..., 4]
    with np.errstate(invalid="ignore", over="ignore"):
        s = v - seg[..., 0]
        cubic = y0 + s * (c1 + s * (c2 + s * c3))
        line = y0 + xp.where(c1 == 0.0, 0.0, c1 * s)
        outside = (v < knots[0]) | (v >= knots[n - 1])
        return xp.where(outside, line, cubic)


class ToneCurve(PointwiseOp):
    """Point curves through user points (monotone cubic, Fritsch & Carlson 1980).

    Parameters
    ----------
    rgb, red, green, blue, luma : list of (x, y) or None, default None
        2 to 32 points in [0, 1] with ``x`` strictly increasing. ``rgb`` acts
        on R, G and B; ``red``/``green``/``blue`` on one channel; ``luma`` on
        the Rec.2020 luma, scaling RGB by ``L(Y)/Y``. Applied in that order.
        None or [(0, 0), (1, 1)] = no change. Stored as tuples.

    Input/output: float32 (H, W, 4), sRGB-encoded Rec.2020 RGB expected;
    alpha untouched; outside the first and last point each curve continues
    as a straight line with its end tangent. A wrong number of points, a
    value outside [0, 1], NaN/Inf or non-increasing ``x`` raises
    :class:`~pixelpipe.errors.ParameterError` via :meth:`from_config`.
    """

    op_name: ClassVar[str] = "tone_curve"

    rgb: Points | None = Field(None, description="master curve on R, G and B: 2..32 (x, y) "
                               "points in 0..1, x strictly increasing",
                               json_schema_extra={"unit": "encoded value"})
    red: Points | None = Field(None, description="curve on R: 2..32 (x, y) points in 0..1",
                               json_schema_extra={"unit": "encoded value"})
    green: Points | None = Field(None, description="curve on G: 2..32 (x, y) points in 0..1",
                                 json_schema_extra={"unit": "encoded value"})
    blue: Points | None = Field(None, description="curve on B: 2..32 (x, y) points in 0..1",
                                json_schema_extra={"unit": "encoded value"})
    luma: Points | None = Field(None, description="curve on Rec.2020 luma, RGB scaled by the "
                                "ratio: 2..32 (x, y) points in 0..1",
                                json_schema_extra={"unit": "encoded value"})

    @field_validator(*CURVES)
    @classmethod
    def _points(cls, v: Points | None) -> Points | None:
        if v is None:
            return None
        if not MIN_POINTS <= len(v) <= MAX_POINTS:
            raise ValueError(f"a curve has {MIN_POINTS}..{MAX_POINTS} points, got {len(v)}")
        for i, (x, y) in enumerate(v):
            if not (np.isfinite(x) and np.isfinite(y) and 0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
                raise ValueError(f"point {i} ({x}, {y}) is outside [0, 1]")
            if i and not x > v[i - 1][0]:
                raise ValueError(f"point {i}: x = {x} is not above the previous "
                                 f"x = {v[i - 1][0]} (x must be strictly increasing)")
        return tuple((float(x), float(y)) for x, y in v)

    def active(self) -> dict[str, Points]:
        """The curves that change something, by name, in the order they apply."""
        out = {}
        for name in CURVES:
            pts = getattr(self, name)
            if pts is not None and pts != IDENTITY:
                out[name] = pts
        return out

    def is_identity(self) -> bool:
        return not self.active()

    def reference(self, x: Array) -> Array:
        xp = array_namespace(x)
        curves = {k: fritsch_carlson(p) for k, p in self.active().items()}
        v = xp.asarray(x[..., :3], xp.float64)
        if "rgb" in curves:
            v = evaluate(xp, v, curves["rgb"])
        for c, name in enumerate(("red", "green", "blue")):
            if name in curves:
                v[..., c] = evaluate(xp, v[..., c], curves[name])
        if "luma" in curves:
            w = LUMA_WEIGHTS["rec2020"]
            with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
                y = (v[..., 0] * w[0] + v[..., 1] * w[1]) + v[..., 2] * w[2]
                lum = evaluate(xp, y, curves["luma"])
                ratio = v * (lum / xp.where(y > 0.0, y, 1.0))[..., None]
                shift = v + (lum - y)[..., None]
                mapped = xp.where((y > 0.0)[..., None], ratio, shift)
                v = xp.where(xp.isfinite(y)[..., None], mapped, v)
        out = x.copy()
        out[..., :3] = v
        return out

    def wgsl(self) -> str:
        return load_wgsl(__package__, "curve.wgsl")

    def params(self) -> Array:
        active = self.active()
        rows = {k: fritsch_carlson(p) for k, p in active.items()}
        counts = [rows[k].shape[0] if k in rows else 0 for k in CURVES]
        w = LUMA_WEIGHTS["rec2020"]
        blocks = [pack_params(counts[:4], (counts[4], w[0], w[1], w[2]))]
        for name in CURVES:
            if name in rows:
                r = rows[name]
                b = np.zeros((2 * r.shape[0], 4), np.float32)
                b[0::2] = r[:, :4]
                b[1::2, 0] = r[:, 4]
                blocks.append(b)
        return np.concatenate(blocks)
