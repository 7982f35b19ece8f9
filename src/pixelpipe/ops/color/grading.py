"""Colour grading: shadows, midtones, highlights and global colour wheels.

Algorithm
---------
Input and output are sRGB-encoded Rec.2020 RGB (the perceptual stage of the
develop workflow). Per pixel:

1. luma ``Y' = 0.2627 R' + 0.6780 G' + 0.0593 B'`` of the encoded values
   (the ITU-R BT.2020 luma coefficients, as in BT.2020 non-constant-luminance
   Y'CbCr);
2. tonal masks from ``Y'``, a partition of unity::

       s1 = smoothstep(c1 - w, c1 + w, Y'),  s2 = smoothstep(c2 - w, c2 + w, Y')
       shadows = 1 - s1,  midtones = s1 - s2,  highlights = s2

   with ``smoothstep(e0, e1, x) = t^2 (3 - 2 t)``, ``t = clamp((x - e0) /
   (e1 - e0), 0, 1)``. The split points are ``c1 = 0.3 - 0.2 b`` and
   ``c2 = 0.7 - 0.2 b`` with ``b = balance / 100``: positive balance moves
   both down, so more of the image counts as highlights (and less as
   shadows); negative balance the other way. The transition half-width is
   ``w = 0.15 + 0.35 * blending / 100`` (blending 0: narrow transitions,
   wheels barely overlap; 100: each wheel reaches across most of the range).
   Midtones are never negative: ``s2 <= s1`` because both steps have the same
   width and ``c2 > c1``;
3. each wheel (hue ``theta``, saturation ``S``, luminance ``l``) is a
   constant RGB offset, computed once on the host::

       tint = 0.25 * (S / 100) * (hue_rgb(theta) - luma(hue_rgb(theta)))
       offset = tint + 0.1 * (l / 100) * (1, 1, 1)

   ``hue_rgb(theta)`` is the fully saturated colour of hue ``theta`` on the
   RGB hexcone (0 red, 60 yellow, 120 green, 180 cyan, 240 blue, 300
   magenta: the hue of HSV, Smith 1978). Subtracting its luma makes the tint
   a pure chroma offset: it has zero luma, because the luma weights sum to 1,
   so the tint changes the pixel's colour and leaves ``Y'`` as it is
   (luma-preserving). On a grey the result has exactly the wheel's hexcone
   hue. Saturation 100 adds a quarter of a fully saturated colour's chroma;
   luminance +-100 moves ``Y'`` by +-0.1 where the mask is 1;
4. ``out = rgb + shadows * O_s + midtones * O_m + highlights * O_h + O_g``
   (``O_g``: the global wheel, everywhere).

Because luminance offsets are at most 0.1 and mask slopes at most
``1.5 / (2 w) <= 5``, the output luma is a non-decreasing function of the
input luma for every setting on 0 <= Y' <= 1 (no tonal reversals).

Exact identities: a zero offset leaves the channel bit for bit, so
saturation 0 and luminance 0 on every wheel is the identity whatever hue,
balance and blending are. Pixels with NaN or Inf in R, G or B pass through
unchanged. Alpha is untouched. Output values may leave 0..1 (strong tints of
near-black or near-white pixels); the output stage clips.

Semantics follow the colour-wheel grading of photo developers and grading
tools (three tonal wheels plus a global one, balance, blending); the masks
and the chroma-offset tint are this project's own. The luma coefficients are
ITU-R BT.2020-2 table 4; smoothstep is the cubic Hermite step.

Precision: both backends evaluate the same float32-rounded offsets; the
kernel computes in float32, the reference in float64, and they agree to
1e-5 (relative above 1, absolute below).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from pixelpipe.ops.base import Array, PointwiseOp, array_namespace, load_wgsl
from pixelpipe.ops.color.saturation import LUMA_WEIGHTS

#: Chroma of a tint at saturation 100, as a fraction of the fully saturated hue's chroma.
TINT_GAIN = 0.25
#: Luma offset of a wheel at luminance 100 (encoded units).
LUMINANCE_GAIN = 0.1


def hue_rgb(hue: float) -> npt.NDArray[np.float64]:
    """Fully saturated RGB (3,) of hexcone hue ``hue`` degrees (HSV with S = V = 1)."""
    h = (hue % 360.0) / 60.0
    return np.clip(np.array([abs(h - 3.0) - 1.0, 2.0 - abs(h - 2.0), 2.0 - abs(h - 4.0)]),
                   0.0, 1.0)


class GradingWheel(BaseModel):
    """One colour wheel: a tint (hue, saturation) and a luminance offset.

    Saturation 0 and luminance 0 (the default) leave the image untouched.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    hue: float = Field(0.0, ge=0.0, le=360.0, allow_inf_nan=False,
                       description="tint hue on the RGB hexcone: 0 red, 60 yellow, 120 green, "
                       "180 cyan, 240 blue, 300 magenta", json_schema_extra={"unit": "degrees"})
    saturation: float = Field(0.0, ge=0.0, le=100.0, allow_inf_nan=False,
                              description="tint strength: 0 none, 100 = a quarter of a fully "
                              "saturated colour's chroma", json_schema_extra={"unit": "percent"})
    luminance: float = Field(0.0, ge=-100.0, le=100.0, allow_inf_nan=False,
                             description="luma offset: +-100 = +-0.1 in encoded units",
                             json_schema_extra={"unit": "percent"})

    def is_neutral(self) -> bool:
        return self.saturation == 0.0 and self.luminance == 0.0

    def offset(self) -> npt.NDArray[np.float64]:
        """The RGB offset (3,) float64 this wheel adds where its mask is 1."""
        w = np.asarray(LUMA_WEIGHTS["rec2020"])
        rgb = hue_rgb(self.hue)
        tint = TINT_GAIN * (self.saturation / 100.0) * (rgb - float(w @ rgb))
        return tint + LUMINANCE_GAIN * (self.luminance / 100.0)


def _wheel(**kwargs: Any) -> Any:
    return Field(default_factory=GradingWheel, **kwargs)


class ColorGrading(PointwiseOp):
    """Three-way colour wheels plus a global wheel (see the module docstring).

    Parameters
    ----------
    shadows, midtones, highlights, global_ : GradingWheel
        ``hue`` (degrees, 0 to 360), ``saturation`` (0 to 100), ``luminance``
        (-100 to 100). ``global_`` is called ``global`` in TOML files and
        configs (``global_=`` or ``**{"global": ...}`` in Python).
    balance : float, -100 to 100, default 0
        Moves the shadow / highlight split: positive favours highlights.
    blending : float, 0 to 100, default 50
        Overlap of the tonal masks.

    Input/output: float32 (H, W, 4), sRGB-encoded Rec.2020 RGB; alpha
    untouched; NaN/Inf pixels pass through. Out-of-range values raise
    :class:`~pixelpipe.errors.ParameterError` via :meth:`from_config`.
    """

    model_config = ConfigDict(populate_by_name=True)

    op_name: ClassVar[str] = "color_grading"

    shadows: GradingWheel = _wheel(description="wheel for dark tones")
    midtones: GradingWheel = _wheel(description="wheel for middle tones")
    highlights: GradingWheel = _wheel(description="wheel for bright tones")
    global_: GradingWheel = _wheel(alias="global", description="wheel for every tone")
    balance: float = Field(0.0, ge=-100.0, le=100.0, allow_inf_nan=False,
                           description="shadow / highlight split: positive moves it darker "
                           "(more highlights)", json_schema_extra={"unit": "percent"})
    blending: float = Field(50.0, ge=0.0, le=100.0, allow_inf_nan=False,
                            description="overlap of the shadow, midtone and highlight masks",
                            json_schema_extra={"unit": "percent"})

    def wheels(self) -> tuple[GradingWheel, ...]:
        """(shadows, midtones, highlights, global)."""
        return self.shadows, self.midtones, self.highlights, self.global_

    def is_identity(self) -> bool:
        return all(w.is_neutral() for w in self.wheels())

    def mask_params(self) -> tuple[float, float, float]:
        """``(c1, c2, w)``: shadow/midtone and midtone/highlight split points, half-width."""
        b = self.balance / 100.0
        return 0.3 - 0.2 * b, 0.7 - 0.2 * b, 0.15 + 0.35 * self.blending / 100.0

    def masks(self, luma: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], ...]:
        """float64 (shadows, midtones, highlights) masks for luma values ``luma`` (any shape)."""
        c1, c2, w = (float(np.float32(v)) for v in self.mask_params())

        def step(c: float, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
            t = np.clip((x - (c - w)) / (2.0 * w), 0.0, 1.0)
            return t * t * (3.0 - 2.0 * t)

        s1, s2 = step(c1, luma), step(c2, luma)
        return 1.0 - s1, s1 - s2, s2

    def reference(self, x: Array) -> Array:
        if array_namespace(x) is not np:  # pragma: no cover - no CuPy in CI
            import cupy

            return cupy.asarray(self.reference(cupy.asnumpy(x)))
        p = self.params().astype(np.float64)
        out = x.copy()
        rgb32 = x[..., :3]
        finite: npt.NDArray[np.bool_] = np.asarray(np.isfinite(rgb32).all(axis=-1))
        rgb = np.where(finite[..., None], rgb32, 0.0).astype(np.float64)
        luma = rgb @ p[0, :3]
        sh, mid, hi = self.masks(luma)
        off = (sh[..., None] * p[2, :3] + mid[..., None] * p[3, :3] + hi[..., None] * p[4, :3]
               + p[5, :3])
        new = np.where(off == 0.0, rgb32, (rgb + off).astype(np.float32))
        out[..., :3] = np.where(finite[..., None], new, rgb32)
        return out

    def wgsl(self) -> str:
        return load_wgsl(__package__, "grading.wgsl")

    def params(self) -> Array:
        """Rows: luma weights, (c1, c2, w), then the offsets of shadows, midtones,
        highlights and global."""
        rows = np.zeros((6, 4), np.float64)
        rows[0, :3] = LUMA_WEIGHTS["rec2020"]
        rows[1, :3] = self.mask_params()
        for i, wheel in enumerate(self.wheels()):
            rows[2 + i, :3] = wheel.offset()
        return rows.astype(np.float32)
