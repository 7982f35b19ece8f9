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
