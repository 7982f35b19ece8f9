"""Rotate about the image centre.

Algorithm
---------
Positive angles turn the picture counter-clockwise as displayed (y down).
Coordinates are pixel-edge based: pixel ``(i, j)`` covers
``[i, i + 1) x [j, j + 1)`` and its centre is ``(i + 0.5, j + 0.5)``. Output
pixel ``(x, y)`` samples the input at the inverse rotation of its centre
about the image centre:

    x_in = cos t (X - W'/2) - sin t (Y - H'/2) + W/2
    y_in = sin t (X - W'/2) + cos t (Y - H'/2) + H/2,   X = x + 0.5, Y = y + 0.5

where ``W' x H'`` is the output size: the input size, or with ``expand``
the bounding box of the rotated image, ``ceil(max) - floor(min)`` of the
transformed corners (for multiples of 90 degrees exactly ``H x W`` or
``W x H``). These are the conventions of Pillow's
``Image.rotate`` (centre ``(W/2, H/2)``, matrix entries rounded to 15
decimals, same expand rule), which the tests match.

Sampling (Pillow's transform filters, float arithmetic):

* outside: ``(x_in, y_in)`` not in ``[0, W) x [0, H)`` -> ``fill``;
* ``nearest``: input pixel ``(floor(x_in), floor(y_in))``;
* ``bilinear``: the 2 x 2 pixels around ``(x_in - 0.5, y_in - 0.5)``, tent
  weights; ``bicubic``: the 4 x 4 pixels, Keys cubic convolution weights
  with parameter ``cubic_a`` (R. Keys, IEEE Trans. ASSP 29(6), 1981);
  ``-0.5`` is the third-order accurate kernel that reproduces quadratics
  (Pillow's ``rotate(BICUBIC)`` uses ``-1``; ``cubic_a = -1`` matches it).
  Taps beyond the border replicate the edge pixel. Rows are filtered
  first (x), then combined along y, accumulating ``sum w x`` in float32.

Angles that are multiples of 90 degrees are exact pixel permutations (no
interpolation): the same geometry sampled with the ``nearest`` rule, which
is ``numpy.rot90`` when the output holds the whole image (``expand`` or a
square image); without ``expand`` a non-square image is rotated about the
centre and cropped/filled as for any angle.

Precision: the input position is the sum of a per-column and a per-row
term computed on the host in float64, each split into an int32 and a
float32 fraction; summing the parts keeps ~1e-7 pixel precision for
images of any size (float32 coordinates would be off by 1/16 pixel at a
million rows) and makes the in/out test and the tap choice identical on
both backends. The reference and the WebGPU kernel differ only by float32
rounding of the weights and sums (tests: 1e-5 relative).

Non-finite inputs: IEEE arithmetic over the footprint (1, 4 or 16 taps,
zero-weight taps included: ``0 * Inf`` is NaN).
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field

from pixelpipe.ops.base import Array, GpuPass, OpKind, TiledGeometryOp, load_wgsl
from pixelpipe.ops.geometry.kernels import split_coordinate
from pixelpipe.ops.geometry.remap import (
    IntAffine,
    Region,
    clip_region,
    int_source_region,
    region_size,
    remap_pass,
    remap_reference,
    shifted,
)

_INTERP = {"nearest": 0, "bilinear": 1, "bicubic": 2}


def _keys32(t: Array, a: np.float32) -> Array:
    x = np.abs(t)
    one, two, three, four, five, eight = (np.float32(v) for v in (1, 2, 3, 4, 5, 8))
    near = ((a + two) * x - (a + three)) * x * x + one
    far = ((x - five) * x + eight) * x * a - four * a
    return np.where(x < one, near, np.where(x < two, far, np.float32(0.0))).astype(np.float32)


class Rotate(TiledGeometryOp):
    """Rotate counter-clockwise by ``angle`` degrees about the image centre.

    Parameters
    ----------
    angle : float, -360 to 360 degrees
        Counter-clockwise rotation as displayed. Multiples of 90 are exact
        pixel permutations.
    interpolation : {"nearest", "bilinear", "bicubic"}, default "bilinear"
        Resampling for other angles (see the module docstring).
    cubic_a : float, -1 to 0, default -0.5
        Keys cubic parameter for ``bicubic`` (-0.5: Keys / Catmull-Rom;
        -0.75: OpenCV; -1: Pillow's ``rotate``).
    expand : bool, default False
        Grow the output to hold the whole rotated image (Pillow's
        ``expand=True``); else keep the input size.
    fill : 4 floats, default (0, 0, 0, 0)
        RGBA value of output pixels that no input pixel covers.

    Input float32 (H, W, 4) -> output float32 (H', W', 4) (see
    :meth:`output_shape`).
    """

    op_name: ClassVar[str] = "rotate"
    kind: ClassVar[OpKind] = OpKind.GEOMETRY
    tiles_by_region: ClassVar[bool] = True

    angle: float = Field(0.0, ge=-360.0, le=360.0,
                         description="counter-clockwise rotation about the image centre",
                         json_schema_extra={"unit": "degrees"})
    interpolation: Literal["nearest", "bilinear", "bicubic"] = Field(
        "bilinear", description="resampling for angles that are not multiples of 90°")
    cubic_a: float = Field(-0.5, ge=-1.0, le=0.0,
                           description="Keys cubic parameter a (bicubic only)")
    expand: bool = Field(False, description="grow the output to hold the whole rotated image")
    fill: tuple[float, float, float, float] = Field(
        (0.0, 0.0, 0.0, 0.0), description="RGBA value of uncovered output pixels")

    # --- geometry ------------------------------------------------------------
    def _quarter_turns(self) -> int | None:
        a = self.angle % 360.0
        return int(a // 90) if a % 90.0 == 0.0 else None

    def _matrix(self, height: int, width: int) -> tuple[tuple[float, ...], int, int]:
        """Inverse map ``(a, b, c, d, e, f)``: ``x_in = a X + b Y + c``, ``y_in = d X + e Y + f``.

        Returns it with the output size ``(H', W')``.
        """
        t = math.radians(self.angle % 360.0)
        cos_t, sin_t = round(math.cos(t), 15), round(math.sin(t), 15)
        a, b, d, e = cos_t, -sin_t, sin_t, cos_t
        cx, cy = width / 2, height / 2
        c = a * -cx + b * -cy + cx
        f = d * -cx + e * -cy + cy
        oh, ow = height, width
        if self.expand:
            corners = ((0, 0), (width, 0), (width, height), (0, height))
            xs = [a * x + b * y + c for x, y in corners]
            ys = [d * x + e * y + f for x, y in corners]
            ow = math.ceil(max(xs)) - math.floor(min(xs))
            oh = math.ceil(max(ys)) - math.floor(min(ys))
            turns = self._quarter_turns()
            if turns is not None:  # exact: the rotated image itself, as Pillow's transpose
                oh, ow = (width, height) if turns % 2 else (height, width)
            tx, ty = -(ow - width) / 2.0, -(oh - height) / 2.0
            c, f = a * tx + b * ty + c, d * tx + e * ty + f
        return (a, b, c, d, e, f), oh, ow

    def output_shape(self, height: int, width: int) -> tuple[int, int]:
        _, oh, ow = self._matrix(height, width)
        return oh, ow

    def _exact(self, height: int, width: int) -> tuple[IntAffine, tuple[int, int]]:
        """Integer map of a multiple of 90°: nearest sampling of the same geometry."""
        (a, b, c, d, e, f), oh, ow = self._matrix(height, width)
        ia, ib, id_, ie = (int(v) for v in (a, b, d, e))
        bx = math.floor(0.5 * a + 0.5 * b + c)  # half-integers: exact in float64
        by = math.floor(0.5 * d + 0.5 * e + f)
        return IntAffine(ia, ib, bx, id_, ie, by), (oh, ow)

    def _tables(self, height: int, width: int) -> tuple[Array, int, int]:
        """Column and row terms of the input position, split (see the module docstring).

        Returns float32 ``(W' + H', 4)`` rows ``(int_x, frac_x, int_y, frac_y)``
        with the ints stored as int32 bit patterns, and the output size.
        """
        (a, b, c, d, e, f), oh, ow = self._matrix(height, width)
        xs = np.arange(ow, dtype=np.float64) + 0.5
        ys = np.arange(oh, dtype=np.float64) + 0.5
        rows = np.zeros((ow + oh, 4), np.float32)
        for k, v in enumerate((a * xs, d * xs)):
            i, fr = split_coordinate(v)
            rows[:ow, 2 * k] = i.view(np.float32)
            rows[:ow, 2 * k + 1] = fr
        for k, v in enumerate((b * ys + c, e * ys + f)):
            i, fr = split_coordinate(v)
            rows[ow:, 2 * k] = i.view(np.float32)
            rows[ow:, 2 * k + 1] = fr
        return rows, oh, ow

    def _tile_tables(self, src_region: Region, out_region: Region,
                     in_shape: tuple[int, int]) -> Array:
        """:meth:`_tables` of the tile ``out_region``, integer row terms relative to
        ``src_region``: float32 ``(w + h, 4)`` rows, columns first.

        Subtracting the source origin from the integer parts is exact, so the
        positions (relative to the source region) are the untiled ones shifted.
        """
        tab, _, ow = self._tables(*in_shape)
        y0, y1, x0, x1 = out_region
        out = np.concatenate([tab[x0:x1], tab[ow + y0:ow + y1]])
        ints = out.view(np.int32)
        ints[x1 - x0:, 0] -= np.int32(src_region[2])
        ints[x1 - x0:, 2] -= np.int32(src_region[0])
        return out

    @staticmethod
    def _positions(tab: Array, tile_w: int) -> tuple[npt.NDArray[np.int32], Array,
                                                     npt.NDArray[np.int32], Array]:
        """Whole part and fraction of ``x_in`` and ``y_in`` of every tile pixel (h, w)."""
        ints = tab.view(np.int32)
        col, row = slice(0, tile_w), slice(tile_w, tab.shape[0])

        def axis(k: int) -> tuple[npt.NDArray[np.int32], Array]:
            fr = tab[col, 2 * k + 1][None, :] + tab[row, 2 * k + 1][:, None]  # float32 sum
            fl = np.floor(fr)
            whole = ints[col, 2 * k][None, :] + ints[row, 2 * k][:, None] + fl.astype(np.int32)
            return whole, (fr - fl).astype(np.float32)

        xe, ex = axis(0)
        ye, ey = axis(1)
        return xe, ex, ye, ey

    def _support(self) -> tuple[int, int]:
        """Taps read around the pixel ``floor(x_in)``: offsets ``lo .. hi`` inclusive."""
        return {"nearest": (0, 0), "bilinear": (-1, 1), "bicubic": (-2, 2)}[self.interpolation]

    # --- output tiles ----------------------------------------------------------
    # The positions are the untiled ones (absolute coordinates, same split
    # arithmetic); the source region is the bounding box of every tap of the
    # tile, clipped to the image. Clamping a tap to that region then equals
    # clamping it to the image, and the inside test uses the image bounds, so
    # a tile equals the same rectangle of the untiled result.
    def source_region(self, out_region: Region, in_shape: tuple[int, int]) -> Region:
        if self._quarter_turns() is not None:
            return int_source_region(self._exact(*in_shape)[0], out_region, in_shape)
        tab = self._tile_tables((0, 0, 0, 0), out_region, in_shape)
        xe, _, ye, _ = self._positions(tab, out_region[3] - out_region[2])
        lo, hi = self._support()
        return clip_region(int(ye.min()) + lo, int(ye.max()) + hi + 1,
                           int(xe.min()) + lo, int(xe.max()) + hi + 1, in_shape)

    def reference_tile(self, x: Array, src_region: Region, out_region: Region,
                       in_shape: tuple[int, int]) -> Array:
        if self._quarter_turns() is not None:
            m = shifted(self._exact(*in_shape)[0], src_region, out_region)
            return remap_reference(x, m, region_size(out_region), self.fill)
        h, w = x.shape[:2]
        full_h, full_w = in_shape
        oh, ow = region_size(out_region)
        xe, ex, ye, ey = self._positions(self._tile_tables(src_region, out_region, in_shape), ow)
        sy, sx = src_region[0], src_region[2]
        inside = (xe >= -sx) & (xe < full_w - sx) & (ye >= -sy) & (ye < full_h - sy)
        fill = np.asarray(self.fill, np.float32)
        out = np.empty((oh, ow, 4), np.float32)
        if self.interpolation == "nearest":
            out[...] = fill
            out[inside] = x[ye[inside], xe[inside]]
            return out
        half = np.float32(0.5)
        x0 = np.where(ex < half, xe - 1, xe)
        dx = np.where(ex < half, ex + half, ex - half).astype(np.float32)
        y0 = np.where(ey < half, ye - 1, ye)
        dy = np.where(ey < half, ey + half, ey - half).astype(np.float32)
        one = np.float32(1.0)
        if self.interpolation == "bilinear":
            first = 0
            wx = [one - dx, dx]
            wy = [one - dy, dy]
        else:
            a = np.float32(self.cubic_a)
            first = -1
            wx = [_keys32(v, a) for v in (one + dx, dx, one - dx, np.float32(2.0) - dx)]
            wy = [_keys32(v, a) for v in (one + dy, dy, one - dy, np.float32(2.0) - dy)]
        acc = np.zeros((oh, ow, 4), np.float32)
        with np.errstate(invalid="ignore", over="ignore"):
            for r, wyr in enumerate(wy):
                yy = np.clip(y0 + first + r, 0, h - 1)
                hsum = np.zeros((oh, ow, 4), np.float32)
                for j, wxj in enumerate(wx):
                    xx = np.clip(x0 + first + j, 0, w - 1)
                    hsum = hsum + wxj[..., None] * x[yy, xx]
                acc = acc + wyr[..., None] * hsum
        out[...] = np.where(inside[..., None], acc, fill)
        return out

    def gpu_passes_tile(self, src_region: Region, out_region: Region,
                        in_shape: tuple[int, int]) -> list[GpuPass]:
        if self._quarter_turns() is not None:
            m = shifted(self._exact(*in_shape)[0], src_region, out_region)
            return [remap_pass(m, region_size(out_region), self.fill)]
        tab = self._tile_tables(src_region, out_region, in_shape)
        sy, sx = src_region[0], src_region[2]
        bounds = np.array([[-sx, in_shape[1] - sx, -sy, in_shape[0] - sy]], np.int32)
        head = np.concatenate([np.array([self.fill, [self.cubic_a, 0.0, 0.0, 0.0]], np.float32),
                               bounds.view(np.float32)])
        shader = (f"const INTERP: u32 = {_INTERP[self.interpolation]}u;\n"
                  + load_wgsl(__package__, "rotate.wgsl"))
        return [GpuPass(shader, np.concatenate([head, tab]), region_size(out_region))]
