"""Detail controls of the photo developer: texture, clarity and sharpening.

Algorithm
---------
All three work on the luma of perceptual data (the develop workflow runs
them on sRGB-encoded Rec.2020 values, 0..1 for in-gamut colours, values
outside allowed) and add a luma change ``dY`` back to R, G and B equally::

    Y   = 0.2627 R' + 0.6780 G' + 0.0593 B'        (float32, in this order)
    out = (R' + dY, G' + dY, B' + dY, alpha)

*Luma from the encoded values.* ``Y`` uses the ITU-R BT.2020 luminance
weights (Rec. ITU-R BT.2020-2, the ``Y'`` of its non-constant-luminance
``Y'C'bC'r``; equal to row 2 of the RGB -> XYZ matrix of the Rec.2020
primaries, checked against colour-science in the tests) applied to the
encoded ``R'G'B'``, not to linear light: detail is judged on a perceptual
scale, so the same ``dY`` is about equally visible in shadows and
highlights, and one image pass suffices.

*Added equally, not as a ratio.* Adding the same ``dY`` to R', G' and B'
keeps the colour-difference signals ``R' - Y`` and ``B' - Y`` (the chroma
of ``Y'C'bC'r``) exactly: only luma changes, as the controls promise. A
ratio (``RGB * Y_new / Y``) would scale chroma with the detail and is
undefined at ``Y = 0``. Alpha is copied.

The blurs are the sampled, truncated Gaussians of
:class:`~pixelpipe.ops.spatial.gaussian_blur.GaussianBlur` (mirror edges =
reflect-101), applied to the single-channel luma (separable passes, float64
accumulation in the reference, float32 on the GPU). ``G_s`` below is that
blur with standard deviation ``s`` pixels.

Texture (``amount`` -100..100, ``k = amount / 100``)
    A difference-of-Gaussians band-pass isolates medium-fine detail (the
    structure at about 1 to 4 pixels: skin pores, foliage, fabric) while
    leaving the finest detail (noise, single-pixel texture) and the
    large-scale tones alone::

        D  = G_1(Y) - G_4(Y)
        dY = k * D / (1 + |D| * s),   s = 1 / 0.15 for k > 0, s = 0 for k < 0

    Positive amounts add the band again, with a soft limit (``D`` is
    compressed towards +-0.15) so strong edges, whose band-pass response is
    large, do not ring; negative amounts remove up to all of the band
    (``k = -1`` replaces it by nothing), which smooths without blurring the
    finest detail. Inspiration: the semantics of Adobe Lightroom's
    "Texture" slider (medium-frequency detail up or down, fine detail and
    tonality kept); the band-pass is the difference of Gaussians of
    Marr and Hildreth (1980); the constants are ours.

Clarity (``amount`` -100..100, ``k = amount / 100``)
    Local contrast at a larger scale, weighted toward midtones. The band is
    the next octave pair above texture's, so the two controls split the
    detail between them (texture 1-4 px, clarity 4-16 px) and clarity does
    not touch fine texture or noise::

        B  = G_16(Y)                     (sigma 16 px, truncated at 3 sigma: radius 48)
        d  = G_4(Y) - B
        m  = 4 * c * (1 - c),  c = clamp(B, 0, 1)     (1 at B = 0.5, 0 at 0 and 1)
        dY = (k * m) * (d / (1 + |d| * s)),  s = 1 / 0.25 for k > 0, s = 0 for k < 0

    The midtone weight uses the local mean ``B``, so deep shadows and
    highlights keep their tones (no clipping pushed by the boost); at -100
    midtones lose their 4-16 px local contrast but keep finer texture.
    Halos: the base is a Gaussian, not an edge-aware filter; the large
    differences next to strong edges, which a linear base turns into halos,
    are compressed by the soft limit (``d`` tends to +-0.25 however large
    the edge), while small and medium local contrast is boosted almost
    linearly. An edge-aware base (guided filter, He, Sun & Tang 2013) was
    considered: its variance term ``mean(Y^2) - mean(Y)^2`` cancels
    catastrophically in float32, so two backends summing in different
    orders could not agree to 1e-5. The scale is a fixed 16 pixels, not a
    fraction of the image size: the planner's halo (``radius()``) must be
    known without the image, and a tiled run must equal an untiled one.
    Inspiration: Lightroom's "Clarity" (midtone local contrast); the
    method is local-contrast enhancement by a band-pass unsharp mask with a
    large radius (Gonzalez & Woods, *Digital Image Processing*, 4th ed.,
    3.6).

Sharpen (``amount`` 0..100, ``radius`` 0.5..3 px, ``threshold`` 0..100, ``masking`` 0..100)
    Unsharp masking of luma with a soft threshold on the detail and an
    edge mask::

        b    = G_radius(Y)                       (truncated at 4 sigma)
        d    = Y - b
        k    = amount / 50                       (amount 50 = gain 1, 100 = gain 2)
        w    = S((|d| - t_lo) / 0.04)            threshold knee on |d|
        t_lo = th * 0.08 - 0.04,  th = threshold / 100
        mask = S((e - e_lo) / 0.06)              edge mask (only when masking > 0)
        e_lo = ma * 0.11 - 0.06,  ma = masking / 100
        dY   = ((k * d) * w) * mask

    with the smoothstep ``S(t) = u^2 (3 - 2u)``, ``u = clamp(t, 0, 1)``.
    Each knee is 2W wide (W = 0.02 for the threshold, 0.03 for the mask)
    and ends at ``hi = slider * (MAX + W)`` (MAX = 0.06 and 0.08): at
    slider 0 the knee lies below 0, so every detail passes (``w = 1``,
    ``mask = 1`` exactly); at 100 detail smaller than 0.04 (about 10 of 255
    levels) is not sharpened and detail above 0.08 is sharpened fully, and
    the mask is 0 below an edge strength of 0.05 and 1 above 0.11. The
    knees move continuously with the sliders and have a fixed slope
    (at most 1.5 / 2W), so a rounding difference between backends changes
    the result by a bounded, tiny amount: no decision flips.

    ``e`` is the edge strength: the gradient magnitude of a slightly
    blurred luma ``Y1 = G_1(Y)`` (sigma 1 px, so pixel noise does not read
    as edges), in luma units per pixel from central differences with
    mirrored borders::

        e = sqrt(gx^2 + gy^2),  gx = 0.5 * (Y1[x+1] - Y1[x-1]),  gy likewise

    A sharp step of height ``h`` gives ``e`` up to about ``0.4 h`` (the
    peak of the derivative of a unit-sigma Gaussian is ``1 / sqrt(2 pi)``),
    so at masking 100 steps higher than about 0.3 are sharpened fully and
    flat or gently textured areas not at all. Source: unsharp masking
    (Gonzalez & Woods, 4th ed., 3.6); the threshold as in the Unsharp Mask
    filters of GIMP and Photoshop (but soft); the edge mask after the
    "Masking" control of Lightroom's sharpening (sharpen edges, spare flat
    areas), built here from the gradient magnitude (Gonzalez & Woods, 3.6,
    "using first-order derivatives").

Precision and tolerance
-----------------------
The reference computes every per-pixel step in float32 in the order shown
(blurs accumulate in float64 and are rounded to float32, as in
:mod:`pixelpipe.ops.spatial.separable`); the GPU in float32 with its own
summation order (and, on some hardware, fused multiply-adds). Outputs
agree within 1e-5 relative (absolute below 1): the detail is a difference
of values a few ulps apart, and the knees' slopes are bounded.

Non-finite values: a NaN or Inf in a pixel's blur footprint makes ``d``
NaN (``inf - inf``) and so the pixel's R, G, B NaN: NaN spreads over the
footprint of the blurs, like the blur itself; alpha stays as it is. The
GPU blurs two kernels at once (one per vec4 lane of the shared separable
pass), each zero-padded to the larger radius; the reference uses the same
padded kernels, so the footprint is the larger radius for both (a zero
weight times Inf is NaN). Where only the edge strength ``e`` is NaN (the
one-pixel ring the gradient adds), the smoothstep's clamp takes the
IEEE-754 minNum/maxNum reading (a NaN gives 0, as llvmpipe and NVIDIA
evaluate WGSL's ``clamp``), so the mask is 0 there and the pixel is left
unsharpened; WGSL itself leaves clamp of a NaN to the implementation.

At ``amount = 0`` (:meth:`is_identity`) each op returns its input
unchanged, bit for bit, on both backends (a copy: no NaN spreading).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import numpy.typing as npt
from pydantic import Field

from pixelpipe.ops.base import Array, GpuPass, Op, OpKind, array_namespace, load_wgsl, pack_params
from pixelpipe.ops.color.luma import REC2020, luma
from pixelpipe.ops.spatial.gaussian_blur import gaussian_weights
from pixelpipe.ops.spatial.separable import (
    MODE_CODES,
    correlation_pass,
    edge_indices,
    separable_reference,
)

#: ITU-R BT.2020-2 luminance weights (R, G, B), applied to the encoded values.
LUMA_WEIGHTS: tuple[float, float, float] = REC2020

TEXTURE_FINE_SIGMA = 1.0  #: px, fine end of the texture band
TEXTURE_COARSE_SIGMA = 4.0  #: px, coarse end of the texture band
TEXTURE_LIMIT = 0.15  #: soft limit of the boosted band (luma units)
CLARITY_FINE_SIGMA = 4.0  #: px, fine end of the clarity band
CLARITY_SIGMA = 16.0  #: px, scale of the clarity base
CLARITY_TRUNCATE = 3.0  #: sigmas: clarity base radius 48 px
CLARITY_LIMIT = 0.25  #: soft limit of the boosted local contrast (luma units)
BLUR_TRUNCATE = 4.0  #: sigmas, texture, sharpen and mask blurs
MASK_SIGMA = 1.0  #: px, blur before the edge-strength gradient
THRESHOLD_MAX, THRESHOLD_KNEE = 0.06, 0.02  #: |d| knee centre at threshold 100, half width
MASKING_MAX, MASKING_KNEE = 0.08, 0.03  #: edge-strength knee centre at masking 100, half width


def _radius(sigma: float, truncate: float) -> int:
    return int(truncate * sigma + 0.5)


def _weights(sigma: float, truncate: float) -> npt.NDArray[np.float64]:
    return gaussian_weights(sigma, _radius(sigma, truncate))


def _lane_kernels(kernels: list[npt.NDArray[np.float64]]) -> npt.NDArray[np.float64]:
    """The 1-D kernels, each zero-padded (centred) to the largest radius, float64 (n, 2R + 1)."""
    r = max((len(k) - 1) // 2 for k in kernels)
    out = np.zeros((len(kernels), 2 * r + 1))
    for i, k in enumerate(kernels):
        rk = (len(k) - 1) // 2
        out[i, r - rk: r + rk + 1] = k
    return out


def _blur_lanes(y: Array, kernels: list[npt.NDArray[np.float64]]) -> list[Array]:
    """Gaussian blurs (mirror edges) of a float32 (H, W) plane, one per kernel, as on the GPU.

    The GPU blurs up to four kernels at once, one per vec4 lane, all zero-padded
    to the largest radius; the reference uses the same padded kernels, so a
    padded tap meeting an Inf gives NaN (``0 * inf``) on both backends alike.
    """
    return [separable_reference(y[..., None], k, "mirror")[..., 0]
            for k in _lane_kernels(kernels)]


def _blur_passes(height: int, width: int, kernels: list[npt.NDArray[np.float64]]
                 ) -> list[GpuPass]:
    """Two separable passes (x, then y) blurring the luma of the op input: kernel i in lane i.

    The x pass computes the luma of each input pixel as it loads it (no luma
    image is written); the per-tap weight rows are multiplied lane by lane,
    each lane carrying its own kernel, and only as many lanes as kernels are
    computed (the others hold 0).
    """
    padded = _lane_kernels(kernels)
    r = (padded.shape[1] - 1) // 2
    params = np.zeros((padded.shape[1] + 1, 4), np.float32)
    params[0] = (r, MODE_CODES["mirror"], 0.0, 0.0)
    params[1:, : len(kernels)] = padded.T
    size = (height, width)
    lanes = 1 if len(kernels) == 1 else 2 if len(kernels) == 2 else 4
    return [correlation_pass(1, params, size, "in", luma=LUMA_WEIGHTS, lanes=lanes),
            correlation_pass(0, params, size, "p0", lanes=lanes)]


def _smoothstep(t: Array) -> Array:
    """``u^2 (3 - 2u)``, ``u = min(max(t, 0), 1)``; IEEE minNum/maxNum: a NaN ``t`` gives 0."""
    xp = array_namespace(t)
    u = xp.fmin(xp.fmax(t, xp.float32(0.0)), xp.float32(1.0))
    return u * u * (xp.float32(3.0) - xp.float32(2.0) * u)


def _add_luma(x: Array, dy: Array) -> Array:
    out = x.copy()
    out[..., :3] = x[..., :3] + dy[..., None]
    return out


def _knee(slider: float, knee_max: float, half_width: float) -> tuple[float, float]:
    """(lo, 1 / width) of a smoothstep knee whose top is ``slider * (max + half_width)``."""
    hi = slider * (knee_max + half_width)
    return hi - 2.0 * half_width, 1.0 / (2.0 * half_width)


class Texture(Op):
    """Raise or lower medium-fine detail (a 1-4 px band of luma); chroma kept.

    Parameters
    ----------
    amount : float, -100 to 100, default 0
        Positive adds the band (up to twice it, soft-limited), negative removes
        it (-100: all of it). 0 is the identity.

    Input/output: float32 (H, W, 4), perceptual (sRGB-encoded) RGB, same size;
    alpha copied; output not clipped. Algorithm and sources: module docstring.
    """

    op_name: ClassVar[str] = "texture"
    kind: ClassVar[OpKind] = OpKind.NEIGHBORHOOD

    amount: float = Field(0.0, ge=-100.0, le=100.0,
                          description="medium-fine detail: + stronger, - smoother",
                          json_schema_extra={"unit": "percent"})

    def is_identity(self) -> bool:
        return self.amount == 0.0

    def radius(self) -> int:
        """Radius of the coarse band blur: 16 px."""
        return _radius(TEXTURE_COARSE_SIGMA, BLUR_TRUNCATE)

    def _consts(self) -> tuple[float, float]:
        k = self.amount / 100.0
        return k, (1.0 / TEXTURE_LIMIT if k > 0 else 0.0)

    @staticmethod
    def _kernels() -> list[npt.NDArray[np.float64]]:
        return [_weights(TEXTURE_FINE_SIGMA, BLUR_TRUNCATE),
                _weights(TEXTURE_COARSE_SIGMA, BLUR_TRUNCATE)]

    def reference(self, x: Array) -> Array:
        if self.is_identity():
            return x.copy()
        xp = array_namespace(x)
        y = luma(x)
        fine, coarse = _blur_lanes(y, self._kernels())
        d = fine - coarse
        k, s = (xp.float32(v) for v in self._consts())
        dy = k * (d / (xp.float32(1.0) + xp.abs(d) * s))
        return _add_luma(x, dy)

    def gpu_passes(self, height: int, width: int) -> list[GpuPass]:
        if self.is_identity():
            return []  # amount 0: the input unchanged
        combine = GpuPass(load_wgsl(__package__, "detail_texture.wgsl"),
                          pack_params(self._consts()), (height, width), ("in", "p1"),
                          epilogue=True)
        return [*_blur_passes(height, width, self._kernels()),
                combine]


class Clarity(Op):
    """Raise or lower midtone local contrast (a 4-16 px band of luma); chroma kept.

    Parameters
    ----------
    amount : float, -100 to 100, default 0
        Positive boosts local contrast (soft-limited near strong edges),
        negative flattens it (-100: midtones lose the band). 0 is the identity.

    Input/output: float32 (H, W, 4), perceptual (sRGB-encoded) RGB, same size;
    alpha copied; output not clipped. Algorithm and sources: module docstring.
    """

    op_name: ClassVar[str] = "clarity"
    kind: ClassVar[OpKind] = OpKind.NEIGHBORHOOD

    amount: float = Field(0.0, ge=-100.0, le=100.0,
                          description="midtone local contrast: + more, - less",
                          json_schema_extra={"unit": "percent"})

    def is_identity(self) -> bool:
        return self.amount == 0.0

    def radius(self) -> int:
        """Radius of the base blur: 48 px (sigma 16 px truncated at 3 sigma)."""
        return _radius(CLARITY_SIGMA, CLARITY_TRUNCATE)

    def _consts(self) -> tuple[float, float]:
        k = self.amount / 100.0
        return k, (1.0 / CLARITY_LIMIT if k > 0 else 0.0)

    @staticmethod
    def _kernels() -> list[npt.NDArray[np.float64]]:
        return [_weights(CLARITY_FINE_SIGMA, BLUR_TRUNCATE),
                _weights(CLARITY_SIGMA, CLARITY_TRUNCATE)]

    def reference(self, x: Array) -> Array:
        if self.is_identity():
            return x.copy()
        xp = array_namespace(x)
        y = luma(x)
        fine, b = _blur_lanes(y, self._kernels())
        d = fine - b
        k, s = (xp.float32(v) for v in self._consts())
        c = xp.clip(b, xp.float32(0.0), xp.float32(1.0))
        m = (xp.float32(4.0) * c) * (xp.float32(1.0) - c)
        dy = (k * m) * (d / (xp.float32(1.0) + xp.abs(d) * s))
        return _add_luma(x, dy)

    def gpu_passes(self, height: int, width: int) -> list[GpuPass]:
        if self.is_identity():
            return []  # amount 0: the input unchanged
        combine = GpuPass(load_wgsl(__package__, "detail_clarity.wgsl"),
                          pack_params(self._consts()), (height, width), ("in", "p1"),
                          epilogue=True)
        return [*_blur_passes(height, width, self._kernels()),
                combine]


class Sharpen(Op):
    """Unsharp-mask sharpening of luma with a soft threshold and an edge mask; chroma kept.

    Parameters
    ----------
    amount : float, 0 to 100, default 0
        Strength: gain ``amount / 50`` on the detail ``Y - blur(Y)``. 0 is the identity.
    radius : float, pixels, 0.5 to 3, default 1
        Standard deviation of the Gaussian that defines the detail.
    threshold : float, 0 to 100, default 0
        Soft threshold on the detail ``|Y - blur(Y)|`` (luma units): at 100,
        detail below 0.04 is not sharpened and detail above 0.08 fully, with a
        smooth knee between; lower values move the knee down linearly; 0
        sharpens all detail.
    masking : float, 0 to 100, default 0
        Edge mask: 0 sharpens everywhere; at 100 only where the edge strength
        (gradient magnitude of the 1 px-blurred luma, luma per pixel) exceeds
        0.05, fully above 0.11; lower values move the knee down linearly.

    Input/output: float32 (H, W, 4), perceptual (sRGB-encoded) RGB, same size;
    alpha copied; output not clipped (sharpening overshoots by design).
    Algorithm and sources: module docstring.
    """

    op_name: ClassVar[str] = "sharpen"
    kind: ClassVar[OpKind] = OpKind.NEIGHBORHOOD

    amount: float = Field(0.0, ge=0.0, le=100.0, description="sharpening strength",
                          json_schema_extra={"unit": "percent"})
    # named radius in configs (the alias); the attribute name keeps Op.radius() free
    blur_radius: float = Field(1.0, alias="radius", ge=0.5, le=3.0,
                           description="standard deviation of the blur defining the detail",
                           json_schema_extra={"unit": "pixels"})
    threshold: float = Field(0.0, ge=0.0, le=100.0,
                             description="detail below this level is not sharpened "
                                         "(100: knee from 0.04 to 0.08 luma)",
                             json_schema_extra={"unit": "percent"})
    masking: float = Field(0.0, ge=0.0, le=100.0,
                           description="edge mask: 0 sharpens everywhere, 100 only strong edges",
                           json_schema_extra={"unit": "percent"})

    def is_identity(self) -> bool:
        return self.amount == 0.0

    def radius(self) -> int:
        """Footprint radius in pixels.

        Without the mask, the detail blur's (``int(4 * radius + 0.5)``); with it,
        the larger of that and the mask blur's (4), plus 1 for the gradient.
        """
        r = _radius(self.blur_radius, BLUR_TRUNCATE)
        if self.masking > 0:
            r = max(r, _radius(MASK_SIGMA, BLUR_TRUNCATE)) + 1
        return r

    def _consts(self) -> tuple[float, ...]:
        t_lo, t_inv = _knee(self.threshold / 100.0, THRESHOLD_MAX, THRESHOLD_KNEE)
        e_lo, e_inv = _knee(self.masking / 100.0, MASKING_MAX, MASKING_KNEE)
        return self.amount / 50.0, t_lo, t_inv, e_lo, e_inv

    def _kernels(self) -> list[npt.NDArray[np.float64]]:
        ks = [_weights(self.blur_radius, BLUR_TRUNCATE)]
        if self.masking > 0:
            ks.append(_weights(MASK_SIGMA, BLUR_TRUNCATE))
        return ks

    @staticmethod
    def gradient_magnitude(y1: Array) -> Array:
        """Central-difference gradient magnitude of a float32 (H, W) plane (mirrored borders)."""
        xp = array_namespace(y1)
        h, w = y1.shape
        ix, _ = edge_indices(np.array([-1, 1], np.int64) + np.arange(w)[:, None], w, "mirror")
        iy, _ = edge_indices(np.array([-1, 1], np.int64) + np.arange(h)[:, None], h, "mirror")
        half = xp.float32(0.5)
        gx = half * (y1[:, xp.asarray(ix[:, 1])] - y1[:, xp.asarray(ix[:, 0])])
        gy = half * (y1[xp.asarray(iy[:, 1]), :] - y1[xp.asarray(iy[:, 0]), :])
        return xp.sqrt(gx * gx + gy * gy)

    def reference(self, x: Array) -> Array:
        if self.is_identity():
            return x.copy()
        xp = array_namespace(x)
        k, t_lo, t_inv, e_lo, e_inv = (xp.float32(v) for v in self._consts())
        y = luma(x)
        blurs = _blur_lanes(y, self._kernels())
        d = y - blurs[0]
        with np.errstate(invalid="ignore"):
            wt = _smoothstep((xp.abs(d) - t_lo) * t_inv)
            dy = (k * d) * wt
            if self.masking > 0:
                dy = dy * _smoothstep((self.gradient_magnitude(blurs[1]) - e_lo) * e_inv)
        return _add_luma(x, dy)

    def gpu_passes(self, height: int, width: int) -> list[GpuPass]:
        if self.is_identity():
            return []  # amount 0: the input unchanged
        use_mask = self.masking > 0
        shader = (f"const USE_MASK: bool = {'true' if use_mask else 'false'};\n"
                  + load_wgsl(__package__, "detail_sharpen.wgsl"))
        consts = self._consts()
        combine = GpuPass(shader, pack_params(consts[:4], consts[4:], LUMA_WEIGHTS),
                          (height, width), ("in", "p1"), epilogue=True)
        return [*_blur_passes(height, width, self._kernels()),
                combine]
