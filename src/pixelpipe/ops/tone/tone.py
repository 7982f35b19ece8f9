"""Basic tone: contrast, highlights, shadows, whites, blacks (``tone``).

Algorithm
---------
The five sliders of a raw developer's "Basic" panel, as one pointwise op on
perceptual RGB: sRGB-encoded (IEC 61966-2-1 transfer function) Rec.2020
values, nominally 0..1 (values outside are allowed and handled). Each slider
``s`` runs from -100 to 100; 0 is neutral. Every formula is our own; the
division of labour follows the Lightroom / Camera Raw "Basic" panel
(blacks and whites move the end points, shadows and highlights shape the
tonal ranges between them, contrast is an S-curve about mid-grey), with
darktable's tone equaliser (luminance-weighted gains) as inspiration for
applying the curve as a gain.

**Luma and the gain.** ``Y = 0.2627 R + 0.6780 G + 0.0593 B`` is the
ITU-R BT.2020 luma of the encoded values (the weights of the Rec.2020
working space; they sum to 1). Whites, contrast, highlights and shadows are
each a gain ``g(Y)`` applied to all three channels: ``rgb <- g * rgb`` and
``Y <- g * Y`` (the luma of the scaled pixel), in that order; ``T(Y) = g Y``
below is the stage's curve on the grey axis. A common gain
keeps the ratios R:G:B, so hue and saturation of the encoded values are
kept; because the sRGB encoding is close to a power law, the ratios of the
linear values are nearly kept too. A per-channel curve would instead shift
hue (orange towards yellow or red) and raise saturation with contrast, the
known fault of RGB curves. The gain is a function of ``Yc = clamp(Y, 0, 1)``:
above 1 each stage applies the gain at 1 (whites: ``1 ± 0.2``, the others:
1), and where ``Y <= 0`` the gain is 1 (the stage leaves the pixel alone;
``T`` is continuous there because ``T(0) = 0``). So each stage is linear
outside [0, 1] and stays monotone in its input and its slider. Each gain is
written in closed form (no division by a luma that can be 0).

**Blacks** is the only stage applied per channel, first: a gain cannot move
black (``g * 0 = 0``), and moving the black point is the slider's job. For
each channel ``v``, with ``vc = clamp(v, 0, 1)`` and ``k_b = 0.4 s / 100``::

    v <- v + k_b * 0.25 * max(0, 1 - vc / 0.25)^2

Black moves to ``±0.1`` (+100 lifts it, a faded black; -100 crushes: inputs
up to about 0.05 map to 0 or below); the effect fades out quadratically by
0.25, so it stays in the toe where hue shifts matter least. Slope
``1 - 2 k_b (1 - vc/0.25) >= 0.2``.

**Whites** (``k_w = 0.4 s / 100``, ``t = max(0, (Yc - 0.5) / 0.5)``)::

    T(Y) = Y + 0.5 k_w t^2        on [0.5, 1];   g = 1 + 0.5 k_w t^2 / max(Yc, 0.5)

White moves to ``1 ± 0.2`` (above luma 1 the gain at 1, ``1 ± 0.2``, carries
on); luma up to 0.5 is untouched. Slope ``1 + 2 k_w t >= 0.2``.

**Contrast** (``a = 0.75 s / 100``) about the pivot ``p``, the sRGB encoding
of 18 % grey (``p = 1.055 * 0.18^(1/2.4) - 0.055 = 0.46135``: scene
mid-grey, not the encoded half-way 0.5, so a correctly exposed grey card
stays put)::

    Y <= p:  T(Y) = Y - a Y (1 - Y/p)                  g = 1 - a (1 - Yc/p)
    Y >= p:  T(Y) = Y + a (1 - Y) (1 - (1-Y)/(1-p))    g = T(Yc) / max(Yc, p)

Both halves are the quadratic ``f(t) = t + a t (t - 1)``: ``T = p f(Y/p)``
below the pivot and ``T = 1 - (1-p) f((1-Y)/(1-p))`` above. 0, ``p`` and 1
are fixed, the slope at the pivot is ``1 + a`` (1.75 at +100, 0.25 at -100)
and at the ends ``1 - a``; the curve is C1 and strictly increasing for
``|a| < 1``.

**Highlights** (``k_h = 0.9 s / 100``, ``t = max(0, (Yc - 0.25) / 0.75)``)
move luma towards white (or away from it) by a share of its distance to
white::

    T(Y) = Y + k_h t^2 (1 - Y)       g = 1 + k_h t^2 (1 - Yc) / max(Yc, 0.25)

**Shadows** (``k_s = 0.9 s / 100``, ``t = max(0, 1 - Yc / 0.75)``) move luma
away from black by a share of its distance to black::

    T(Y) = Y + k_s t^2 Y             g = 1 + k_s t^2

The masks ``t^2`` are smoothstep-like (0 with zero slope at the far edge of
the range, 1 at the end point): highlights leave every luma below 0.25
exactly unchanged and shadows every luma above 0.75. Neither moves 0 or 1.
The largest change is ``0.1`` (at luma 0.75 for highlights, 0.25 for
shadows) and the slopes stay in ``[1 - k, 1 + k]`` (highlights:
``1 + k_h (2 t (1 - t) - t^2)``), so both are strictly increasing for
``|k| < 1``. Negative highlights steepen the curve near white (more
separation of the brightest tones), positive shadows near black.

Every stage is monotone in its input and in its slider, so the chain is
too: no tone reversals on the grey axis, and none along any ray ``k * rgb``
from black for the gain stages. A slider at 0 gives a gain of exactly 1 or
an offset of exactly 0: all zero is the identity (:meth:`Tone.is_identity`).

Brightening stages scale all three channels, so a strongly saturated colour
(a pure blue has a luma of 0.06) can be pushed above 1 by shadows or whites;
this op does not clip (clipping is the output encoding's job).

NaN in any channel makes R, G and B NaN (its luma is NaN); ±Inf in a channel
stays ±Inf and the pixel's other channels get the gain of the nearest end.

Precision: the reference computes in float64 and rounds to float32; the
WebGPU kernel evaluates the same expressions in float32 (with parameters
rounded to float32, fused multiply-adds allowed). They agree to 1e-5
(relative above 1, absolute below; measured 3e-7, ``tests/ops/test_tone.py``).
One exception: the gain steps from ``g(0)`` to 1 where luma crosses 0, so a
pixel whose negative and positive channels cancel to a luma within float32
rounding of 0 (far outside the Rec.2020 gamut) may land on different sides
on the two backends.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from pixelpipe.ops.base import Array, PointwiseOp, array_namespace, load_wgsl, pack_params
from pixelpipe.ops.color.saturation import LUMA_WEIGHTS
from pixelpipe.ops.color.transfer import encode

#: The contrast pivot: sRGB encoding of 18 % (scene mid-grey), 0.46135...
PIVOT = float(encode(np, np.float64(0.18), "srgb"))
#: Contrast: ``a = CONTRAST_STRENGTH * contrast / 100`` (slope at the pivot ``1 + a``).
CONTRAST_STRENGTH = 0.75
#: Highlights / shadows: gain of the mask, ``k = RANGE_STRENGTH * slider / 100``.
RANGE_STRENGTH = 0.9
#: Luma where the highlights mask starts (0 below).
HIGHLIGHTS_START = 0.25
#: Luma where the shadows mask ends (0 above).
SHADOWS_END = 0.75
#: Luma where the whites mask starts; the white end point moves by ``(1 - start) * k_w``.
WHITES_START = 0.5
#: Channel value where the blacks offset ends; the black point moves by ``BLACKS_END * k_b``.
BLACKS_END = 0.25
#: Whites / blacks: ``k = ENDPOINT_STRENGTH * slider / 100``.
ENDPOINT_STRENGTH = 0.4

def _slider(what: str) -> Any:
    return Field(0.0, ge=-100.0, le=100.0, allow_inf_nan=False, description=what,
                 json_schema_extra={"unit": "slider"})


class Tone(PointwiseOp):
    """Contrast, highlights, shadows, whites and blacks on perceptual RGB.

    Parameters
    ----------
    contrast : float, -100 to 100, default 0
        S-curve about the sRGB encoding of 18 % grey (0.4614): +100 raises
        the slope at mid-grey to 1.75, -100 lowers it to 0.25; 0 and 1 stay.
    highlights : float, -100 to 100, default 0
        Lowers (negative) or raises (positive) luma above 0.25, most at 0.75
        (by up to 0.1); 0 and 1 stay.
    shadows : float, -100 to 100, default 0
        Raises (positive) or lowers (negative) luma below 0.75, most at 0.25
        (by up to 0.1); 0 and 1 stay.
    whites : float, -100 to 100, default 0
        Moves the white end point to ``1 ± 0.2`` (luma above 0.5 only).
    blacks : float, -100 to 100, default 0
        Moves the black point per channel to ``±0.1`` (values below 0.25 only).

    Input/output: float32 (H, W, 4), sRGB-encoded Rec.2020 RGB (the algorithm
    note in the module docstring gives the math and its sources); alpha
    untouched; NaN in a channel makes R, G and B NaN. Out-of-range sliders
    raise :class:`~pixelpipe.errors.ParameterError` via :meth:`from_config`.
    """

    op_name: ClassVar[str] = "tone"

    contrast: float = _slider("S-curve about mid-grey (sRGB encoding of 18 %): "
                              "+100 = slope 1.75 at the pivot, -100 = 0.25")
    highlights: float = _slider("moves luma above 0.25 towards white (+) or down (-), "
                                "by up to 0.1 at 0.75")
    shadows: float = _slider("moves luma below 0.75 up (+) or towards black (-), "
                             "by up to 0.1 at 0.25")
    whites: float = _slider("white end point: +100 maps luma 1 to 1.2, -100 to 0.8")
    blacks: float = _slider("black point per channel: +100 lifts 0 to 0.1, -100 to -0.1 "
                            "(crushes the toe)")

    def is_identity(self) -> bool:
        return (self.contrast == 0.0 and self.highlights == 0.0 and self.shadows == 0.0
                and self.whites == 0.0 and self.blacks == 0.0)

    def coefficients(self) -> dict[str, float]:
        """The float64 stage coefficients (``a``, ``k_h``, ``k_s``, ``k_w``, ``k_b``)."""
        return {
            "a": CONTRAST_STRENGTH * self.contrast / 100.0,
            "k_h": RANGE_STRENGTH * self.highlights / 100.0,
            "k_s": RANGE_STRENGTH * self.shadows / 100.0,
            "k_w": ENDPOINT_STRENGTH * self.whites / 100.0,
            "k_b": ENDPOINT_STRENGTH * self.blacks / 100.0,
        }

    def reference(self, x: Array) -> Array:
        xp = array_namespace(x)
        k = self.coefficients()
        p = PIVOT
        w = LUMA_WEIGHTS["rec2020"]
        with np.errstate(invalid="ignore", over="ignore"):
            v = xp.asarray(x[..., :3], xp.float64)
            # blacks, per channel
            vc = xp.clip(v, 0.0, 1.0)
            tb = xp.maximum(0.0, 1.0 - vc / BLACKS_END)
            v = v + (k["k_b"] * BLACKS_END) * tb * tb
            y = (v[..., 0] * w[0] + v[..., 1] * w[1]) + v[..., 2] * w[2]
            gain = xp.ones_like(y)

            def apply(g: Any) -> None:
                nonlocal y, gain
                g = xp.where(y > 0.0, g, 1.0)
                gain = gain * g
                y = y * g

            # whites
            yc = xp.clip(y, 0.0, 1.0)
            t = xp.maximum(0.0, (yc - WHITES_START) / (1.0 - WHITES_START))
            apply(1.0 + (k["k_w"] * (1.0 - WHITES_START)) * t * t
                  / xp.maximum(yc, WHITES_START))
            # contrast
            yc = xp.clip(y, 0.0, 1.0)
            lo = 1.0 - k["a"] * (1.0 - yc / p)
            u = 1.0 - yc
            hi = 1.0 + k["a"] * u * (1.0 - u / (1.0 - p)) / xp.maximum(yc, p)
            apply(xp.where(yc <= p, lo, hi))
            # highlights
            yc = xp.clip(y, 0.0, 1.0)
            t = xp.maximum(0.0, (yc - HIGHLIGHTS_START) / (1.0 - HIGHLIGHTS_START))
            apply(1.0 + k["k_h"] * t * t * (1.0 - yc) / xp.maximum(yc, HIGHLIGHTS_START))
            # shadows
            yc = xp.clip(y, 0.0, 1.0)
            t = xp.maximum(0.0, 1.0 - yc / SHADOWS_END)
            apply(1.0 + k["k_s"] * t * t)

            rgb = v * gain[..., None]
            rgb = xp.where(xp.isnan(y)[..., None], xp.nan, rgb)
        out = x.copy()
        out[..., :3] = rgb
        return out

    def wgsl(self) -> str:
        return load_wgsl(__package__, "tone.wgsl")

    def params(self) -> Array:
        k = self.coefficients()
        w = LUMA_WEIGHTS["rec2020"]
        return pack_params(
            (PIVOT, k["a"], k["k_h"], k["k_s"]),
            (k["k_w"] * (1.0 - WHITES_START), k["k_b"] * BLACKS_END, 0.0, 0.0),
            (HIGHLIGHTS_START, SHADOWS_END, WHITES_START, BLACKS_END),
            (w[0], w[1], w[2], 0.0),
        )
