"""HSL: hue, saturation and luminance of eight hue bands, in OkLCh.

Algorithm
---------
Input and output are sRGB-encoded Rec.2020 RGB (the perceptual stage of the
develop workflow). Each pixel is taken to OkLab (Ottosson 2020) and its
polar form OkLCh, adjusted there, and taken back:

1. decode with the sRGB curve of IEC 61966-2-1 (the linear segment continues
   below 0, as in the ``transfer`` op), giving linear Rec.2020;
2. ``lms = M1 @ rgb``, ``lms' = cbrt(lms)`` (odd: sign kept),
   ``(L, a, b) = M2 @ lms'``; ``C = hypot(a, b)``, ``h = atan2(b, a)`` in
   degrees, 0..360. ``M1`` is Ottosson's XYZ -> LMS matrix times the
   Rec.2020 RGB -> XYZ matrix (SMPTE RP 177 from the ITU-R BT.2020 primaries
   and D65), with its rows scaled so that RGB white (1, 1, 1) gives
   LMS (1, 1, 1): Ottosson's matrix puts D65 at LMS (0.99989, 1.00003,
   1.00048), which would give neutral greys a chroma of 1.2e-4. ``M2`` is
   Ottosson's LMS' -> Lab matrix;
3. band weights over hue: the eight band centres (:data:`BAND_CENTRES`) are
   the OkLCh hues of the sRGB display colours red (1, 0, 0), orange
   (1, 0.5, 0), yellow (1, 1, 0), green (0, 1, 0), aqua (0, 1, 1), blue
   (0, 0, 1), purple (0.5, 0, 1) and magenta (1, 0, 1), rounded to the
   degree. Between neighbouring centres ``c_j`` and ``c_j+1`` (gap ``g_j``),
   with ``t = (h - c_j) / g_j``, band ``j+1`` has weight
   ``u = (1 - cos(pi t)) / 2`` and band ``j`` has ``1 - u``; every other band
   has 0. The weights are a partition of unity around the wheel, smooth
   (their derivative is 0 at each centre, so the blend is C1), and a band
   reaches only as far as its neighbours' centres. Per pixel the band values
   are blended with these weights: hue shift ``dh`` (degrees),
   ``s = saturation / 100`` and ``v = luminance / 100``;
4. neutral weight ``n = smoothstep(0, 0.03, C)``: near-neutral pixels have no
   meaningful hue, so the hue shift and the luminance change are scaled by
   ``n`` (0.03 is about a tenth of the chroma of the sRGB primaries). The
   saturation change needs no such weight: it scales chroma, which is small
   there anyway;
5. ``h' = h + n * dh``; ``C' = C * (1 + s) * min(k, 1)``; ``L' = k * L``
   with ``k = 2**(n * v / 2)`` (luminance +100 multiplies OkLab lightness by
   sqrt(2), -100 divides it by sqrt(2)). When darkening, chroma follows
   lightness, so ``(L, a, b)`` is scaled as a whole: in OkLab that is a
   gain on linear RGB (``k**3``), which keeps the hue and keeps in-gamut
   colours in gamut. Saturation -100 on a band gives ``C' = 0`` there;
6. back: ``lms' = M2^-1 (L', a', b')``, ``lms = lms'**3``,
   ``rgb = M1^-1 lms``, sRGB-encode.

Exact identities: a pixel whose R, G and B are equal (a grey), and a pixel
that the settings do not touch (every band value that reaches its hue is 0),
is returned bit for bit; so the all-zero op is the identity exactly. Pixels
with NaN or Inf in R, G or B pass through unchanged. Alpha is untouched.

Why OkLab: hue lines in OkLab stay close to constant perceived hue (no drift
of blue toward purple when its chroma changes, unlike CIELAB) and lightness
is close to perceived lightness; HSV/HSL of the encoded values would make
"luminance" change perceived brightness differently for each hue.

Sources: B. Ottosson, "A perceptual color space for image processing"
(2020), for OkLab and its matrices; IEC 61966-2-1:1999 for the sRGB curve;
ITU-R BT.2020-2 for the primaries. The band semantics (eight named hue
ranges, hue / saturation / luminance per band) follow the HSL panel of
photo raw developers.

Precision: the reference computes in float64; the WGSL kernel in float32.
The kernel computes the hue with its own atan2 (octant reduction and the
Taylor series of atan, error below 1e-5 degrees) because the accuracy of
WGSL's built-in ``atan2`` is implementation-defined (llvmpipe's is 2e-5
relative, which steep band settings amplify). The two backends agree to
1e-4 (relative above 1, absolute below), looser than 1e-5: a value goes
through the sRGB curve, a cube root, a rotation, a cube and the sRGB curve
again, and colours pushed out of gamut land on the encoding's linear segment
below 0, which multiplies linear errors by 12.92. Evaluated in float32 with
exact functions the op already differs from the float64 result by up to
1.7e-5 on random inputs; llvmpipe's differs by 2.5e-5 (inputs in 0..1) and
4.5e-5 (-0.2..1.3).
"""

from __future__ import annotations

from functools import cache
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from pixelpipe.ops.base import Array, PointwiseOp, array_namespace, load_wgsl
from pixelpipe.ops.color.white_balance import rgb_to_xyz_matrix

#: Band names, in hue order.
BANDS: tuple[str, ...] = ("red", "orange", "yellow", "green", "aqua", "blue", "purple", "magenta")

#: OkLCh hue (degrees) of each band's centre: the hue of the sRGB display colour
#: of that name (see the module docstring), rounded to the degree.
BAND_CENTRES: tuple[float, ...] = (29.0, 53.0, 110.0, 143.0, 195.0, 264.0, 294.0, 328.0)

#: OkLab chroma at which a pixel gets the full hue shift and luminance change.
NEUTRAL_CHROMA = 0.03

# Ottosson (2020), "A perceptual color space for image processing": XYZ (D65) -> LMS
# and LMS' (cube root) -> Lab. These matrices are the definition of OkLab.
OKLAB_M1 = np.array([[0.8189330101, 0.3618667424, -0.1288597137],
                     [0.0329845436, 0.9293118715, 0.0361456387],
                     [0.0482003018, 0.2643662691, 0.6338517070]])
OKLAB_M2 = np.array([[0.2104542553, 0.7936177850, -0.0040720468],
                     [1.9779984951, -2.4285922050, 0.4505937099],
                     [0.0259040371, 0.7827717662, -0.8086757660]])


@cache
def oklab_matrices() -> tuple[npt.NDArray[np.float64], ...]:
    """float64 (3, 3) matrices ``(M1, M2, M2^-1, M1^-1)``: linear Rec.2020 <-> LMS <-> OkLab.

    ``M1`` maps linear Rec.2020 RGB to LMS with white (1, 1, 1) -> (1, 1, 1)
    (see the module docstring); ``M2`` maps cube-rooted LMS to (L, a, b).
    """
    m1 = OKLAB_M1 @ rgb_to_xyz_matrix("rec2020")
    m1 = m1 / (m1 @ np.ones(3))[:, None]
    m2 = np.asarray(OKLAB_M2, np.float64)
    return m1, m2, np.asarray(np.linalg.inv(m2), np.float64), np.asarray(np.linalg.inv(m1),
                                                                           np.float64)


def srgb_decode(v: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """IEC 61966-2-1 sRGB decoding (encoded -> linear); the linear segment continues below 0."""
    with np.errstate(invalid="ignore"):
        return np.where(v <= 0.04045, v / 12.92,
                        ((np.maximum(v, 0.04045) + 0.055) / 1.055) ** 2.4)


def srgb_encode(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """IEC 61966-2-1 sRGB encoding (linear -> encoded); the linear segment continues below 0."""
    return np.where(x <= 0.0031308, 12.92 * x,
                    1.055 * np.maximum(x, 0.0031308) ** (1.0 / 2.4) - 0.055)


def rgb_to_oklab(rgb: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """sRGB-encoded Rec.2020 (..., 3) float64 -> OkLab (..., 3) float64 (L, a, b)."""
    m1, m2, _, _ = oklab_matrices()
    lms = srgb_decode(rgb) @ m1.T
    return np.cbrt(lms) @ m2.T


def oklab_to_rgb(lab: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """OkLab (..., 3) float64 -> sRGB-encoded Rec.2020 (..., 3) float64."""
    _, _, m2i, m1i = oklab_matrices()
    lms = (lab @ m2i.T) ** 3
    return srgb_encode(lms @ m1i.T)


def band_weights(hue: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.int64],
                                                         npt.NDArray[np.float64]]:
    """Band blend for OkLCh hues ``hue`` (degrees, 0..360), any shape.

    Returns ``(j, u)``: the pixel lies between band ``j`` and band
    ``(j + 1) % 8``, with weight ``1 - u`` on band ``j`` and ``u`` on the next
    (raised cosine; see the module docstring).
    """
    c = np.asarray(BAND_CENTRES)
    gaps = np.diff(np.append(c, c[0] + 360.0))
    d = hue[..., None] - c
    d = np.where(d < 0.0, d + 360.0, d)
    inside = d < gaps
    j = np.where(inside.any(axis=-1), np.argmax(inside, axis=-1), 7)
    dj = np.take_along_axis(d, j[..., None], axis=-1)[..., 0]
    t = np.clip(dj / gaps[j], 0.0, 1.0)
    return j, 0.5 - 0.5 * np.cos(np.pi * t)


def _smoothstep(e0: float, e1: float, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


class HSLBand(BaseModel):
    """Adjustment of one hue band: hue shift, saturation and luminance.

    All zero (the default) leaves the band untouched.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    hue: float = Field(0.0, ge=-180.0, le=180.0, allow_inf_nan=False,
                       description="hue shift of the band's colours in OkLCh degrees; "
                       "positive turns red toward yellow", json_schema_extra={"unit": "degrees"})
    saturation: float = Field(0.0, ge=-100.0, le=100.0, allow_inf_nan=False,
                              description="chroma change: -100 = grey, 0 = unchanged, "
                              "+100 = twice the chroma", json_schema_extra={"unit": "percent"})
    luminance: float = Field(0.0, ge=-100.0, le=100.0, allow_inf_nan=False,
                             description="lightness change: +100 multiplies OkLab lightness "
                             "by sqrt(2), -100 divides it by sqrt(2)",
                             json_schema_extra={"unit": "percent"})

    def is_neutral(self) -> bool:
        return self.hue == 0.0 and self.saturation == 0.0 and self.luminance == 0.0


def _band(**kwargs: Any) -> Any:
    return Field(default_factory=HSLBand, **kwargs)


class HSL(PointwiseOp):
    """Hue, saturation and luminance of eight hue bands (OkLCh; see the module docstring).

    Parameters
    ----------
    red, orange, yellow, green, aqua, blue, purple, magenta : HSLBand
        Each with ``hue`` (degrees, -180 to 180), ``saturation`` and
        ``luminance`` (-100 to 100); default all 0. Band centres (OkLCh hue,
        degrees): :data:`BAND_CENTRES`.

    Input/output: float32 (H, W, 4), sRGB-encoded Rec.2020 RGB (0..1 in
    gamut, values outside allowed); alpha untouched. Greys and pixels the
    settings do not reach are returned exactly; pixels with NaN or Inf in R,
    G or B pass through unchanged. An out-of-range value or unknown band
    raises :class:`~pixelpipe.errors.ParameterError` via :meth:`from_config`.
    """

    op_name: ClassVar[str] = "hsl"

    red: HSLBand = _band(description="reds (centre 29 degrees OkLCh hue)")
    orange: HSLBand = _band(description="oranges (centre 53 degrees)")
    yellow: HSLBand = _band(description="yellows (centre 110 degrees)")
    green: HSLBand = _band(description="greens (centre 143 degrees)")
    aqua: HSLBand = _band(description="aquas / cyans (centre 195 degrees)")
    blue: HSLBand = _band(description="blues (centre 264 degrees)")
    purple: HSLBand = _band(description="purples (centre 294 degrees)")
    magenta: HSLBand = _band(description="magentas (centre 328 degrees)")

    def bands(self) -> tuple[HSLBand, ...]:
        """The eight bands in hue order (:data:`BANDS`)."""
        return tuple(getattr(self, name) for name in BANDS)

    def is_identity(self) -> bool:
        return all(b.is_neutral() for b in self.bands())

    def band_table(self) -> npt.NDArray[np.float64]:
        """float64 (8, 3): per band (hue shift in radians, saturation / 100, luminance / 100)."""
        return np.array([[np.radians(b.hue), b.saturation / 100.0, b.luminance / 100.0]
                         for b in self.bands()])

    def reference(self, x: Array) -> Array:
        if array_namespace(x) is not np:  # pragma: no cover - no CuPy in CI
            import cupy

            return cupy.asarray(self.reference(cupy.asnumpy(x)))
        out = x.copy()
        rgb32 = x[..., :3]
        active = np.isfinite(rgb32).all(axis=-1)
        active &= ~((rgb32[..., 0] == rgb32[..., 1]) & (rgb32[..., 1] == rgb32[..., 2]))
        rgb = rgb32[active].astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            lab = rgb_to_oklab(rgb)
            chroma = np.hypot(lab[:, 1], lab[:, 2])
            hue = np.degrees(np.arctan2(lab[:, 2], lab[:, 1]))
            hue = np.where(hue < 0.0, hue + 360.0, hue)
            j, u = band_weights(hue)
            table = self.band_table()
            blend = (1.0 - u)[:, None] * table[j] + u[:, None] * table[(j + 1) % 8]
            n = _smoothstep(0.0, NEUTRAL_CHROMA, chroma)
            dh = n * blend[:, 0]
            s = blend[:, 1]
            v = n * blend[:, 2]
            k = np.exp2(0.5 * v)
            cs = (1.0 + s) * np.minimum(k, 1.0)
            cos_h, sin_h = np.cos(dh), np.sin(dh)
            a = cs * (lab[:, 1] * cos_h - lab[:, 2] * sin_h)
            b = cs * (lab[:, 1] * sin_h + lab[:, 2] * cos_h)
            new = oklab_to_rgb(np.stack([k * lab[:, 0], a, b], axis=-1))
        moved = (dh != 0.0) | (s != 0.0) | (v != 0.0)
        rgb[moved] = new[moved]
        out[..., :3][active] = rgb.astype(np.float32)
        return out

    def wgsl(self) -> str:
        return load_wgsl(__package__, "hsl.wgsl")

    def params(self) -> Array:
        """Rows: M1 (3), M2 (3), M2^-1 (3), M1^-1 (3), band centres (2), gaps (2),
        bands (8: hue shift in radians, saturation, luminance), neutral chroma (1)."""
        m1, m2, m2i, m1i = oklab_matrices()
        rows = np.zeros((25, 4), np.float64)
        for i, m in enumerate((m1, m2, m2i, m1i)):
            rows[3 * i:3 * i + 3, :3] = m
        c = np.asarray(BAND_CENTRES)
        rows[12:14] = c.reshape(2, 4)
        rows[14:16] = np.diff(np.append(c, c[0] + 360.0)).reshape(2, 4)
        rows[16:24, :3] = self.band_table()
        rows[24, 0] = NEUTRAL_CHROMA
        return rows.astype(np.float32)
