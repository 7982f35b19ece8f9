"""Dehaze: dark channel prior with a guided-filter transmission.

Algorithm
---------
Haze imaging model (Koschmieder; as used by He, Sun & Tang)::

    I(x) = J(x) t(x) + A (1 - t(x))

``I`` the observed linear RGB, ``J`` the haze-free scene radiance, ``A`` the
airlight (atmospheric light, an RGB colour), ``t`` the transmission (1 =
no haze, 0 = only haze).

Statistics (the :class:`~pixelpipe.ops.base.GlobalOp` step): the **dark
channel** ``D = minfilter_r(min(R, G, B))`` with a square window of radius
``r = dark_radius(H, W) = max(1, round(7 * min(H, W) / 600))`` pixels
(He et al.'s 15 x 15 patch at a 600-pixel short side, scaled with the
image) and edge mode "nearest". Let ``k = ceil(H W / 1000)`` (0.1 % of the
pixels, at least 1) and ``T`` the k-th largest finite dark-channel value;
the candidates are the pixels with ``D >= T`` (ties included). Among them
``A`` is the RGB of the pixel of highest intensity ``(R + G) + B`` (float32;
on ties the first in row-major order), each channel floored at
``AIRLIGHT_FLOOR``. He et al. pick "the pixels with highest intensity"
among the brightest 0.1 % of the dark channel; we take the single brightest
one (not a mean) so that the statistic is an exact, order-free selection
that every backend reproduces bit for bit.

Apply, ``amount > 0`` (remove haze), ``omega = 0.95 * amount / 100``
(amount 100 = He et al.'s omega 0.95, which keeps a trace of haze for
depth)::

    p  = 1 - omega * minfilter_r(min_c(I_c / A_c))        raw transmission
    q  = guided_filter(guide = Y(I), input = p, radius = 4 r, eps = 1e-3)
    J  = (I - A) / clamp(q, t0, 1) + A,   t0 = 0.1

``Y`` is the Rec. 2020 luma of the linear input (0.2627 R + 0.6780 G +
0.0593 B). The guided filter (He, Sun & Tang 2013, grey guide) is::

    mean_I, mean_p, mean_Ip, mean_II = box(I), box(p), box(I p), box(I I)
    a = (mean_Ip - mean_I mean_p) / (mean_II - mean_I^2 + eps)
    b = mean_p - a mean_I
    q = box(a) I + box(b)

with ``box`` the mean over a ``(2 * 4r + 1)^2`` window, edge mode "mirror"
(reflect-101; :mod:`pixelpipe.ops.spatial.separable`). The refined
transmission follows edges of the image instead of the blocky patches of
the min filter; ``t0`` bounds the gain ``1 / t`` (noise amplification) and
``q <= 1`` keeps hazy-free areas from losing contrast.

Apply, ``amount < 0`` (add scene-coloured haze): a uniform veil of the
image's own airlight colour, ``t' = 1 - 0.7 * |amount| / 100``::

    J = I t' + A (1 - t')

Per tile (tiled and streamed execution): the airlight is merged exactly
from tiles padded by ``r`` (:meth:`Dehaze.statistics_from_tiles`: the k-th
largest dark-channel value by a two-pass radix select on float32 order
keys, then the brightest candidate, first in the image's row-major order);
the apply step of a tile reads ``r + 2 x 4 r = 9 r`` pixels around it
(minimum filter, then the guided filter's two box means) with ``r`` the
FULL image's ``dark_radius`` (:meth:`Dehaze.apply_region`), so tiles equal
the whole-image result. Adding haze is per pixel (halo 0).

Alpha is untouched. Values outside 0..1 (linear HDR) are processed with the
same formulas; the guide's ``eps`` is in linear units (for data scaled so
that diffuse white is about 1).

Non-finite input: a NaN spreads over the dark channel's window (as
``numpy.minimum``); the statistics skip pixels whose dark-channel value or
intensity is not finite (both backends alike); the output at and around
non-finite pixels is not specified and may differ between backends (the
reference: within the filter radii; WebGPU: to the end of the box passes'
runs, up to 128 pixels further along each axis, since a running sum that
took in a NaN or an infinity keeps it).

WebGPU (``dehaze.wgsl``; 6 passes, at most 3 image buffers at once, the
input and the output included): the minimum filters load each line
segment with its margins into workgroup memory once and build the window
minimum by doubling (minima over 2, 4 ... 2^k samples, then two
overlapping 2^k windows cover the 2 r + 1; log2(2 r + 1) steps); exact.
The box means are O(1) per pixel whatever the radius: running sums
``S(x) = S(x - 1) + (in[x + R] - in[x - 1 - R])`` along y (one invocation
per column and run of rows) and along x (16 rows x 16 columns per step
through workgroup memory), each run restarted from a direct sum of its
window after at most 128 outputs so that float32 drift cannot build up,
and each sum taken over deviations from a sample of its first window
(rounding relative to the local variation, not to the values). The guide
is shifted by the airlight's luma before ``I p`` and ``I I`` are formed:
the guided filter is invariant under a constant shift of its guide, and
the shift keeps the cancelling variance small where the haze is. The
coefficients ``(a, b)`` are computed as the first box mean's x pass
writes, and ``q``, ``t``, ``J`` as the second's does.

WebGPU statistics (:func:`gpu_airlight`, ``dehaze_select.wgsl``): the two
min passes give (dark channel, intensity) per pixel; three histogram rounds
(12, 12, 8 bits of the dark channel's order keys) each followed by a
one-workgroup ``select_digit`` (prefix sum of the counts from the largest
key down, the digit where the running count reaches ``k``) find the k-th
largest key; ``brightest`` (``atomicMax`` of the candidates' intensity keys)
and ``first`` (the smallest index with it) pick the pixel, and ``fetch``
copies its RGBA. The search state (round, prefix, mask, ``k``, "no finite
pixel") lives in a small storage buffer written by the GPU, so the 11
dispatches go into one command encoder and one submit: no host round trip
between the rounds. In a plan (:func:`gpu_airlight_device`) ``fetch`` also
writes the apply passes' parameter row ``(A, luma(A))`` and nothing is read
back before they run; :func:`gpu_airlight` reads the 32-byte result back.

Precision: the minimum filters and the statistics are exact on both
backends (the WebGPU statistics, :func:`gpu_airlight`, select the same
pixel bit for bit: order keys, integer counts, atomics). The box means
are float64 sums on the reference and float32 running sums on WebGPU
(measured <= 6e-7 against the float64 box), and the variance
``mean_II - mean_I^2`` cancels; the recovered image divides by ``t >= 0.1``.
Reference and WebGPU agree within 1e-4 (absolute below 1, relative
above; measured on llvmpipe: <= 1.2e-6, see ``tests/ops/test_dehaze.py``).

Sources: K. He, J. Sun, X. Tang, "Single Image Haze Removal Using Dark
Channel Prior", CVPR 2009 / IEEE TPAMI 33(12), 2011 (dark channel, airlight,
omega, t0); K. He, J. Sun, X. Tang, "Guided Image Filtering", IEEE TPAMI
35(6), 2013 (guided filter, its use for the transmission).
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from functools import cache
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from pydantic import Field

from pixelpipe.errors import GPUError
from pixelpipe.ops.base import (
    Array,
    DeviceStatistics,
    GlobalOp,
    GpuPass,
    TileView,
    array_namespace,
    load_wgsl,
    pack_params,
)
from pixelpipe.ops.color.luma import REC2020, luma
from pixelpipe.ops.spatial.separable import edge_indices, separable_reference

#: Rec. ITU-R BT.2020 luma weights (R, G, B).
LUMA_2020 = REC2020
#: omega at amount 100 (He et al. 2011: 0.95).
OMEGA_MAX = 0.95
#: Lower bound of the transmission when removing haze (He et al. 2011: 0.1).
T0 = 0.1
#: Regulariser of the guided filter, linear units squared.
EPS = 1e-3
#: Guided-filter radius as a multiple of the dark-channel radius.
GUIDE_SCALE = 4
#: Share of the scene kept at amount -100 (negative amounts add haze).
HAZE_KEEP = 0.3
#: Share of the pixels whose dark channel is brightest (0.1 %).
TOP_FRACTION = 0.001
#: Smallest airlight channel value (keeps I / A finite on black images).
AIRLIGHT_FLOOR = 1e-4


def dark_radius(height: int, width: int) -> int:
    """Dark-channel window radius in pixels: ``max(1, round(7 * min(H, W) / 600))``."""
    return max(1, round(7 * min(height, width) / 600))


def guide_radius(height: int, width: int) -> int:
    """Guided-filter box radius in pixels: ``4 * dark_radius``."""
    return GUIDE_SCALE * dark_radius(height, width)


def min_filter(d: npt.NDArray[np.float32], r: int) -> npt.NDArray[np.float32]:
    """Minimum over a ``(2r + 1)^2`` window of float32 (H, W), edge mode "nearest".

    Separable (min along x, then along y), as ``scipy.ndimage.minimum_filter``
    with ``mode="nearest"``.
    """
    xp = array_namespace(d)
    out = d
    for axis in (1, 0):
        n = out.shape[axis]
        idx, _ = edge_indices(np.arange(-r, n + r, dtype=np.int64), n, "nearest")
        padded = xp.take(out, xp.asarray(idx), axis=axis)
        acc = out.copy()
        for k in range(2 * r + 1):
            sl = [slice(None), slice(None)]
            sl[axis] = slice(k, k + n)
            acc = xp.minimum(acc, padded[tuple(sl)])
        out = acc
    return out


def box_weights(r: int) -> npt.NDArray[np.float64]:
    """1-D box kernel of ``2r + 1`` taps, each ``1 / (2r + 1)``."""
    return np.full(2 * r + 1, 1.0 / (2 * r + 1))


@cache
def _sections() -> dict[str, str]:
    text = load_wgsl(__package__, "dehaze.wgsl")
    parts = re.split(r"^//@@ (\w+)\n", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def shader(*names: str, **consts: bool | int) -> str:
    """WGSL of one pass: ``consts`` as WGSL constants (``AXIS_X=True`` becomes
    ``const AXIS_X: bool = true;``, ints ``u32``), the ``common`` section, then
    the sections ``names`` (see ``dehaze.wgsl``)."""
    s = _sections()
    head = "".join(
        f"const {k}: bool = {'true' if v else 'false'};\n" if isinstance(v, bool)
        else f"const {k}: u32 = {int(v)}u;\n" for k, v in consts.items())
    return head + s["common"] + "".join(s[n] for n in names)


#: Samples of min_wg's workgroup window (``MIN_CAP`` in ``dehaze.wgsl``).
MIN_CAP = 1536
#: Longest run of a box-mean invocation between two direct sums (float32 drift).
BOX_RUN_MAX = 128


def _pow2_at_least(n: int) -> int:
    return 1 << max(0, int(n) - 1).bit_length()


def _min_tile_x(width: int, r: int) -> tuple[int, int]:
    """(rows, outputs per row) of a ``min_wg`` workgroup along x.

    Long rows: one row, up to 1,024 outputs (one contiguous stretch of the row
    per load; the ``2 r`` margin loads shared by many outputs); short rows:
    several rows, 256 outputs in all. (0, 0) when no window fits ``MIN_CAP``.
    """
    lx = min(1024, max(4, _pow2_at_least(width)))
    while lx > 4 and lx + 2 * r > MIN_CAP:
        lx //= 2
    cx = max(1, 256 // lx)
    while cx > 1 and cx * (lx + 2 * r) > MIN_CAP:
        cx //= 2
    return (cx, lx) if cx * (lx + 2 * r) <= MIN_CAP else (0, 0)


def _min_tile_y(height: int, width: int, r: int) -> tuple[int, int]:
    """(columns, outputs per column) of a ``min_wg`` workgroup along y.

    The most neighbouring columns (16, 8 …: each load is a contiguous piece
    of a row) that still leave at least 32 outputs per column (else the
    ``2 r`` margins dominate the loads); up to 256 outputs per column. (0, 0)
    when no window fits ``MIN_CAP``.
    """
    cy = min(16, _pow2_at_least(width))
    while cy >= 1:
        ly = min(256, max(4, _pow2_at_least(height)))
        while ly > 4 and cy * (ly + 2 * r) > MIN_CAP:
            ly //= 2
        fits = cy * (ly + 2 * r) <= MIN_CAP
        if fits and (ly >= 32 or ly >= height or cy == 1):
            return cy, ly
        cy //= 2
    return 0, 0


def min_passes(height: int, width: int, r: int, taps: tuple[str, str],
               finish: str, params: Array, inputs: tuple[str, ...] = ("in",),
               first: int = 0) -> list[GpuPass]:
    """The two passes (along x, then along y) of the separable minimum filter
    of radius ``r`` pixels, edge mode "nearest", on a ``(height, width)`` image.

    ``taps`` names the sample section of each pass (``tap_rgb``,
    ``tap_rgb_over_a``; the second pass reads the first's result with
    ``tap_x``), ``finish`` the section that writes the second pass's pixel;
    ``params[0].x`` must be ``r``. The first pass reads ``inputs[0]``; the
    second reads pass ``first`` (its number in the op's pass list) and then
    ``inputs``. Each pass loads a line segment with its ``r``-pixel margins
    into workgroup memory once (``min_wg``); windows too wide for it fall
    back to a direct scan (``min_main``, O(r) loads per pixel).
    """
    size = (height, width)
    cx, lx = _min_tile_x(width, r)
    cy, ly = _min_tile_y(height, width, r)
    # finish_pack and finish_stats read the op input as src1
    second_inputs = (f"p{first}",) if finish == "finish_plain" else (f"p{first}", *inputs)
    passes = []
    if cx:
        passes.append(GpuPass(shader(taps[0], "finish_plain", "min_wg", AXIS_X=True,
                                     MIN_C=cx, MIN_L=lx),
                              params, size, inputs[:1], tile=(cx, lx)))
    else:
        passes.append(GpuPass(shader(taps[0], "finish_plain", "min_main", AXIS_X=True),
                              params, size, inputs[:1]))
    if cy:
        passes.append(GpuPass(shader(taps[1], finish, "min_wg", AXIS_X=False,
                                     MIN_C=cy, MIN_L=ly),
                              params, size, second_inputs, tile=(ly, cy)))
    else:
        passes.append(GpuPass(shader(taps[1], finish, "min_main", AXIS_X=False),
                              params, size, second_inputs))
    return passes


def box_run(radius: int) -> int:
    """Outputs per invocation run of the box-mean passes: about one window
    (``2 radius + 1``) rounded up to 16, between 16 and :data:`BOX_RUN_MAX`."""
    return min(BOX_RUN_MAX, max(16, -(-(2 * radius + 1) // 16) * 16))


def box_passes(height: int, width: int, radius: int, source: str, finish: str,
               params: Array, extra: tuple[str, ...] = ()) -> list[GpuPass]:
    """Box mean of radius ``radius`` px (edge mode "mirror") of pass ``source``:
    a running-sum pass along y (``box_y``), then one along x (``box_x``) that
    ends with the section ``finish`` (``fin_coeffs`` or ``fin_recover``) and
    also reads ``extra``. ``params[0].x`` must be ``radius``. The first pass
    is numbered after ``source`` (``"pN"`` -> ``N + 1``; ``"in"`` -> 0).
    """
    size = (height, width)
    run = box_run(radius)
    bw = min(256, max(16, _pow2_at_least(width)))
    first = 0 if source == "in" else int(source[1:]) + 1
    return [
        GpuPass(shader("box_y", BOX_RUN=run, BOX_W=bw), params, size, (source,),
                tile=(run, bw)),
        GpuPass(shader("box_x", finish, BOX_RUN=run), params, size, (f"p{first}", *extra),
                tile=(16, run)),
    ]


class Dehaze(GlobalOp):
    """Remove (positive amount) or add (negative amount) atmospheric haze.

    Dark channel prior (He, Sun & Tang 2009/2011) with a guided-filter
    transmission (He, Sun & Tang 2013); see the module docstring for the
    math and the constants.

    Parameters
    ----------
    amount : float, -100 to 100, default 0
        Strength in percent. Positive: remove haze with
        ``omega = 0.95 * amount / 100``; negative: blend toward the image's
        airlight colour, keeping ``1 - 0.7 * |amount| / 100`` of the scene;
        0: identity.

    Input/output: float32 (H, W, 4), linear RGB (Rec. 2020 in the develop
    workflow), same size; alpha untouched. Statistics: float32 (3,), the
    airlight RGB.
    """

    op_name: ClassVar[str] = "dehaze"

    amount: float = Field(0.0, ge=-100.0, le=100.0, allow_inf_nan=False,
                          description="haze removal (positive) or addition (negative)",
                          json_schema_extra={"unit": "percent"})

    def is_identity(self) -> bool:
        return self.amount == 0.0

    def omega(self) -> float:
        """Share of the haze removed, ``0.95 * amount / 100`` (positive amounts)."""
        return OMEGA_MAX * max(self.amount, 0.0) / 100.0

    def haze_keep(self) -> float:
        """``t'`` for negative amounts: ``1 - 0.7 * |amount| / 100``."""
        return 1.0 - (1.0 - HAZE_KEEP) * max(-self.amount, 0.0) / 100.0

    # --- statistics ---------------------------------------------------------------
    def statistics(self, x: Array) -> npt.NDArray[np.float32]:
        """Airlight ``A``: float32 (3,) RGB, from the whole input ``x`` float32 (H, W, 4)."""
        return airlight(np.asarray(x, np.float32))

    def statistics_radius(self, height: int, width: int) -> int:
        """Halo of :meth:`statistics_from_tiles`: the dark channel's ``dark_radius(H, W)``."""
        return dark_radius(height, width)

    def statistics_from_tiles(self, tiles: Callable[[], Iterable[TileView]],
                              full_shape: tuple[int, int]) -> npt.NDArray[np.float32]:
        """:meth:`statistics` from tiles (for streaming), equal to it bit for bit.

        Three passes over the tiles (each padded by the dark-channel radius,
        so the dark channel of every core pixel is exact): the k-th largest
        finite dark-channel value by a radix select on its float32 order key
        (a histogram of the top 16 bits, then of the low 16 bits inside the
        bin found; 65536 counts each), then the brightest candidate, the
        first in row-major order on ties (global pixel index from the tile's
        origin). Memory: the histogram and one tile's dark channel.
        """
        h, w = full_shape
        r = dark_radius(h, w)

        def views() -> Iterator[tuple[Any, ...]]:
            for tile, (y0, y1, x0, x1), origin in tiles():
                rgb = np.asarray(tile, np.float32)[..., :3]
                dark = min_filter(np.minimum(np.minimum(rgb[..., 0], rgb[..., 1]),
                                             rgb[..., 2]), r)[y0:y1, x0:x1]
                core = rgb[y0:y1, x0:x1]
                intensity = (core[..., 0] + core[..., 1]) + core[..., 2]
                ok = np.isfinite(dark) & np.isfinite(intensity)
                yield dark, intensity, ok, core, origin

        n_ok, hi = 0, np.zeros(1 << 16, np.int64)
        for dark, _, ok, _, _ in views():
            keys = _order_keys(dark[ok])
            n_ok += keys.size
            hi += np.bincount((keys >> np.uint32(16)).astype(np.int64), minlength=1 << 16)
        if n_ok == 0:
            return np.ones(3, np.float32)
        k = min(n_ok, max(1, math.ceil(TOP_FRACTION * h * w)))
        top, k = _digit_from_top(hi, k)
        lo = np.zeros(1 << 16, np.int64)
        for dark, _, ok, _, _ in views():
            keys = _order_keys(dark[ok])
            keys = keys[(keys >> np.uint32(16)) == np.uint32(top)]
            lo += np.bincount((keys & np.uint32(0xFFFF)).astype(np.int64), minlength=1 << 16)
        low, _ = _digit_from_top(lo, k)
        threshold = _from_order_key((top << 16) | low)
        best_i, best_idx, best_rgb = -np.inf, -1, np.ones(3, np.float32)
        for dark, intensity, ok, core, (oy, ox) in views():
            cand = ok & (dark >= threshold)
            if not cand.any():
                continue
            score = np.where(cand, intensity, -np.inf)
            j = int(np.argmax(score))  # first of the tile's maxima in its row-major order
            ty, tx = divmod(j, score.shape[1])
            value = float(score[ty, tx])
            # the image's row-major order: the first maximum of the tile is the
            # smallest global index among its maxima (rows of a tile are in order)
            idx = (oy + ty) * w + ox + tx
            if value > best_i or (value == best_i and idx < best_idx):
                best_i, best_idx, best_rgb = value, idx, core[ty, tx].copy()
        return np.maximum(best_rgb.astype(np.float32), np.float32(AIRLIGHT_FLOOR))

    def gpu_statistics(self, backend: Any, buffer: Any, height: int,
                       width: int) -> npt.NDArray[np.float32] | None:
        """The airlight computed on the GPU from ``buffer`` and read back; equal to
        :meth:`statistics`. Inside a plan the backend uses
        :meth:`gpu_statistics_device` instead; this read-back path serves
        stand-alone use and the bit-for-bit tests."""
        if self.is_identity():
            return np.ones(3, np.float32)  # unused by the identity pass
        return gpu_airlight(backend, buffer, height, width)

    def gpu_statistics_device(self, backend: Any, buffer: Any, height: int,
                              width: int) -> DeviceStatistics | None:
        """The airlight left on the GPU (:func:`gpu_airlight_device`); None for the identity."""
        if self.is_identity():
            return None  # its pass needs no airlight
        return gpu_airlight_device(backend, buffer, height, width)

    def gpu_passes_device(self, height: int, width: int,
                          stats: DeviceStatistics) -> list[GpuPass]:
        """:meth:`gpu_passes_with`, each pass reading the row ``(A, luma(A))`` on the GPU."""
        return self._passes(height, width, np.ones(3, np.float32), dark_radius(height, width),
                            guide_radius(height, width), device=stats.buffer)

    # --- applying per tile ----------------------------------------------------------
    def apply_radius(self, height: int, width: int) -> int:
        """Halo of a tile of a ``(height, width)`` image, in pixels.

        Removing haze: the minimum filter reads ``r = dark_radius(H, W)``
        pixels, then two box means of radius ``4 r`` (the guided filter's
        statistics, then its coefficients) read ``2 x 4 r`` more: ``9 r``.
        Adding haze (negative amount) and the identity are per pixel: 0.
        """
        if self.amount <= 0:
            return 0
        return dark_radius(height, width) + 2 * guide_radius(height, width)

    def apply_region(self, x: Array, stats: npt.NDArray[np.float32],
                     full_shape: tuple[int, int]) -> Array:
        """:meth:`apply` on a tile, with the windows of the ``full_shape`` image."""
        return self._apply(x, stats, dark_radius(*full_shape), guide_radius(*full_shape))

    def gpu_passes_region(self, height: int, width: int, stats: npt.NDArray[np.float32],
                          full_shape: tuple[int, int]) -> list[GpuPass]:
        """:meth:`gpu_passes_with` on a tile, with the windows of the ``full_shape`` image."""
        return self._passes(height, width, stats, dark_radius(*full_shape),
                            guide_radius(*full_shape))

    # --- reference ------------------------------------------------------------------
    def apply(self, x: Array, stats: npt.NDArray[np.float32]) -> Array:
        h, w = np.shape(x)[:2]
        return self._apply(x, stats, dark_radius(h, w), guide_radius(h, w))

    def _apply(self, x: Array, stats: npt.NDArray[np.float32], r: int, gr: int) -> Array:
        x = np.asarray(x, np.float32)
        out = x.copy()
        if self.is_identity():
            return out
        a = np.asarray(stats, np.float32).reshape(3)
        rgb = x[..., :3]
        if self.amount < 0:
            tk = np.float32(self.haze_keep())
            out[..., :3] = rgb * tk + a * np.float32(1.0 - float(tk))
            return out
        norm = rgb / a
        dark = min_filter(np.minimum(np.minimum(norm[..., 0], norm[..., 1]), norm[..., 2]), r)
        p = np.float32(1.0) - np.float32(self.omega()) * dark
        g = luma(x)
        packed = np.stack([g, p, g * p, g * g, ], axis=-1)
        box = box_weights(gr)
        m = separable_reference(packed, box, "mirror")
        var_i = m[..., 3] - m[..., 0] * m[..., 0]
        cov = m[..., 2] - m[..., 0] * m[..., 1]
        ca = cov / (var_i + np.float32(EPS))
        cb = m[..., 1] - ca * m[..., 0]
        zero = np.zeros_like(ca)
        mab = separable_reference(np.stack([ca, cb, zero, zero], axis=-1), box, "mirror")
        q = mab[..., 0] * g + mab[..., 1]
        t = np.clip(q, np.float32(T0), np.float32(1.0))[..., None]
        out[..., :3] = (rgb - a) / t + a
        return out

    # --- WebGPU ------------------------------------------------------------------------
    def gpu_passes_with(self, height: int, width: int,
                        stats: npt.NDArray[np.float32]) -> list[GpuPass]:
        return self._passes(height, width, stats, dark_radius(height, width),
                            guide_radius(height, width))

    def _passes(self, height: int, width: int, stats: npt.NDArray[np.float32], r: int,
                gr: int, device: Any = None) -> list[GpuPass]:
        """The passes; ``device``: a GPU buffer whose first 16 bytes replace
        parameter row 1, ``(A, luma(A))``, of every pass that has one."""
        a = np.asarray(stats, np.float32).reshape(3)
        size = (height, width)

        def with_a(passes: list[GpuPass]) -> list[GpuPass]:
            if device is None:
                return passes
            return [replace(gp, device_rows=((1, device, 0),)) for gp in passes]

        if self.is_identity():
            # a plain copy (workflows skip the op; a pipeline still gets the input back)
            return [GpuPass(shader("add_haze"), pack_params((1.0, 0.0), a), size)]
        if self.amount < 0:
            tk = np.float32(self.haze_keep())
            return with_a([GpuPass(shader("add_haze"),
                                   pack_params((tk, np.float32(1.0 - float(tk))), a), size)])
        # the guide is shifted by the airlight's luma (see finish_pack)
        shift = luma(a.reshape(1, 1, 3))[0, 0]
        mins = pack_params((r, np.float32(self.omega())), (*a, shift))
        return [
            *with_a(min_passes(height, width, r, ("tap_rgb_over_a", "tap_x"), "finish_pack",
                               mins)),
            *box_passes(height, width, gr, "p1", "fin_coeffs", pack_params((gr, EPS))),
            *with_a(box_passes(height, width, gr, "p3", "fin_recover",
                               pack_params((gr, T0), (*a, shift)), extra=("in",))),
        ]


def airlight(x: Array) -> npt.NDArray[np.float32]:
    """Airlight RGB, float32 (3,), of float32 (H, W, >=3) (module docstring, "Statistics").

    All-non-finite images give (1, 1, 1).
    """
    h, w = x.shape[:2]
    rgb = x[..., :3]
    dark = min_filter(np.minimum(np.minimum(rgb[..., 0], rgb[..., 1]), rgb[..., 2]),
                      dark_radius(h, w)).ravel()
    intensity = ((rgb[..., 0] + rgb[..., 1]) + rgb[..., 2]).ravel()
    ok = np.isfinite(dark) & np.isfinite(intensity)
    n_ok = int(ok.sum())
    if n_ok == 0:
        return np.ones(3, np.float32)
    k = min(n_ok, max(1, math.ceil(TOP_FRACTION * h * w)))
    finite = dark[ok]
    threshold = np.partition(finite, n_ok - k)[n_ok - k]  # k-th largest
    cand = ok & (dark >= threshold)
    score = np.where(cand, intensity, -np.inf)
    best = int(np.argmax(score))  # first of the maxima in row-major order
    a = rgb.reshape(-1, 3)[best].astype(np.float32)
    return np.maximum(a, np.float32(AIRLIGHT_FLOOR))


def _order_keys(v: npt.NDArray[np.float32]) -> npt.NDArray[np.uint32]:
    """uint32 keys ordered like the float32 values ``v`` (finite): sign flipped
    for positives, all bits flipped for negatives."""
    bits = np.ascontiguousarray(v, np.float32).view(np.uint32)
    return np.where(bits >> np.uint32(31) != 0, ~bits, bits | np.uint32(0x80000000))


def _from_order_key(key: int) -> np.float32:
    """The float32 whose :func:`_order_keys` key is ``key``."""
    bits = key ^ 0x80000000 if key >> 31 else ~key & 0xFFFFFFFF
    return np.array([bits], np.uint32).view(np.float32)[0]


def _digit_from_top(counts: npt.NDArray[np.int64], k: int) -> tuple[int, int]:
    """Bin of the ``k``-th largest value (1-based) given ``counts`` per bin; and
    ``k`` within that bin."""
    above = np.cumsum(counts[::-1])  # values in bins >= b, b from the top
    i = int(np.searchsorted(above, k, side="left"))
    before = int(above[i - 1]) if i > 0 else 0
    return len(counts) - 1 - i, k - before


# --- statistics on the GPU ------------------------------------------------------------------

#: Radix digits of the threshold search, (shift, bits): 12 + 12 + 8 = 32 bits
#: (``digit_shift`` / ``digit_bins`` in ``dehaze_select.wgsl``).
_DIGITS = ((20, 12), (8, 12), (0, 8))
_SEL_WG = 256
_SEL_MAX_GROUPS = 4096
#: u32 words of the selection state buffer; the result is words 8..15 (32 bytes:
#: the pixel's RGBA bits, the flag), the parameter row ``(A, luma(A))`` words 16..19.
_STATE_WORDS = 20
_RESULT_OFFSET = 32
_RESULT_BYTES = 32
_FLAG_OFFSET = 48
_ROW_OFFSET = 64


def gpu_airlight(be: Any, buffer: Any, height: int, width: int) -> npt.NDArray[np.float32]:
    """:func:`airlight` of the RGBA float32 image in the WebGPU ``buffer``, bit for bit.

    ``buffer`` holds ``height * width`` RGBA float32 pixels (row-major).
    Returns float32 (3,), each channel at least :data:`AIRLIGHT_FLOOR`;
    (1, 1, 1) when no pixel has a finite dark channel and intensity.

    The dark channel and the intensity are computed by two passes of the
    minimum filter (``dehaze.wgsl``); the k-th largest dark-channel value is
    found exactly by a radix select on the floats' order keys (three
    histogram rounds of 12, 12 and 8 bits; after each, one workgroup picks
    the digit and writes the next round's prefix into a state buffer), then
    the brightest candidate (``atomicMax`` of its intensity key) and the
    first such pixel (``atomicMax`` of its complemented index); a last
    kernel copies that pixel's RGBA into the state buffer. Everything is
    recorded into one command encoder and submitted once; the 32-byte
    result is the only read-back (``dehaze_select.wgsl``).
    """
    sel = _Selector.get(be)
    with sel.lock:
        enc = _record_airlight(be, sel, buffer, height, width)
        enc.copy_buffer_to_buffer(sel.state, _RESULT_OFFSET, sel.readback, 0, _RESULT_BYTES)
        be.device.queue.submit([enc.finish()])
        out = sel.read()
    _check_flag(be, int(out[4]))
    if int(out[4]) == 2:
        return np.ones(3, np.float32)
    rgba = out[:4].view(np.float32)
    return np.maximum(rgba[:3], np.float32(AIRLIGHT_FLOOR))


def gpu_airlight_device(be: Any, buffer: Any, height: int, width: int) -> DeviceStatistics:
    """:func:`gpu_airlight` left on the GPU: the kernels are submitted, nothing is read back.

    The returned :class:`~pixelpipe.ops.base.DeviceStatistics` holds the
    parameter row ``(A_r, A_g, A_b, luma(A))`` (float32, 16 bytes) that the
    apply passes copy in: ``A`` is :func:`gpu_airlight`'s value and
    ``luma`` the Rec. 2020 luma, computed by the last kernel. Its check
    raises :class:`~pixelpipe.errors.GPUError` after the run when the
    selection found no pixel.
    """
    u = be._wgpu.BufferUsage
    sel = _Selector.get(be)
    row = be.pool.acquire(16, u.STORAGE | u.COPY_SRC | u.COPY_DST)
    flag = be.pool.acquire(16, u.MAP_READ | u.COPY_DST)
    try:
        with sel.lock:
            enc = _record_airlight(be, sel, buffer, height, width)
            # the run's own copies: a later dehaze in the same plan reuses the state
            enc.copy_buffer_to_buffer(sel.state, _ROW_OFFSET, row, 0, 16)
            enc.copy_buffer_to_buffer(sel.state, _FLAG_OFFSET, flag, 0, 16)
            be.device.queue.submit([enc.finish()])
    except BaseException:
        be.pool.release(row)
        be.pool.release(flag)
        raise
    return DeviceStatistics(row, [row, flag], lambda words: _check_flag(be, int(words[0])), flag)


def _check_flag(be: Any, flag: int) -> None:
    if flag not in (1, 2):
        raise GPUError(f"dehaze airlight on {be.describe()}: the GPU selection found no pixel")


def _record_airlight(be: Any, sel: _Selector, buffer: Any, height: int, width: int) -> Any:
    """Write the selection's inputs and record its kernels; return the unfinished encoder.

    The two scratch images go back to the pool at once: whatever reuses
    them is recorded after these kernels and runs after them.
    """
    from pixelpipe.backends.wgpu.backend import PIXEL_BYTES, _Dispatch

    dev = be.device
    n = height * width
    nbytes = n * PIXEL_BYTES
    params = pack_params(dark_radius(height, width))
    size = (height, width)
    k = max(1, math.ceil(TOP_FRACTION * n))
    borrowed: list[Any] = []
    try:
        tmp = be.pool.acquire(nbytes)
        borrowed.append(tmp)
        stats_img = be.pool.acquire(nbytes)
        borrowed.append(stats_img)
        # every write before the encoder is submitted
        dev.queue.write_buffer(sel.uniform, 0, np.array([n, k, 0, 0], np.uint32))
        dev.queue.write_buffer(sel.state, 0, np.zeros(_STATE_WORDS, np.uint32))
        enc = dev.create_command_encoder()
        p_x, p_y = min_passes(height, width, dark_radius(height, width),
                              ("tap_rgb", "tap_x"), "finish_stats", params)
        borrowed += be._record(enc, _Dispatch(p_x.shader, [buffer], tmp, params, size,
                                              size, tile=p_x.tile))
        borrowed += be._record(enc, _Dispatch(p_y.shader, [tmp, buffer], stats_img, params,
                                              size, size, tile=p_y.tile))
        on_stats = sel.bind_group(stats_img, n)
        groups = max(1, min(-(-n // (_SEL_WG * 64)), _SEL_MAX_GROUPS, be.max_groups))
        for _ in _DIGITS:
            enc.clear_buffer(sel.counters)
            sel.dispatch(be, enc, "hist", on_stats, groups)
            sel.dispatch(be, enc, "select_digit", on_stats, 1)
        enc.clear_buffer(sel.counters)
        sel.dispatch(be, enc, "brightest", on_stats, groups)
        sel.dispatch(be, enc, "first", on_stats, groups)
        sel.dispatch(be, enc, "fetch", sel.bind_group(buffer, n), 1)
        return enc
    finally:
        for b in borrowed:
            be.pool.release(b)


class _Selector:
    """Pipelines of ``dehaze_select.wgsl`` and the small buffers of one device.

    Cached per device and reused by every call (``lock`` serialises them):
    the histogram counters (16 KiB), the uniform (``n``, ``k``), the state
    and the 32-byte read-back buffer.
    """

    _cache: ClassVar[dict[int, _Selector]] = {}
    _ENTRIES = ("hist", "select_digit", "brightest", "first", "fetch")

    def __init__(self, be: Any) -> None:
        import wgpu

        self.device = be.device
        dev = be.device
        S = wgpu.ShaderStage.COMPUTE
        bt = wgpu.BufferBindingType
        self.layout = dev.create_bind_group_layout(entries=[
            {"binding": 0, "visibility": S, "buffer": {"type": bt.read_only_storage}},
            {"binding": 1, "visibility": S, "buffer": {"type": bt.uniform}},
            {"binding": 2, "visibility": S, "buffer": {"type": bt.storage}},
            {"binding": 3, "visibility": S, "buffer": {"type": bt.storage}},
        ])
        consts = (f"const LUMA_R: f32 = {LUMA_2020[0]!r};\n"
                  f"const LUMA_G: f32 = {LUMA_2020[1]!r};\n"
                  f"const LUMA_B: f32 = {LUMA_2020[2]!r};\n"
                  f"const AIRLIGHT_FLOOR: f32 = {AIRLIGHT_FLOOR!r};\n")
        module = dev.create_shader_module(
            code=consts + load_wgsl(__package__, "dehaze_select.wgsl"))
        pl = dev.create_pipeline_layout(bind_group_layouts=[self.layout])
        self.pipes = {e: dev.create_compute_pipeline(
            layout=pl, compute={"module": module, "entry_point": e}) for e in self._ENTRIES}
        u = wgpu.BufferUsage
        self.counters = dev.create_buffer(size=4096 * 4, usage=u.STORAGE | u.COPY_DST)
        self.uniform = dev.create_buffer(size=16, usage=u.UNIFORM | u.COPY_DST)
        self.state = dev.create_buffer(size=_STATE_WORDS * 4,
                                       usage=u.STORAGE | u.COPY_SRC | u.COPY_DST)
        self.readback = dev.create_buffer(size=_RESULT_BYTES, usage=u.MAP_READ | u.COPY_DST)
        self.lock = threading.Lock()

    @classmethod
    def get(cls, be: Any) -> _Selector:
        key = id(be.device)
        sel = cls._cache.get(key)
        if sel is None or sel.device is not be.device:
            sel = cls._cache[key] = cls(be)
        return sel

    def bind_group(self, image: Any, n: int) -> Any:
        """Bind group with ``image`` (``n`` RGBA float32 pixels) as ``img``."""
        return self.device.create_bind_group(layout=self.layout, entries=[
            {"binding": 0, "resource": {"buffer": image, "offset": 0, "size": n * 16}},
            {"binding": 1, "resource": {"buffer": self.uniform, "offset": 0, "size": 16}},
            {"binding": 2, "resource": {"buffer": self.counters, "offset": 0,
                                        "size": 4096 * 4}},
            {"binding": 3, "resource": {"buffer": self.state, "offset": 0,
                                        "size": _STATE_WORDS * 4}},
        ])

    def dispatch(self, be: Any, enc: Any, entry: str, bg: Any, groups: int) -> None:
        cp = be.compute_pass(enc)
        cp.set_pipeline(self.pipes[entry])
        cp.set_bind_group(0, bg)
        cp.dispatch_workgroups(groups, 1, 1)
        cp.end()

    def read(self) -> npt.NDArray[np.uint32]:
        """The result words (RGBA bits, flag, padding): the only map of a call."""
        from pixelpipe.backends.wgpu.pool import read_back

        return read_back(self.readback, _RESULT_BYTES)
