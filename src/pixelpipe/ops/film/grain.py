"""Film grain: seeded, monochrome, midtone-weighted noise of a chosen size.

Algorithm (full note with the reasoning in ``docs/ops/grain.md``)
-----------------------------------------------------------------

1. **White noise from an integer hash.** For the pixel at absolute image
   coordinates ``(X, Y)`` (this image's ``(x, y)`` plus :attr:`Grain.origin`)
   and the 32-bit ``seed``, all in uint32 arithmetic (wrapping)::

       pcg(v):  s = v * 747796405 + 2891336453
                w = ((s >> ((s >> 28) + 4)) ^ s) * 277803737
                return (w >> 22) ^ w
       h1 = pcg(X + pcg(Y + pcg(seed)))
       h(i+1) = pcg(h(i))                           i = 1 .. 7

   ``pcg`` is the PCG-RXS-M-XS 32-bit permutation used as a hash, and the
   nesting ``pcg(x + pcg(y + pcg(z)))`` is how Jarzynski & Olano combine
   coordinates (M. Jarzynski and M. Olano, "Hash Functions for GPU
   Rendering", JCGT 9(3), 2020, which found it the best quality/speed
   trade-off; PCG: M. E. O'Neill, "PCG: A Family of Simple Fast
   Space-Efficient Statistically Good Algorithms for Random Number
   Generation", HMC-CS-2014-0905). The same uint32 operations run in NumPy
   and in WGSL, so the integers are identical on every backend.

2. **Gaussian-ish shaping**, exact in float32: four 22-bit uniforms summed
   as integers (``S = sum (h_i >> 10)`` < 2^24, so ``f32(S)`` is exact),
   then ``n = (S * 2^-22 - 2) * sqrt(3)``: the Irwin–Hall distribution of 4
   uniforms, centred and scaled to unit variance, bounded to ±2·sqrt(3).
   ``S * 2^-22 - 2`` is exact and the product by ``f32(sqrt(3))`` is one
   correctly rounded float32 multiply on both backends (a fused
   multiply-add changes nothing: the product before the subtraction is
   exact), so the noise is **bit-identical** on CPU and GPU. Octave 0 uses
   ``h1..h4`` (channel 0 of the noise image), octave 1 ``h5..h8`` (channel 1).

3. **Grain size.** ``size`` (0..100) gives the grain diameter
   ``d = 0.5 + 3.5 * size / 100`` pixels; each octave's noise is blurred with
   a sampled Gaussian (:func:`~pixelpipe.ops.spatial.gaussian_blur.gaussian_weights`,
   truncated at 3 sigma) of ``sigma = d / 2 * k`` and divided by the blur's
   noise gain ``sum(w**2)`` (the standard deviation of white noise blurred by
   the separable kernel ``w``), so the grain's standard deviation does not
   change with its size. The noise is generated over the image grown by the
   blur radius ``R`` on every side (the hash is defined everywhere), so the
   blur never sees an image edge: the grain at a pixel depends on its
   absolute coordinates only, not on the image size.

4. **Kinds** (``k`` scales sigma, ``g`` the strength):

   ========= ==== ===== ==================================================
   kind      k    g     octaves (weight, sigma)
   ========= ==== ===== ==================================================
   fine      1.0  0.6   (1, sigma)
   silver    1.25 0.8   (sqrt(0.7), sigma), (sqrt(0.3), 2 sigma): clumps
   harsh     1.75 1.0   (1, sigma)
   ========= ==== ===== ==================================================

   The octaves are independent with unit variance and weights whose squares
   sum to 1, so the combined grain ``G`` has unit variance.

5. **Apply**, on perceptual (sRGB-encoded) values, the same grain on R, G
   and B (monochrome), alpha untouched::

       Y' = 0.2627 R + 0.6780 G + 0.0593 B         (BT.2020 luma weights)
       v  = clamp(Y', 0, 1)     (0 where Y' is NaN or infinite)
       m  = 0.2 + 0.8 * 4 v (1 - v)                 (midtone weight, 0.2..1)
       out = c + (a0 * n0 + a1 * n1) * m

   with ``a_i = 0.15 * amount / 100 * g * weight_i / sum(w_i**2)`` computed
   in float64 on the host. At ``amount = 100`` the grain's standard deviation
   is ``0.15 g`` at mid-grey and a fifth of that at black and white: film
   grain is most visible in the midtones; deep shadows and highlights
   (little or complete development of the silver halide crystals) show less.
   The grain has zero mean and does not depend on the pixel value, so the
   mean of an image is preserved (up to sampling). The output is not clipped.

GPU: one pass; each 16 x 16 tile hashes and blurs its own grown patch of
noise in workgroup memory (``docs/ops/grain.md``).

Precision: the noise values are bit-identical; the blurs accumulate in
float32 on the GPU (float64 in the reference, see
:mod:`pixelpipe.ops.spatial.separable`) and the combine may use fused
multiply-adds, so outputs agree to about 1e-6 absolute (tests: 1e-5).

Non-finite values: the grain itself is always finite; a NaN or ±Inf channel
stays NaN or ±Inf; a pixel whose luma is not finite gets the black-level
grain weight (0.2) on its finite channels.
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal

import numpy as np
import numpy.typing as npt
from pydantic import ConfigDict, Field

from pixelpipe.errors import ParameterError
from pixelpipe.ops.base import Array, GpuPass, Op, OpKind, array_namespace, load_wgsl, pack_params
from pixelpipe.ops.color.luma import REC2020, luma
from pixelpipe.ops.spatial.gaussian_blur import gaussian_weights
from pixelpipe.ops.spatial.separable import separable_reference

GrainKind = Literal["fine", "silver", "harsh"]

#: Grain standard deviation at amount 100 and mid-grey, before the kind's gain.
MAX_STD = 0.15
#: Grain weight at black and white relative to mid-grey.
MIDTONE_FLOOR = 0.2
#: Blur kernels are truncated at this many standard deviations.
TRUNCATE = 3.0
#: BT.2020 luma coefficients (ITU-R BT.2020-2, non-constant luminance Y').
LUMA = REC2020

#: kind -> (sigma scale, strength gain, ((octave weight, sigma multiple), ...))
KINDS: dict[str, tuple[float, float, tuple[tuple[float, float], ...]]] = {
    "fine": (1.0, 0.6, ((1.0, 1.0),)),
    "silver": (1.25, 0.8, ((math.sqrt(0.7), 1.0), (math.sqrt(0.3), 2.0))),
    "harsh": (1.75, 1.0, ((1.0, 1.0),)),
}

_M32 = 0xFFFFFFFF
#: Largest blur radius (px) the one-pass GPU kernel holds in workgroup memory
#: (``grain.wgsl``'s MAXR); the parameter ranges give at most 15.
GPU_MAX_RADIUS = 15


def pcg_hash(v: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
    """PCG-RXS-M-XS 32-bit hash (Jarzynski & Olano 2020) of uint32 array ``v``; wraps mod 2^32."""
    v = np.asarray(v, np.uint32)
    s = v * np.uint32(747796405) + np.uint32(2891336453)
    w = ((s >> ((s >> np.uint32(28)) + np.uint32(4))) ^ s) * np.uint32(277803737)
    return (w >> np.uint32(22)) ^ w


def noise_field(height: int, width: int, seed: int, y0: int, x0: int) -> Array:
    """The unit-variance noise image, float32 ``(height, width, 4)``.

    Pixel ``(i, j)`` is the noise at absolute coordinates
    ``((y0 + i) mod 2^32, (x0 + j) mod 2^32)``; channel 0 is octave 0,
    channel 1 octave 1, channels 2 and 3 are 0.
    """
    ys = (np.arange(height, dtype=np.int64) + y0) & _M32
    xs = (np.arange(width, dtype=np.int64) + x0) & _M32
    hs = pcg_hash(np.array([seed & _M32], np.uint32))
    hy = pcg_hash(ys.astype(np.uint32) + hs)
    h = pcg_hash(xs.astype(np.uint32)[None, :] + hy[:, None])
    out = np.zeros((height, width, 4), np.float32)
    for octave in range(2):
        total = np.zeros((height, width), np.uint32)
        for _ in range(4):
            total += h >> np.uint32(10)
            h = pcg_hash(h)
        u = total.astype(np.float32) * np.float32(2.0**-22) - np.float32(2.0)
        out[..., octave] = u * np.float32(math.sqrt(3.0))
    return out


def _midtone_coef() -> float:
    """``4 (1 - floor)``: the midtone weight is ``floor + coef * v (1 - v)``."""
    return 4.0 * (1.0 - MIDTONE_FLOOR)


def _split16(v: int) -> tuple[int, int]:
    """A uint32 as (low 16 bits, high 16 bits): both exact in float32 parameters."""
    v &= _M32
    return v & 0xFFFF, v >> 16


class Grain(Op):
    """Film grain: seeded monochrome noise, midtone-weighted, added to perceptual RGB.

    Parameters
    ----------
    amount : float, 0 to 100, default 0
        Strength: grain standard deviation ``0.15 * amount / 100 * g`` at
        mid-grey in perceptual (sRGB-encoded) units, ``g`` = 0.6 fine,
        0.8 silver, 1.0 harsh; 0 is the identity.
    size : float, 0 to 100, default 25
        Grain diameter ``0.5 + 3.5 * size / 100`` pixels (times 1.25 for
        silver, 1.75 for harsh).
    kind : "fine" | "silver" | "harsh", default "fine"
        Fine: small single-octave grain. Silver: medium, two octaves (grain
        plus clumps twice its size). Harsh: large and strong.
    seed : int, 0 to 2**32 - 1, default 0
        Seed of the hash; the same seed gives the same grain on every backend.
    origin : (row, column), default (0, 0)
        Absolute position of this image's top-left pixel in the full image.
        A tiling hook: a tile at ``origin`` gets exactly the grain of that part
        of the full image. Not a preset setting.

    Input/output: float32 (H, W, 4), same size; R, G, B get the same grain,
    alpha is copied. Not clipped. Invalid parameters raise
    :class:`~pixelpipe.errors.ParameterError` through :meth:`Op.from_config`.
    See the module docstring for the algorithm and its sources.
    """

    op_name: ClassVar[str] = "grain"
    kind: ClassVar[OpKind] = OpKind.NEIGHBORHOOD

    amount: float = Field(0.0, ge=0.0, le=100.0,
                          description="grain strength; standard deviation 0.15 * amount/100 "
                                      "* kind gain at mid-grey (perceptual units)",
                          json_schema_extra={"unit": "percent"})
    size: float = Field(25.0, ge=0.0, le=100.0,
                        description="grain diameter 0.5 + 3.5 * size/100 pixels "
                                    "(x1.25 silver, x1.75 harsh)",
                        json_schema_extra={"unit": "percent"})
    grain_kind: GrainKind = Field("fine", alias="kind",
                                  description="fine (small), silver (medium, clumped: two "
                                              "octaves) or harsh (large, strong)")
    seed: int = Field(0, ge=0, le=_M32, description="seed of the integer noise hash",
                      json_schema_extra={"unit": "integer"})
    origin: tuple[int, int] = Field((0, 0),
                                    description="(row, column) of this image's top-left pixel "
                                                "in the full image (tiling hook)",
                                    json_schema_extra={"unit": "pixels"})

    model_config = ConfigDict(populate_by_name=True)  # merged with Op's config

    def is_identity(self) -> bool:
        return self.amount == 0.0

    def radius(self) -> int:
        """0: the output pixel depends on the input pixel and absolute coordinates only.

        The grain's blur runs over noise generated beyond the image, not over
        the input, so a tile needs no halo (only its :attr:`origin`).
        """
        return 0

    # --- derived quantities ----------------------------------------------------
    def diameter(self) -> float:
        """Nominal grain diameter in pixels: ``0.5 + 3.5 * size / 100``."""
        return 0.5 + 3.5 * self.size / 100.0

    def octaves(self) -> list[tuple[float, npt.NDArray[np.float64]]]:
        """Per octave: (amplitude applied to its blurred noise, 1-D blur weights)."""
        scale, gain, octs = KINDS[self.grain_kind]
        sigma = self.diameter() / 2.0 * scale
        std = MAX_STD * self.amount / 100.0 * gain
        out = []
        for weight, mult in octs:
            s = sigma * mult
            w = gaussian_weights(s, int(TRUNCATE * s + 0.5))
            out.append((std * weight / float(np.sum(w**2)), w))
        return out

    def noise_radius(self) -> int:
        """Largest blur radius R: the noise is generated R pixels beyond each edge."""
        return max((len(w) - 1) // 2 for _, w in self.octaves())

    def _origin32(self) -> tuple[int, int]:
        return self.origin[0] & _M32, self.origin[1] & _M32

    # --- reference -------------------------------------------------------------
    def noise(self, height: int, width: int) -> Array:
        """Unblurred noise over the image grown by :meth:`noise_radius`, float32 (H+2R, W+2R, 4)."""
        r = self.noise_radius()
        oy, ox = self._origin32()
        return noise_field(height + 2 * r, width + 2 * r, self.seed, oy - r, ox - r)

    def grain(self, height: int, width: int) -> Array:
        """The grain ``a0 * n0 + a1 * n1`` before the midtone weight, float32 (H, W)."""
        r = self.noise_radius()
        n = self.noise(height, width)
        g = np.zeros((height, width), np.float32)
        for i, (amp, w) in enumerate(self.octaves()):
            b = separable_reference(n[..., i:i + 1], w, "mirror")[r:r + height, r:r + width, 0]
            g = g + np.float32(amp) * b
        return g.astype(np.float32)

    def reference(self, x: Array) -> Array:
        xp = array_namespace(x)
        if self.is_identity():
            return x.copy()
        h, w = x.shape[:2]
        g = xp.asarray(self.grain(h, w))
        c = x[..., :3]
        y = luma(x)
        with np.errstate(invalid="ignore"):
            v = xp.where(xp.isfinite(y), xp.clip(y, 0.0, 1.0), 0.0).astype(xp.float32)
        m = xp.float32(MIDTONE_FLOOR) + xp.float32(_midtone_coef()) * (v * (xp.float32(1.0) - v))
        out = x.copy()
        out[..., :3] = c + (g * m)[..., None]
        return out

    # --- WebGPU ----------------------------------------------------------------
    def noise_pass(self, height: int, width: int) -> GpuPass:
        """The noise image of :meth:`noise` alone, as one GPU pass (bit-identical to it)."""
        r = self.noise_radius()
        oy, ox = self._origin32()
        shader = (load_wgsl(__package__, "grain_hash.wgsl")
                  + load_wgsl(__package__, "grain_noise.wgsl"))
        params = pack_params(_split16(self.seed), (*_split16(oy - r), *_split16(ox - r)))
        return GpuPass(shader, params, (height + 2 * r, width + 2 * r), ())

    def gpu_passes(self, height: int, width: int) -> list[GpuPass]:
        """One pass: noise, blur and apply per 16 x 16 tile in workgroup memory."""
        r = self.noise_radius()
        if r > GPU_MAX_RADIUS:  # not reachable with the parameter ranges
            raise ParameterError(f"grain: blur radius {r} px exceeds the GPU kernel's "
                                 f"{GPU_MAX_RADIUS}")
        oy, ox = self._origin32()
        octs = self.octaves()
        weights = np.zeros((2 * r + 1, 4), np.float32)
        amps = [0.0, 0.0]
        for i, (amp, w) in enumerate(octs):
            rw = (len(w) - 1) // 2
            weights[r - rw: r + rw + 1, i] = w
            amps[i] = amp
        params = np.concatenate([
            pack_params((r, len(octs)), _split16(self.seed),
                        (*_split16(oy), *_split16(ox)), LUMA,
                        (MIDTONE_FLOOR, _midtone_coef(), amps[0], amps[1])),
            weights])
        shader = load_wgsl(__package__, "grain_hash.wgsl") + load_wgsl(__package__, "grain.wgsl")
        return [GpuPass(shader, params, (height, width), ("in",), epilogue=True)]
