"""Wavelet denoising: à trous B3-spline transform on Y/Cb/Cr with soft thresholds.

Algorithm
---------
1. **Colour.** The input is linear Rec.2020 RGB. It is split into a
   luminance and two colour-difference channels with the Rec.2020 luma
   weights ``Kr = 0.2627, Kg = 0.6780, Kb = 0.0593`` (ITU-R BT.2020-2,
   table 4)::

       Y  = Kr R + Kg G + Kb B
       Cb = (B - Y) / (2 (1 - Kb))        Cr = (R - Y) / (2 (1 - Kr))

   i.e. the standard's non-constant-luminance Y'CbCr formulas applied to the
   linear values (scaled B - Y and R - Y; no transfer function, no
   quantisation). The inverse is exact: ``R = Y + 2 (1 - Kr) Cr``,
   ``B = Y + 2 (1 - Kb) Cb``, ``G = (Y - Kr R - Kb B) / Kg``.

2. **Transform.** The undecimated ("à trous", with holes) wavelet transform
   with the cubic B-spline kernel ``h = [1, 4, 6, 4, 1] / 16`` (Starck &
   Murtagh, *Astronomical Image and Data Analysis*, 2nd ed. 2006, §6.6.3;
   Starck, Fadili & Murtagh, IEEE Trans. Image Processing 16(2), 2007).
   With ``c0`` the Y/Cb/Cr image and ``j = 1 .. 5``::

       c_j = h_j * c_{j-1}        (separable: along x, then along y)
       w_j = c_{j-1} - c_j        (detail band j)

   where ``h_j`` is ``h`` with its taps ``2**(j-1)`` pixels apart (taps at
   ``-2d, -d, 0, d, 2d``, ``d = 2**(j-1)``). Edges are mirrored without
   repeating the edge sample (reflect-101, ``... c b | a b c d | c b a ...``),
   repeated as often as needed, so a tap offset larger than the image (32
   pixels at level 5 on a small image) is still well defined; a 1-pixel
   axis repeats its sample. By construction ``c0 = c5 + w1 + ... + w5``.

3. **Noise.** The noise standard deviation of each channel comes from the
   median absolute deviation of the finest band (Donoho & Johnstone,
   Biometrika 81(3), 1994)::

       sigma_c = median(|w1_c|) / 0.6745 / e_1

   ``0.6745`` is the 0.75 quantile of the standard normal distribution (the
   MAD of unit Gaussian noise), and ``e_j`` is the standard deviation of
   band ``j`` of the transform of unit-variance white noise. For white
   noise ``w_j = (G_{j-1} - G_j) * n`` with ``G_j`` the 2-D equivalent
   filter of ``c_j`` (the outer product of the 1-D kernels convolved up to
   level ``j``; ``G_0`` the unit impulse), so ``e_j = ||G_{j-1} - G_j||_2``;
   :func:`band_noise_factors` computes it once from the kernel (it is not
   typed in): ``0.8908, 0.2007, 0.0855, 0.0412, 0.0204``, in agreement with the
   values Starck & Murtagh tabulate for the B3-spline transform (0.889,
   0.200, 0.086, 0.041, 0.020, estimated there by simulation). The noise in
   band ``j`` of channel ``c`` is ``sigma_c * e_j``. The median runs over
   every pixel of the op's whole input (the op is a ``GlobalOp``). For tiled
   and streamed runs it is merged exactly from tiles padded by 2 pixels
   (``w1``'s reach): :func:`tiled_median`, a radix select on the float64
   bit patterns of ``|w1|`` (non-negative, so ordered like the values),
   16 bits per pass, then a gather of the few values left in the median's
   bin; bit-identical to ``numpy.median``. The apply step then runs per
   tile with a 62-pixel halo (``2 + 4 + 8 + 16 + 32``, the transform's
   support; :meth:`Denoise.apply_radius`).

4. **Thresholds.** Each detail coefficient is soft-thresholded (Donoho,
   IEEE Trans. Inf. Theory 41(3), 1995):
   ``T(w) = sign(w) * max(|w| - t, 0)`` with, for level ``j = 1 .. 5``::

       t_{j,Y}    = 3 * luminance/100 * (1 - detail/100 * 2**-j) * sigma_Y  * e_j
       t_{j,Cb|Cr} = 3 * color/100 * sigma_{Cb|Cr} * e_j

   So slider 100 thresholds at 3 sigma (the usual "3 sigma" significance
   level of Starck & Murtagh), 50 at 1.5 sigma. ``detail`` lowers the
   luminance thresholds, most on the finest levels where texture lives: at
   detail 100 the level-1 threshold is halved, level 2 is at 3/4 and level
   5 at 31/32. It does not act on the colour channels (colour noise is
   removed at every scale). The coarse residual ``c5`` is never changed.

5. **Reconstruction.** ``out = c5 + T(w1) + ... + T(w5)``, back to RGB.
   Alpha is untouched.

Neutral values: luminance 0 and color 0 (whatever ``detail``) is the exact
identity (the op copies its input; :meth:`Denoise.is_identity`). With
either slider above 0 the transform runs; a channel with zero thresholds is
rebuilt from its bands to float32 rounding.

Non-finite input: a pixel whose R, G or B is NaN or ±Inf is passed through
unchanged (all four channels) and enters the transform of its neighbours
as R = G = B = 0; every output pixel whose input is finite is finite
(unless finite sums overflow float32).

Precision: the reference computes in float64 and rounds the result to
float32; the WebGPU passes compute in float32 (taps and thresholds in
float32, fused multiply-add allowed). Measured difference on random images
5.4e-7 (llvmpipe); the consistency tests allow 3e-6 (absolute below 1,
relative above).

GPU: 10 passes, at most 3 image buffers live at any one (the op input
counted), by reconstructing level by level into an accumulator instead of
keeping c1 .. c5 for one final pass. For level ``j`` (dilation ``d``):

* pass X_j writes ``t_j = h_d (along x) * c_{j-1}``: from the input (level
  1, converting RGB to Y/Cb/Cr as it reads) or from ``t_{j-1}``, recomputing
  ``c_{j-1} = h_{d/2} (along y) * t_{j-1}`` per tap (no ``c_j`` is stored);
* pass Y_j computes ``c_j = h_d (along y) * t_j`` and ``c_{j-1}`` (from the
  input, or again from ``t_{j-1}``) at its own pixels and adds
  ``T(c_{j-1} - c_j)`` to the accumulator (Y, Cb, Cr, alpha), writing in
  place (``GpuPass.in_place``); Y_1 creates it, Y_5 adds ``c5`` and converts
  back to RGB in place.

Live buffers: ``t_{j-1}``, ``t_j`` and the accumulator (the input instead
of ``t_0`` at level 1; it is released after Y_1). Alpha rides in the
accumulator's fourth lane; a non-finite input pixel is stored there as is
from Y_1 on and skipped by the later passes (an accumulator lane is
non-finite only then, float32 overflow aside). X_j and Y_j compute
``c_{j-1}`` with one expression (the same taps summed in the same order),
so they use the same value (up to a driver contracting a multiply-add in one
and not the other). Each invocation computes 8 outputs along its
pass's axis, ``d`` apart, sliding a 5-tap window: per output, X_j (j > 1)
loads 7.5 pixels instead of 25 and Y_j 4.9 instead of 11. Per pixel: 19
full-image reads and 10 writes (the 11 passes before read 16 and wrote 11,
and held 7 buffers). The result equals the former 11-pass one to float32
rounding of the accumulation order (measured <= 1.8e-7). The statistic (``sigma`` of Y, Cb, Cr) is
computed on the GPU too (:func:`gpu_noise_sigma`): one pass stores the
float32 bits of ``|w1|`` (ordered like the values, since they are >= 0),
then an exact radix select (12 + 12 + 8 bits, workgroup histograms of 4096
bins) finds the middle order statistics. Six searches (3 channels x the 2
middle ranks, equal for an odd pixel count) keep their state (prefix, count
below, error flag) in a small storage buffer; per step a histogram pass
reads it (a channel's second rank reuses the first's histogram while their
prefixes agree) and a one-workgroup-per-search selection pass finds the
digit on the GPU (a workgroup prefix sum over 256 x 16 bins: the first bin
whose running count exceeds ``rank - below``), exactly as a host loop over
read-back histograms would, and writes the next step's state. All uploads
precede one submit of one command encoder. In a plan
(:func:`gpu_threshold_rows`) a last one-invocation kernel turns the two
middle values into each level's thresholds, which the band passes copy
into their parameters on the GPU, and the error flags are read after the
run; :func:`gpu_noise_sigma` reads back the final state instead (96 bytes:
the selected keys and the error flags), bit-identical to the former
three-round-trip version.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from pydantic import Field

from pixelpipe.errors import GPUError
from pixelpipe.ops.base import Array, DeviceStatistics, GlobalOp, GpuPass, TileView, load_wgsl
from pixelpipe.ops.spatial.separable import edge_indices
from pixelpipe.stats.core import LUMA_WEIGHTS

#: Levels of the transform (detail bands w1 .. w5 plus the coarse residual c5).
LEVELS = 5
#: The cubic B-spline (B3) kernel, taps 2**(j-1) pixels apart at level j.
B3 = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0
#: MAD of unit Gaussian noise: the standard normal's 0.75 quantile.
MAD_TO_SIGMA = 0.6745
#: Threshold in noise sigmas at slider 100.
K_MAX = 3.0
#: Outputs per invocation of the GPU transform passes (``RUN`` in denoise_taps.wgsl).
GPU_RUN = 8

F64 = npt.NDArray[np.float64]


def ycbcr_weights() -> tuple[float, float, float]:
    """The Rec.2020 luma weights ``(Kr, Kg, Kb)`` (ITU-R BT.2020-2, table 4)."""
    kr, kg, kb = LUMA_WEIGHTS["rec2020"]
    return kr, kg, kb


def rgb_to_ycbcr(rgb: npt.NDArray[np.floating]) -> F64:
    """Linear RGB ``(..., 3)`` -> float64 ``(..., 3)`` Y, Cb, Cr (see the module note)."""
    kr, kg, kb = ycbcr_weights()
    c = np.asarray(rgb, np.float64)
    y = kr * c[..., 0] + kg * c[..., 1] + kb * c[..., 2]
    cb = (c[..., 2] - y) / (2.0 * (1.0 - kb))
    cr = (c[..., 0] - y) / (2.0 * (1.0 - kr))
    return np.stack([y, cb, cr], axis=-1)


def ycbcr_to_rgb(ycc: npt.NDArray[np.floating]) -> F64:
    """Inverse of :func:`rgb_to_ycbcr`: float64 ``(..., 3)`` R, G, B."""
    kr, kg, kb = ycbcr_weights()
    c = np.asarray(ycc, np.float64)
    r = c[..., 0] + 2.0 * (1.0 - kr) * c[..., 2]
    b = c[..., 0] + 2.0 * (1.0 - kb) * c[..., 1]
    g = (c[..., 0] - kr * r - kb * b) / kg
    return np.stack([r, g, b], axis=-1)


def smooth(c: F64, dilation: int) -> F64:
    """One à trous smoothing step: ``c`` float64 (H, W, C) correlated with B3, taps
    ``dilation`` pixels apart, along x then y, mirror (reflect-101) edges."""
    out = c
    for axis in (1, 0):
        # filtered axis first; one gather per tap (a padded copy would be far
        # larger than the image when the taps reach beyond a thin axis)
        a = np.moveaxis(out, axis, 0)
        n = a.shape[0]
        pos = np.arange(n, dtype=np.int64)
        acc = np.zeros(a.shape, np.float64)
        for k, wk in enumerate(B3):
            idx, _ = edge_indices(pos + (k - 2) * dilation, n, "mirror")
            acc += wk * np.take(a, idx, axis=0)
        out = np.ascontiguousarray(np.moveaxis(acc, 0, axis))
    return out


def atrous(c0: npt.NDArray[np.floating], levels: int = LEVELS) -> tuple[list[F64], F64]:
    """À trous B3-spline transform of ``c0`` (H, W, C), any real dtype.

    Returns ``(bands, coarse)``: ``levels`` float64 detail bands ``w1 ..``
    (finest first) and the float64 coarse residual, each (H, W, C), with
    ``c0 == coarse + sum(bands)`` up to float64 rounding.
    """
    cur = np.asarray(c0, np.float64)
    bands = []
    for j in range(levels):
        nxt = smooth(cur, 2 ** j)
        bands.append(cur - nxt)
        cur = nxt
    return bands, cur


@cache
def _band_noise_factors(levels: int) -> tuple[float, ...]:
    g = np.array([1.0])  # 1-D equivalent kernel of c_j; c_0: the unit impulse
    prev2d = np.array([[1.0]])
    out = []
    for j in range(levels):
        d = 2 ** j
        h = np.zeros(4 * d + 1)
        h[::d] = B3
        g = np.convolve(g, h)
        cur2d = np.outer(g, g)
        pad = (cur2d.shape[0] - prev2d.shape[0]) // 2
        diff = cur2d - np.pad(prev2d, pad)
        out.append(float(np.sqrt(np.sum(diff * diff))))
        prev2d = cur2d
    return tuple(out)


def band_noise_factors(levels: int = LEVELS) -> F64:
    """``e_j``, j = 1 .. levels: std of band j for unit-variance white noise (float64).

    Computed exactly from the kernel as the L2 norm of the band's 2-D
    equivalent filter ``G_{j-1} - G_j`` (away from the edges).
    """
    return np.array(_band_noise_factors(levels), np.float64)


def _finite_pixels(x: Array) -> npt.NDArray[np.bool_]:
    return np.all(np.isfinite(x[..., :3]), axis=-1)


def _transform_input(x: Array) -> F64:
    """Y/Cb/Cr of ``x``'s RGB, non-finite pixels entering as black."""
    rgb = np.where(_finite_pixels(x)[..., None], x[..., :3], np.float32(0.0))
    return rgb_to_ycbcr(rgb)


def noise_sigma(x: Array) -> F64:
    """Noise standard deviation of Y, Cb, Cr of ``x`` float32 (H, W, 4): float64 (3,).

    ``median(|w1|) / 0.6745 / e_1`` per channel (Donoho & Johnstone 1994),
    ``w1`` the finest à trous band; in the image's value unit. Zero for a
    constant image or a 1x1 image.
    """
    c0 = _transform_input(x)
    w1 = c0 - smooth(c0, 1)
    mad = np.median(np.abs(w1).reshape(-1, 3), axis=0)
    return np.asarray(mad / MAD_TO_SIGMA / band_noise_factors(1)[0], np.float64)


#: Most values :func:`tiled_median` gathers to select among (32 MiB of float64).
GATHER_CAP = 1 << 22


def tiled_median(values: Callable[[], Iterable[F64]], n: int, channels: int) -> F64:
    """Exact per-channel ``numpy.median`` of ``n`` values seen in chunks, float64 (channels,).

    ``values()`` yields float64 (m, channels) chunks, >= 0 and not NaN,
    ``n`` rows in all; each call is one pass. A radix select on the float64
    bit patterns (ordered like the values, since they are >= 0): each pass
    histograms the next 16 bits of the values inside the bin found so far
    (65536 counts per channel and order statistic), until the bin holds at
    most :data:`GATHER_CAP` values; a last pass gathers those and selects
    with ``numpy.partition``. The result is the middle order statistic (odd
    ``n``) or the mean of the two middle ones (even ``n``), computed as
    ``numpy.median`` does: bit-identical. Passes: 1 when ``n <= GATHER_CAP``,
    else usually 2 or 3 (at most 4). Memory: the histograms and the gathered
    values, independent of ``n`` beyond ``GATHER_CAP``.
    """
    ranks = sorted({(n - 1) // 2, n // 2})
    # (channel, rank) -> [prefix, known top bits, values below the bin, values in the bin]
    state = {(c, r): [0, 0, 0, n] for c in range(channels) for r in ranks}
    found: dict[tuple[int, int], int] = {}
    while len(found) < len(state):
        todo = {k: st for k, st in state.items() if k not in found}
        hists: dict[tuple[int, int, int], npt.NDArray[np.int64]] = {}
        gathers: dict[tuple[int, int, int], list[npt.NDArray[np.uint64]]] = {}
        for (c, _), (prefix, bits, _, count) in todo.items():
            if count <= GATHER_CAP:
                gathers[(c, prefix, bits)] = []
            else:
                hists[(c, prefix, bits)] = np.zeros(1 << 16, np.int64)
        for chunk in values():
            keys = np.ascontiguousarray(chunk, np.float64).view(np.uint64)
            for (c, prefix, bits), hist in hists.items():
                k = keys[:, c]
                if bits:
                    k = k[(k >> np.uint64(64 - bits)) == np.uint64(prefix >> (64 - bits))]
                digit = (k >> np.uint64(48 - bits)) & np.uint64(0xFFFF)
                hist += np.bincount(digit.astype(np.int64), minlength=1 << 16)
            for (c, prefix, bits), kept in gathers.items():
                k = keys[:, c]
                if bits:
                    k = k[(k >> np.uint64(64 - bits)) == np.uint64(prefix >> (64 - bits))]
                kept.append(k.copy())
        for (c, r), st in todo.items():
            prefix, bits, below, count = st
            if count <= GATHER_CAP:
                kept_all = np.concatenate(gathers[(c, prefix, bits)])
                found[(c, r)] = int(np.partition(kept_all, r - below)[r - below])
                continue
            cum = np.cumsum(hists[(c, prefix, bits)])
            j = int(np.searchsorted(cum, r - below, side="right"))
            st[2] = below + (int(cum[j - 1]) if j > 0 else 0)
            st[3] = int(cum[j]) - (int(cum[j - 1]) if j > 0 else 0)
            st[0] = prefix | (j << (48 - bits))
            st[1] = bits + 16
            if st[1] == 64:
                found[(c, r)] = st[0]
    out = np.empty(channels, np.float64)
    for c in range(channels):
        picked = np.array([found[(c, r)] for r in ranks], np.uint64).view(np.float64)
        out[c] = np.median(picked)
    return out


#: (shift, mask) of the three radix steps of the GPU median: key bits 31..20,
#: then 19..8 under the found 12-bit prefix, then 7..0 under the 24-bit one.
_RADIX_STEPS = ((20, 0x00000000), (8, 0xFFF00000), (0, 0xFFFFFF00))
_HIST_BINS = 4096
_SIGMA_GROUPS = 1024  #: most workgroups of one histogram dispatch along x
#: The searches of the GPU median: (channel, rank index) for 3 channels x 2 ranks.
_SEARCHES = 6
#: u32 words per search in the state buffer: prefix, below, error, count.
_STATE_WORDS = 4
#: Bytes between the per-step copies of the uniform cfg (the offset alignment).
_CFG_STRIDE = 256
#: ``epilogue`` of the band passes before the last (which the backend gives its own).
_IDENTITY_EPILOGUE = "fn epilogue(c: vec4<f32>) -> vec4<f32> {\n    return c;\n}\n"


class _SigmaKernel:
    """The compiled pipelines of :func:`gpu_noise_sigma` for one device."""

    def __init__(self, be: Any) -> None:
        common = (f"const RADIX_STEPS: u32 = {len(_RADIX_STEPS)}u;\n"
                  + load_wgsl(__package__, "denoise_common.wgsl")
                  + load_wgsl(__package__, "denoise_sigma_cfg.wgsl"))
        self.pipelines = {}
        for name in ("band", "hist", "select", "rows"):
            module = be.device.create_shader_module(
                code=common + load_wgsl(__package__, f"denoise_sigma_{name}.wgsl"))
            self.pipelines[name] = be.device.create_compute_pipeline(
                layout="auto", compute={"module": module, "entry_point": "main"})


_SIGMA_KERNELS: weakref.WeakKeyDictionary[Any, _SigmaKernel] = weakref.WeakKeyDictionary()
#: Bytes of one slot of the search state (the state before one radix step).
_SLOT_BYTES = _SEARCHES * _STATE_WORDS * 4
#: Byte offset of the final slot: the selected keys and the error flags.
_FINAL_SLOT = len(_RADIX_STEPS) * _SLOT_BYTES


def gpu_noise_sigma(be: Any, buffer: Any, height: int, width: int) -> F64:
    """:func:`noise_sigma` of the RGBA float32 image in GPU ``buffer``, computed on the GPU.

    ``be`` is the :class:`~pixelpipe.backends.wgpu.backend.WgpuBackend`;
    ``buffer`` holds ``height * width`` RGBA float32 pixels, row-major.
    The band ``w1`` is computed in float32 (one pass over 16 x 16 tiles
    held in workgroup memory) and its exact median found by a three-step
    radix select on the float32 bit patterns (12 + 12 + 8 bits), each step
    a histogram pass and a digit-selection pass on the GPU (six searches:
    3 channels x the 2 middle ranks). All
    work is one submit; the only read-back is the 96-byte search state (the
    selected keys and an error flag). Matches the float64 reference to
    float32 rounding of ``w1`` (about 1e-7 relative). Returns float64 (3,).

    Raises :class:`~pixelpipe.errors.GPUError` when a rank falls outside the
    counted keys (a GPU fault: every key is counted).
    """
    from pixelpipe.backends.wgpu.pool import read_back

    u = be._wgpu.BufferUsage
    readback = be.pool.acquire(_SLOT_BYTES, u.MAP_READ | u.COPY_DST)
    try:
        enc, state = _record_noise_sigma(be, buffer, height, width)
        try:
            enc.copy_buffer_to_buffer(state, _FINAL_SLOT, readback, 0, _SLOT_BYTES)
            be.device.queue.submit([enc.finish()])
        finally:
            be.pool.release(state)
        final = read_back(readback, _SLOT_BYTES)
    finally:
        be.pool.release(readback)
    _check_ranks(be, final, _middle_ranks(height * width))
    final = final.reshape(3, 2, _STATE_WORDS)
    # odd n: both ranks are the middle one, and (a + a) / 2 == a exactly
    medians = final[..., 0].copy().view(np.float32).astype(np.float64).mean(axis=1)
    return np.asarray(medians / MAD_TO_SIGMA / band_noise_factors(1)[0], np.float64)


def gpu_threshold_rows(be: Any, buffer: Any, height: int, width: int,
                       per_sigma: npt.NDArray[np.floating]) -> DeviceStatistics:
    """The soft thresholds of every level computed on the GPU and left there.

    ``per_sigma`` float (LEVELS, 3): the thresholds per unit noise sigma
    (:meth:`Denoise.thresholds` of sigma 1). The kernels of
    :func:`gpu_noise_sigma` run, then ``denoise_sigma_rows.wgsl`` writes
    row j = (t_Y, t_Cb, t_Cr, 0) = sigma x ``per_sigma[j]`` in float32
    (16 bytes per level) into the returned statistics' buffer; nothing is
    read back. Equal to the read-back path's thresholds to float32
    rounding (a few 1e-7 relative). The check raises
    :class:`~pixelpipe.errors.GPUError` after the run, as
    :func:`gpu_noise_sigma` does.
    """
    u = be._wgpu.BufferUsage
    levels = int(np.shape(per_sigma)[0])
    # sigma = median / MAD_TO_SIGMA / e_1 folds into the factors
    factors = np.zeros((levels, 4), np.float32)
    factors[:, :3] = np.asarray(per_sigma, np.float64) / MAD_TO_SIGMA / band_noise_factors(1)[0]
    fbuf = be.pool.acquire(factors.nbytes, u.STORAGE | u.COPY_DST)
    rows = be.pool.acquire(factors.nbytes, u.STORAGE | u.COPY_SRC | u.COPY_DST)
    check = be.pool.acquire(_SLOT_BYTES, u.MAP_READ | u.COPY_DST)
    state = None
    try:
        be.device.queue.write_buffer(fbuf, 0, factors)
        enc, state = _record_noise_sigma(be, buffer, height, width)
        pipe = _SIGMA_KERNELS[be].pipelines["rows"]
        bg = be.device.create_bind_group(layout=pipe.get_bind_group_layout(0), entries=[
            {"binding": 0, "resource": {"buffer": fbuf, "offset": 0, "size": factors.nbytes}},
            {"binding": 2, "resource": {"buffer": state, "offset": 0, "size": int(state.size)}},
            {"binding": 3, "resource": {"buffer": rows, "offset": 0, "size": factors.nbytes}},
        ])
        cp = be.compute_pass(enc)
        cp.set_pipeline(pipe)
        cp.set_bind_group(0, bg)
        cp.dispatch_workgroups(1, 1, 1)
        cp.end()
        enc.copy_buffer_to_buffer(state, _FINAL_SLOT, check, 0, _SLOT_BYTES)
        be.device.queue.submit([enc.finish()])
    except BaseException:
        be.pool.release(rows)
        be.pool.release(check)
        raise
    finally:
        # later work that reuses these is recorded, and so runs, after the kernels
        if state is not None:
            be.pool.release(state)
        be.pool.release(fbuf)
    ranks = _middle_ranks(height * width)
    return DeviceStatistics(rows, [rows, check],
                            lambda words: _check_ranks(be, words, ranks), check)


def _middle_ranks(n: int) -> tuple[int, int]:
    """The 0-based ranks of the middle order statistics of ``n`` values (equal for odd n)."""
    return (n - 1) // 2, n // 2


def _check_ranks(be: Any, final: npt.NDArray[np.uint32], ranks: tuple[int, int]) -> None:
    """Raise :class:`GPUError` when a search of the final state set its error flag."""
    final = np.asarray(final[:_SLOT_BYTES // 4]).reshape(3, 2, _STATE_WORDS)
    for c in range(3):
        for i in range(2):
            if final[c, i, 2]:
                raise GPUError(f"{be.describe()}: denoise noise estimate counted "
                               f"{int(final[c, i, 3])} values, fewer than rank "
                               f"{ranks[i]} needs")


def _record_noise_sigma(be: Any, buffer: Any, height: int, width: int) -> tuple[Any, Any]:
    """Write the inputs of the GPU median and record its kernels.

    Returns the unfinished command encoder and the search-state buffer
    (borrowed from the pool: the caller gives it back once its own commands
    that read it are recorded). The other scratch buffers go back to the
    pool at once: whatever reuses them is recorded after these kernels.
    """
    k = _SIGMA_KERNELS.get(be)
    if k is None:
        k = _SIGMA_KERNELS[be] = _SigmaKernel(be)
    u = be._wgpu.BufferUsage
    n = height * width
    ranks = _middle_ranks(n)
    kr, kg, kb = ycbcr_weights()
    conv = np.array([[kr, kg, kb, 1.0 / kg],
                     [1.0 / (2.0 * (1.0 - kb)), 1.0 / (2.0 * (1.0 - kr)),
                      2.0 * (1.0 - kb), 2.0 * (1.0 - kr)]], np.float32)
    groups = max(1, min(-(-n // (256 * 16)), _SIGMA_GROUPS))
    # one cfg per radix step (the band pass uses the first), 256 bytes apart
    cfg = np.zeros((len(_RADIX_STEPS), _CFG_STRIDE // 4), np.uint32)
    for step, (shift, mask) in enumerate(_RADIX_STEPS):
        cfg[step, :8] = [width, height, step, shift, mask, ranks[0], ranks[1], 0]
        cfg[step, 8:16] = conv.reshape(-1).view(np.uint32)
    cfg_bytes = 64  # the Cfg struct: 8 u32 + 2 vec4<f32>
    state_bytes = (len(_RADIX_STEPS) + 1) * _SLOT_BYTES
    hist_bytes = _SEARCHES * _HIST_BINS * 4
    scratch: list[Any] = []

    def acquire(nbytes: int, usage: int | None = None) -> Any:
        be.check_size(nbytes)
        buf = be.pool.acquire(nbytes, usage)
        scratch.append(buf)
        return buf

    def dispatch(enc: Any, name: str, step: int, bindings: list[tuple[Any, int]],
                 workgroups: tuple[int, int]) -> None:
        entries = [{"binding": 1, "resource": {"buffer": ubuf, "offset": step * _CFG_STRIDE,
                                               "size": cfg_bytes}}]
        for i, (buf, size) in zip((0, 2, 3), bindings, strict=False):
            entries.append({"binding": i, "resource": {"buffer": buf, "offset": 0,
                                                       "size": size}})
        bg = be.device.create_bind_group(
            layout=k.pipelines[name].get_bind_group_layout(0), entries=entries)
        cp = be.compute_pass(enc)
        cp.set_pipeline(k.pipelines[name])
        cp.set_bind_group(0, bg)
        cp.dispatch_workgroups(workgroups[0], workgroups[1], 1)
        cp.end()

    state = be.pool.acquire(state_bytes)
    try:
        keys = acquire(3 * n * 4)
        ubuf = acquire(cfg.nbytes, u.UNIFORM | u.COPY_DST)
        hist = acquire(hist_bytes)
        # every write before the encoder is submitted (slot 0: prefix 0, nothing below)
        be.device.queue.write_buffer(ubuf, 0, cfg)
        be.device.queue.write_buffer(state, 0, np.zeros(state_bytes // 4, np.uint32))
        enc = be.device.create_command_encoder()
        tiles = -(-width // 16) * -(-height // 16)
        gx = min(tiles, be.max_groups)
        dispatch(enc, "band", 0, [(buffer, n * 16), (keys, 3 * n * 4)], (gx, -(-tiles // gx)))
        for step in range(len(_RADIX_STEPS)):
            enc.clear_buffer(hist, 0, hist_bytes)
            dispatch(enc, "hist", step, [(keys, 3 * n * 4), (hist, hist_bytes),
                                         (state, state_bytes)], (groups, _SEARCHES))
            dispatch(enc, "select", step, [(hist, hist_bytes), (state, state_bytes)],
                     (_SEARCHES, 1))
    except BaseException:
        be.pool.release(state)
        raise
    finally:
        for b in scratch:
            be.pool.release(b)
    return enc, state


class Denoise(GlobalOp):
    """Wavelet noise reduction of linear Rec.2020 RGB (à trous B3-spline, soft thresholds).

    Parameters
    ----------
    luminance : float, 0 to 100, default 0
        Strength on luminance noise: the luminance thresholds are
        ``3 * luminance / 100`` noise sigmas per band.
    color : float, 0 to 100, default 0
        Strength on colour noise (Cb, Cr): ``3 * color / 100`` sigmas.
    detail : float, 0 to 100, default 0
        Fine luminance detail kept: lowers the luminance threshold of level
        ``j`` by the factor ``1 - detail/100 * 2**-j``.

    Input/output: float32 (H, W, 4), linear Rec.2020 RGB + alpha; alpha and
    non-finite pixels are passed through. The noise level is estimated from
    the image (:func:`noise_sigma`); see the module docstring for the
    algorithm, its sources and the precision.
    """

    op_name: ClassVar[str] = "denoise"

    luminance: float = Field(0.0, ge=0.0, le=100.0,
                             description="luminance noise reduction strength (100 = 3 sigma)",
                             json_schema_extra={"unit": "slider"})
    color: float = Field(0.0, ge=0.0, le=100.0,
                         description="colour (Cb/Cr) noise reduction strength (100 = 3 sigma)",
                         json_schema_extra={"unit": "slider"})
    detail: float = Field(0.0, ge=0.0, le=100.0,
                          description="fine luminance detail preserved (lowers the "
                                      "finest levels' luminance thresholds)",
                          json_schema_extra={"unit": "slider"})

    def is_identity(self) -> bool:
        return self.luminance == 0.0 and self.color == 0.0

    def radius(self) -> int:
        # taps reach 2 * 2**(j-1) pixels at level j
        return sum(2 * 2 ** j for j in range(LEVELS))

    def apply_radius(self, height: int, width: int) -> int:
        """Halo of a tile: the à trous support, ``sum_j 2 * 2**(j-1)`` = 62 pixels.

        Level ``j`` reads ``c_{j-1}`` 2 dilations (``2 * 2**(j-1)`` pixels) away
        on each axis, so ``c5`` (and every band) at a pixel depends on the
        input within ``2 + 4 + 8 + 16 + 32`` pixels; the reconstruction is
        per pixel. Independent of the image size.
        """
        return self.radius()

    # --- statistics and thresholds ----------------------------------------------------
    def statistics(self, x: Array) -> npt.NDArray[Any]:
        """Noise sigma of Y, Cb, Cr (float64 (3,), image value unit); zeros when identity."""
        if self.is_identity():
            return np.zeros(3, np.float64)
        return noise_sigma(x)

    def statistics_radius(self, height: int, width: int) -> int:
        """Halo of :meth:`statistics_from_tiles`: ``w1`` reads 2 pixels (level-1 taps)."""
        return 2

    def statistics_from_tiles(self, tiles: Callable[[], Iterable[TileView]],
                              full_shape: tuple[int, int]) -> npt.NDArray[Any]:
        """:meth:`statistics` from tiles (for streaming), equal to it bit for bit.

        The medians of ``|w1|`` are found exactly by :func:`tiled_median`:
        each pass over the tiles recomputes ``w1`` (float64, as
        :func:`noise_sigma`) on the tile padded by 2 pixels.
        """
        if self.is_identity():
            return np.zeros(3, np.float64)

        def values() -> Iterator[F64]:
            for tile, (y0, y1, x0, x1), _ in tiles():
                c0 = _transform_input(tile)
                w1 = c0 - smooth(c0, 1)
                yield np.abs(w1[y0:y1, x0:x1]).reshape(-1, 3)

        mad = tiled_median(values, full_shape[0] * full_shape[1], 3)
        return np.asarray(mad / MAD_TO_SIGMA / band_noise_factors(1)[0], np.float64)

    def gpu_statistics(self, backend: Any, buffer: Any, height: int,
                       width: int) -> npt.NDArray[Any] | None:
        """Noise sigma of Y, Cb, Cr computed on the GPU and read back
        (:func:`gpu_noise_sigma`). Inside a plan the backend uses
        :meth:`gpu_statistics_device` instead; this read-back path serves
        stand-alone use and the tests against the reference."""
        if self.is_identity():
            return np.zeros(3, np.float64)
        return gpu_noise_sigma(backend, buffer, height, width)

    def gpu_statistics_device(self, backend: Any, buffer: Any, height: int,
                              width: int) -> DeviceStatistics | None:
        """The thresholds of every level left on the GPU (:func:`gpu_threshold_rows`)."""
        if self.is_identity():
            return None  # no passes
        return gpu_threshold_rows(backend, buffer, height, width,
                                  self.thresholds(np.ones(3, np.float64)))

    def gpu_passes_device(self, height: int, width: int,
                          stats: DeviceStatistics) -> list[GpuPass]:
        """:meth:`gpu_passes_with`, each level's threshold row copied in on the GPU."""
        return self._passes(height, width, np.ones(3, np.float64), stats.buffer)

    def thresholds(self, stats: npt.NDArray[Any]) -> F64:
        """Soft thresholds float64 (5, 3): level j = 1 .. 5 (rows) by Y, Cb, Cr."""
        sigma = np.asarray(stats, np.float64).reshape(3)
        e = band_noise_factors()
        j = np.arange(1, LEVELS + 1)
        k_y = K_MAX * self.luminance / 100.0 * (1.0 - self.detail / 100.0 * 2.0 ** -j)
        k_c = np.full(LEVELS, K_MAX * self.color / 100.0)
        k = np.stack([k_y, k_c, k_c], axis=1)
        return np.asarray(k * sigma[None, :] * e[:, None], np.float64)

    # --- reference ------------------------------------------------------------------------
    def apply(self, x: Array, stats: npt.NDArray[Any]) -> Array:
        if self.is_identity():
            return x.copy()
        t = self.thresholds(stats)
        bands, acc = atrous(_transform_input(x))
        for j, w in enumerate(bands):
            acc = acc + np.sign(w) * np.maximum(np.abs(w) - t[j], 0.0)
        out = x.copy()
        rgb = ycbcr_to_rgb(acc).astype(np.float32)
        out[..., :3] = np.where(_finite_pixels(x)[..., None], rgb, x[..., :3])
        return out

    # --- WebGPU -----------------------------------------------------------------------------
    def _conversion_rows(self) -> F64:
        kr, kg, kb = ycbcr_weights()
        return np.array([
            [kr, kg, kb, 1.0 / kg],
            [1.0 / (2.0 * (1.0 - kb)), 1.0 / (2.0 * (1.0 - kr)),
             2.0 * (1.0 - kb), 2.0 * (1.0 - kr)],
        ])

    def gpu_passes_with(self, height: int, width: int,
                        stats: npt.NDArray[Any]) -> list[GpuPass]:
        """The 10 WebGPU passes (see the module note, "GPU"): per level an along-x
        pass ``t_j`` and an along-y pass that thresholds band ``j`` into the
        accumulator in place; at most 3 image buffers live at any pass."""
        return self._passes(height, width, stats)

    def _passes(self, height: int, width: int, stats: npt.NDArray[Any],
                device: Any = None) -> list[GpuPass]:
        """The passes; ``device``: a GPU buffer whose row j (16 bytes) replaces
        the threshold row (parameter row 4) of level j's along-y pass."""
        size = (height, width)
        if self.is_identity():
            return []  # the input unchanged
        common = load_wgsl(__package__, "denoise_common.wgsl") + load_wgsl(
            __package__, "denoise_taps.wgsl")
        smooth_src = common + load_wgsl(__package__, "denoise_smooth.wgsl")
        band_src = common + load_wgsl(__package__, "denoise_band.wgsl")
        conv = self._conversion_rows()
        taps = [[B3[0], B3[1], B3[2], 0.0]]
        t = self.thresholds(stats)
        passes: list[GpuPass] = []
        acc: str | None = None  # the accumulator: level 1's along-y pass
        for j in range(LEVELS):
            d = 2.0 ** j
            first, last = float(j == 0), float(j == LEVELS - 1)
            # t_j = h_d (x) * c_{j-1}: from the input (level 1) or from t_{j-1}
            x_in = "in" if j == 0 else f"p{len(passes) - 2}"
            x_params = np.concatenate([[[d, d / 2.0, first, 0.0]], conv, taps])
            passes.append(GpuPass(smooth_src, x_params.astype(np.float32), size, (x_in,),
                                  tile=(16, 16 * GPU_RUN)))
            # acc += T(c_{j-1} - c_j), c_j = h_d (y) * t_j; c_{j-1} from the
            # input (level 1) or t_{j-1}, which is then no longer needed
            t_j = f"p{len(passes) - 1}"
            y_params = np.concatenate([[[d, first, last, 0.0]], conv, taps,
                                       [[*t[j], 0.0]]]).astype(np.float32)
            # the last level's output is the op's: it takes the epilogue
            rows = () if device is None else ((4, device, 16 * j),)
            passes.append(GpuPass(band_src if last else _IDENTITY_EPILOGUE + band_src, y_params,
                                  size, (t_j, x_in), in_place=acc, tile=(16 * GPU_RUN, 16),
                                  epilogue=bool(last), device_rows=rows))
            if acc is None:
                acc = f"p{len(passes) - 1}"
        return passes
