"""Vignette: darken or lighten the image towards its corners.

Algorithm (full note with the reasoning in ``docs/ops/vignette.md``)
-------------------------------------------------------------------
For the pixel centre ``(X + 0.5, Y + 0.5)`` in full-image coordinates
(this image's pixel plus :attr:`Vignette.origin`), full image ``Hf x Wf``
(:attr:`Vignette.image_size`, default this image), centre
``(cx, cy) = (Wf / 2, Hf / 2)``::

    elliptical:  r = sqrt(((X + 0.5 - cx) / cx)^2 + ((Y + 0.5 - cy) / cy)^2) / sqrt(2)
    circular:    r = sqrt((X + 0.5 - cx)^2 + (Y + 0.5 - cy)^2) / sqrt(cx^2 + cy^2)

so ``r = 0`` at the centre and ``r = 1`` at the corners in both shapes;
elliptical contours follow the frame's aspect ratio, circular ones are
circles (in pixels). The falloff band starts at ``r0`` and reaches full
strength at ``r1``::

    r0 = 0.8 * midpoint / 100
    r1 = r0 + (1 - r0) * (0.1 + 0.9 * feather / 100)
    t  = clamp((r - r0) / (r1 - r0), 0, 1)
    s  = t^2 (3 - 2 t)                         (smoothstep: C1 at both ends)
    k  = |amount| / 100 * s

and the colour (perceptual, sRGB-encoded values) becomes::

    amount < 0 (darken):   out = c (1 - k)          towards black
    amount > 0 (lighten):  out = c (1 - k) + k      towards white

Why this form: darkening multiplies every channel by the same factor,
which keeps hue and the ratios between channels, like the optical falloff
of a lens; lightening is its mirror image about white (a "screen" with
``k``), so values stay within 0..1 and corners reach white, not a clipped
overexposure, at +100. Working on the perceptual values (the stage runs
last in the develop order, on sRGB-encoded Rec.2020) makes the slider's
effect perceptually even; a multiplication of sRGB-encoded values by
``1 - k`` is close to a linear-light gain of ``(1 - k)^2.4`` (the exposure-like
behaviour of optical vignetting, Lightroom's "highlight priority" style
is beyond scope). The corners always reach full strength (``r1 <= 1``), so
amount -100 gives black corners; ``feather`` 0 still leaves a band of 10 %
of the distance to the corners, which keeps the falloff continuous (a hard
edge would make CPU and GPU disagree by a whole step at pixels on the edge).

Precision: float32 on both backends; the GPU's ``sqrt`` and fused
multiply-adds differ by ulps, amplified at most by the smoothstep slope
``1.5 / (r1 - r0)`` (at most 1.5 / 0.02 = 75): agreement to about 1e-5 of the
value (tests: 2e-5). Alpha untouched.

Non-finite values: NaN stays NaN; ±Inf stays ±Inf where ``k < 1`` and
becomes NaN (IEEE ``inf * 0``) where the vignette reaches full strength.

Sources: the smoothstep polynomial (Hermite interpolation, as GLSL/WGSL
``smoothstep``); optical vignetting and the cos^4 law: E. Hecht, *Optics*,
and S. F. Ray, *Applied Photographic Optics*, 3rd ed., ch. 5.
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from pixelpipe.errors import ParameterError
from pixelpipe.ops.base import Array, GpuPass, Op, OpKind, array_namespace, load_wgsl, pack_params

#: Coordinates and sizes are carried as float32: exact up to 2^24.
MAX_COORD = 2**24


class Vignette(Op):
    """Darken (amount < 0) or lighten (amount > 0) towards the corners.

    Parameters
    ----------
    amount : float, -100 to 100, default 0
        Strength at the corners: -100 makes them black, +100 white; 0 is the identity.
    shape : "elliptical" | "circular", default "elliptical"
        Elliptical follows the frame's aspect ratio; circular is round in pixels.
    midpoint : float, 0 to 100, default 50
        Where the falloff starts: at ``0.8 * midpoint`` % of the centre-to-corner
        distance (normalised radius).
    feather : float, 0 to 100, default 50
        Softness: the band from the start of the falloff to full strength spans
        ``10 + 0.9 * feather`` % of the distance from the start to the corners.
    image_size : (height, width) or None, default None
        Size of the full image when this image is a tile of it (tiling hook);
        None: this image is the full image.
    origin : (row, column), default (0, 0)
        Position of this image's top-left pixel in the full image (tiling hook).

    Input/output: float32 (H, W, 4), same size, perceptual (sRGB-encoded)
    values; alpha copied. Raises :class:`~pixelpipe.errors.ParameterError`
    for out-of-range fields (through :meth:`Op.from_config`) and, when run,
    if the image does not fit inside ``image_size`` at ``origin``.
    """

    op_name: ClassVar[str] = "vignette"
    kind: ClassVar[OpKind] = OpKind.NEIGHBORHOOD

    amount: float = Field(0.0, ge=-100.0, le=100.0,
                          description="strength at the corners: negative darkens, "
                                      "positive lightens",
                          json_schema_extra={"unit": "percent"})
    shape: Literal["elliptical", "circular"] = Field(
        "elliptical", description="elliptical (follows the frame's aspect) or circular")
    midpoint: float = Field(50.0, ge=0.0, le=100.0,
                            description="where the falloff starts: 0.8 * midpoint % of the "
                                        "centre-to-corner distance",
                            json_schema_extra={"unit": "percent"})
    feather: float = Field(50.0, ge=0.0, le=100.0,
                           description="softness: width of the falloff band, 10 + 0.9 * "
                                       "feather % of the way from its start to the corners",
                           json_schema_extra={"unit": "percent"})
    image_size: tuple[int, int] | None = Field(
        None, description="(height, width) of the full image when this is a tile of it "
                          "(tiling hook)", json_schema_extra={"unit": "pixels"})
    origin: tuple[int, int] = Field(
        (0, 0), description="(row, column) of this image's top-left pixel in the full "
                            "image (tiling hook)", json_schema_extra={"unit": "pixels"})

    def is_identity(self) -> bool:
        return self.amount == 0.0

    def radius(self) -> int:
        """0: the output pixel depends on the input pixel and its position only."""
        return 0

    # --- geometry ----------------------------------------------------------------
    def _geometry(self, height: int, width: int) -> tuple[float, float, float, float]:
        """(cx, cy, sx, sy): centre and per-axis scales of the normalised radius."""
        hf, wf = self.image_size if self.image_size is not None else (height, width)
        oy, ox = self.origin
        if min(hf, wf) < 1 or max(hf, wf, oy, ox) > MAX_COORD or min(oy, ox) < 0:
            raise ParameterError(
                f"op 'vignette': image_size {self.image_size} / origin {self.origin} out of "
                f"range (sizes 1..{MAX_COORD}, origin 0..{MAX_COORD})")
        if oy + height > hf or ox + width > wf:
            raise ParameterError(
                f"op 'vignette': an image of {height}x{width} at origin {self.origin} does "
                f"not fit in image_size {hf}x{wf}")
        cx, cy = wf / 2.0, hf / 2.0
        if self.shape == "elliptical":
            return cx, cy, 1.0 / (cx * math.sqrt(2.0)), 1.0 / (cy * math.sqrt(2.0))
        s = 1.0 / math.hypot(cx, cy)
        return cx, cy, s, s

    def band(self) -> tuple[float, float]:
        """(r0, 1 / (r1 - r0)): start of the falloff and inverse width of the band."""
        r0 = 0.8 * self.midpoint / 100.0
        width = (1.0 - r0) * (0.1 + 0.9 * self.feather / 100.0)
        return r0, 1.0 / width

    def strength(self, height: int, width: int) -> Array:
        """``k`` of every pixel: float32 (height, width), 0 (no effect) to |amount| / 100."""
        cx, cy, sx, sy = (np.float32(v) for v in self._geometry(height, width))
        r0, inv_w = (np.float32(v) for v in self.band())
        oy, ox = self.origin
        px = np.arange(ox, ox + width, dtype=np.float32) + np.float32(0.5)
        py = np.arange(oy, oy + height, dtype=np.float32) + np.float32(0.5)
        dx = ((px - cx) * sx)[None, :]
        dy = ((py - cy) * sy)[:, None]
        r = np.sqrt(dx * dx + dy * dy)
        t = np.clip((r - r0) * inv_w, np.float32(0.0), np.float32(1.0))
        s = t * t * (np.float32(3.0) - np.float32(2.0) * t)
        return (np.float32(abs(self.amount) / 100.0) * s).astype(np.float32)

    # --- implementations -----------------------------------------------------------
    def reference(self, x: Array) -> Array:
        xp = array_namespace(x)
        h, w = x.shape[:2]
        k = xp.asarray(self.strength(h, w))[..., None]
        lift = k if self.amount > 0 else xp.zeros_like(k)
        out = x.copy()
        with np.errstate(invalid="ignore"):  # inf * 0 where k = 1: NaN, documented
            out[..., :3] = x[..., :3] * (xp.float32(1.0) - k) + lift
        return out

    def gpu_passes(self, height: int, width: int) -> list[GpuPass]:
        cx, cy, sx, sy = self._geometry(height, width)
        r0, inv_w = self.band()
        oy, ox = self.origin
        params = pack_params((cx, cy, sx, sy), (ox, oy, r0, inv_w),
                             (abs(self.amount) / 100.0, 1.0 if self.amount > 0 else 0.0))
        return [GpuPass(load_wgsl(__package__, "vignette.wgsl"), params, (height, width))]
