"""Exact integer pixel remapping shared by crop, flip and right-angle rotation.

Algorithm
---------
Output pixel ``(x, y)`` copies input pixel ``(sx, sy)`` with

    sx = axx * x + axy * y + bx
    sy = ayx * x + ayy * y + by

for integer coefficients; pixels whose source falls outside the input get a
fill colour. Values are copied bit for bit (NaN and Inf included), so the
reference and the WebGPU kernel agree exactly. The coefficients travel to
the GPU as int32 bit patterns (``bitcast``), exact at any image size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pixelpipe.ops.base import Array, GpuPass, load_wgsl


@dataclass(frozen=True)
class IntAffine:
    """``in = A @ (x, y) + b`` with integer ``A`` (row-major ``axx, axy, ayx, ayy``) and ``b``."""

    axx: int
    axy: int
    bx: int
    ayx: int
    ayy: int
    by: int

    def params(self, fill: Sequence[float]) -> Array:
        ints = np.array([[self.axx, self.axy, self.bx, 0], [self.ayx, self.ayy, self.by, 0]],
                        np.int32)
        return np.concatenate([ints.view(np.float32),
                               np.asarray(fill, np.float32).reshape(1, 4)])


def remap_reference(x: Array, m: IntAffine, out_size: tuple[int, int],
                    fill: Sequence[float] = (0.0, 0.0, 0.0, 0.0)) -> Array:
    """Reference: float32 ``(H, W, 4)`` -> float32 ``(*out_size, 4)`` by ``m``."""
    h, w = x.shape[:2]
    oh, ow = out_size
    yy, xx = np.meshgrid(np.arange(oh, dtype=np.int64), np.arange(ow, dtype=np.int64),
                         indexing="ij")
    sx = m.axx * xx + m.axy * yy + m.bx
    sy = m.ayx * xx + m.ayy * yy + m.by
    inside = (sx >= 0) & (sx < w) & (sy >= 0) & (sy < h)
    out = np.empty((oh, ow, 4), np.float32)
    out[...] = np.asarray(fill, np.float32)
    out[inside] = x[sy[inside], sx[inside]]
    return out


def remap_pass(m: IntAffine, out_size: tuple[int, int],
               fill: Sequence[float] = (0.0, 0.0, 0.0, 0.0)) -> GpuPass:
    """The WebGPU pass applying ``m`` (see ``remap.wgsl``)."""
    return GpuPass(load_wgsl(__package__, "remap.wgsl"), m.params(fill), out_size)


Region = tuple[int, int, int, int]  #: (y0, y1, x0, x1), half-open, pixels


def clip_region(y0: int, y1: int, x0: int, x1: int, shape: tuple[int, int]) -> Region:
    """``[y0, y1) x [x0, x1)`` clipped to an image of ``shape`` (H, W), at least 1 x 1.

    A rectangle entirely outside the image becomes the nearest border pixel
    (the executors always hand a non-empty input to the op).
    """
    h, w = shape
    cy0, cx0 = min(max(y0, 0), h - 1), min(max(x0, 0), w - 1)
    return cy0, max(min(y1, h), cy0 + 1), cx0, max(min(x1, w), cx0 + 1)


def int_source_region(m: IntAffine, out_region: Region, in_shape: tuple[int, int]) -> Region:
    """Input rectangle that output ``out_region`` reads through ``m`` (clipped, non-empty).

    The map is affine, so the extremes of the source indices are at the
    rectangle's corner pixels.
    """
    y0, y1, x0, x1 = out_region
    corners = [(x, y) for x in (x0, x1 - 1) for y in (y0, y1 - 1)]
    xs = [m.axx * x + m.axy * y + m.bx for x, y in corners]
    ys = [m.ayx * x + m.ayy * y + m.by for x, y in corners]
    return clip_region(min(ys), max(ys) + 1, min(xs), max(xs) + 1, in_shape)


def shifted(m: IntAffine, src_region: Region, out_region: Region) -> IntAffine:
    """``m`` for output indices relative to ``out_region`` and input relative to ``src_region``.

    Output pixels whose source lies outside the image also lie outside
    ``src_region`` (it is clipped to the image) and still get the fill;
    the others read the same pixel as with ``m`` on the whole image.
    """
    oy, ox, sy, sx = out_region[0], out_region[2], src_region[0], src_region[2]
    return IntAffine(m.axx, m.axy, m.axx * ox + m.axy * oy + m.bx - sx,
                     m.ayx, m.ayy, m.ayx * ox + m.ayy * oy + m.by - sy)


def region_size(region: Region) -> tuple[int, int]:
    """(height, width) of ``region``."""
    return region[1] - region[0], region[3] - region[2]
