"""Resize with antialiased separable convolution (Pillow's resampling model).

Algorithm
---------
The image is resampled along x, then along y (two passes). Along one axis of
``n`` input pixels resampled to ``m``, with ``scale = n / m``, output sample
``i`` sits at input coordinate ``c = (i + 0.5) * scale`` (pixel ``k`` covers
``[k, k + 1)``) and is

    out[i] = sum_k w_i(k) in[k],   w_i(k) = K((k + 0.5 - c) / s) / sum_k K(...)

with ``s = max(scale, 1)``: on downscale the kernel ``K`` is stretched by the
ratio, so it is a low-pass filter at the new sampling rate (antialiasing);
on upscale it is a plain interpolator. The window is ``support * s`` either
side of ``c``, clipped to the image, and the weights are renormalised there,
which acts at the borders like a shorter filter rather than a padded one.
This is the model of Pillow's ``Image.resize`` (``ImagingResample``), which
this op matches; the kernels are:

* ``area``: box, support 0.5 (Pillow ``BOX``; an exact ``k x k`` mean for an
  integer downscale by ``k``);
* ``bilinear``: triangle, support 1;
* ``bicubic``: Keys cubic convolution, ``a = -0.5``, support 2 (R. Keys,
  IEEE Trans. ASSP 29(6), 1981);
* ``lanczos3``: ``sinc(x) sinc(x/3)``, support 3 (Duchon 1979);
* ``nearest``: input ``floor((i + 0.5) * scale)``, no filtering (Pillow's
  ``NEAREST`` rule, positions accumulated as Pillow does).

Weights are computed once on the host in float64, cast to float32 and used
by both backends; the passes accumulate ``sum_j w_j x_j`` in float32 in tap
order, so reference and WebGPU agree to float32 rounding (tests: 1e-5
relative). Negative lobes (bicubic, Lanczos) can overshoot the input range;
the result is not clipped (scene-linear data may exceed 1).

Non-finite inputs: IEEE arithmetic inside each window; a NaN or Inf pixel
reaches every output whose window gives it a non-zero weight (windows are
trimmed of zero end weights), an Inf under a negative weight gives -Inf,
and opposite infinities in one window give NaN.

Why host-side tables: the weights depend only on the sizes, so computing
them once keeps both backends bit-compatible and the GPU kernel a plain
gather-multiply-add.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field, model_validator

from pixelpipe.ops.base import Array, GpuPass, OpKind, TiledGeometryOp, load_wgsl
from pixelpipe.ops.geometry.kernels import resample_weights
from pixelpipe.ops.geometry.remap import Region, clip_region, region_size

MAX_SIZE = 1 << 24

Filter = Literal["nearest", "bilinear", "bicubic", "lanczos3", "area"]


def resample_axis(x: Array, axis: int, starts: npt.NDArray[np.int64],
                  counts: npt.NDArray[np.int64], weights: Array) -> Array:
    """Reference of one pass: float32 (H, W, 4) resampled along ``axis`` (1: x, 0: y).

    ``out[i] = sum_{j < counts[i]} weights[i, j] * x[starts[i] + j]`` along
    ``axis``, accumulated in float32 in tap order.
    """
    xt = np.moveaxis(x, axis, 0)
    n_in = xt.shape[0]
    acc = np.zeros((len(starts), *xt.shape[1:]), np.float32)
    with np.errstate(invalid="ignore", over="ignore"):
        for j in range(weights.shape[1]):
            valid = (j < counts)[:, None, None]
            src = xt[np.minimum(starts + j, n_in - 1)]
            acc = acc + np.where(valid, weights[:, j, None, None] * src, np.float32(0.0))
    return np.ascontiguousarray(np.moveaxis(acc, 0, axis))


class Resize(TiledGeometryOp):
    """Resize to ``width x height`` pixels with a (antialiasing) resampling filter.

    Parameters
    ----------
    width, height : int, 1 to 16,777,216, optional
        Output size in pixels. Give one to keep the aspect ratio: the other
        is ``round(other_in * given / given_in)`` (half up, at least 1).
    filter : {"nearest", "bilinear", "bicubic", "lanczos3", "area"}
        Resampling kernel (see the module docstring); default ``bicubic``.

    Input float32 (H, W, 4) -> output float32 (height, width, 4); all four
    channels are filtered alike (premultiply alpha first if it matters).

    Raises
    ------
    ParameterError
        (through :meth:`from_config`) when neither size is given or a size
        is out of range.
    """

    op_name: ClassVar[str] = "resize"
    kind: ClassVar[OpKind] = OpKind.GEOMETRY
    tiles_by_region: ClassVar[bool] = True

    width: int | None = Field(None, ge=1, le=MAX_SIZE, description="output width",
                              json_schema_extra={"unit": "pixels"})
    height: int | None = Field(None, ge=1, le=MAX_SIZE, description="output height",
                               json_schema_extra={"unit": "pixels"})
    filter: Filter = Field("bicubic", description="resampling kernel")

    @model_validator(mode="after")
    def _one_size_given(self) -> Resize:
        if self.width is None and self.height is None:
            raise ValueError("give width, height or both")
        return self

    def output_shape(self, height: int, width: int) -> tuple[int, int]:
        if self.width is not None and self.height is not None:
            return self.height, self.width
        if self.width is not None:  # round(height * self.width / width), half up
            return max(1, (2 * height * self.width + width) // (2 * width)), self.width
        assert self.height is not None
        return self.height, max(1, (2 * width * self.height + height) // (2 * height))

    def _axes(self, height: int, width: int) -> list[tuple[int, int, int]]:
        """(axis, in_size, out_size) of the passes to run: x then y, unchanged axes skipped."""
        oh, ow = self.output_shape(height, width)
        axes = []
        if ow != width:
            axes.append((1, width, ow))
        if oh != height:
            axes.append((0, height, oh))
        return axes

    def _tables(self, n_in: int, n_out: int
                ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], Array]:
        if n_in == n_out:  # identity: one tap of weight 1 (used only for a same-size copy)
            return np.arange(n_out), np.ones(n_out, np.int64), np.ones((n_out, 1), np.float32)
        starts, counts, w = resample_weights(n_in, n_out, self.filter)
        return starts, counts, w.astype(np.float32)

    # --- output tiles ----------------------------------------------------------
    # The tables are per output row / column: a tile uses its own rows of them,
    # with the window starts made relative to the source region's origin, so
    # every output sample sums the same taps with the same weights in the same
    # order as on the whole image.
    def _tile_tables(self, axis: int, n_in: int, n_out: int, src_region: Region,
                     out_region: Region
                     ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], Array]:
        starts, counts, w = self._tables(n_in, n_out)
        o0, o1 = out_region[2:] if axis == 1 else out_region[:2]
        s0 = src_region[2] if axis == 1 else src_region[0]
        return starts[o0:o1] - s0, counts[o0:o1], w[o0:o1]

    def source_region(self, out_region: Region, in_shape: tuple[int, int]) -> Region:
        height, width = in_shape
        oh, ow = self.output_shape(height, width)
        span = [out_region[0], out_region[1], out_region[2], out_region[3]]
        for axis, n_in, n_out in ((0, height, oh), (1, width, ow)):
            if n_in == n_out:
                continue
            starts, counts, _ = self._tables(n_in, n_out)
            o0, o1 = out_region[2:] if axis == 1 else out_region[:2]
            s, c = starts[o0:o1], counts[o0:o1]
            k = 2 * axis
            span[k], span[k + 1] = int(s.min()), int((s + c).max())
        return clip_region(span[0], span[1], span[2], span[3], in_shape)

    def reference_tile(self, x: Array, src_region: Region, out_region: Region,
                       in_shape: tuple[int, int]) -> Array:
        out = x
        for axis, n_in, n_out in self._axes(*in_shape):
            out = resample_axis(out, axis, *self._tile_tables(axis, n_in, n_out, src_region,
                                                              out_region))
        return out.copy() if out is x else out

    def gpu_passes_tile(self, src_region: Region, out_region: Region,
                        in_shape: tuple[int, int]) -> list[GpuPass]:
        shader = load_wgsl(__package__, "resize.wgsl")
        height, width = in_shape
        axes = self._axes(height, width)
        if not axes:  # same size: one exact copy pass (one tap of weight 1)
            axes = [(1, width, width)]
        passes: list[GpuPass] = []
        size = region_size(src_region)
        for axis, n_in, n_out in axes:
            starts, counts, w = self._tile_tables(axis, n_in, n_out, src_region, out_region)
            n = len(starts)
            kq = -(-w.shape[1] // 4)
            wpad = np.zeros((n, kq * 4), np.float32)
            wpad[:, :w.shape[1]] = w
            head = np.array([[axis ^ 1, kq, n, 0]], np.uint32)
            win = np.zeros((n, 4), np.uint32)
            win[:, 0], win[:, 1] = starts, counts
            params = np.concatenate([head.view(np.float32), win.view(np.float32),
                                     wpad.reshape(-1, 4)])
            size = (n, size[1]) if axis == 0 else (size[0], n)
            inputs = ("in",) if not passes else (f"p{len(passes) - 1}",)
            passes.append(GpuPass(shader, params, size, inputs))
        return passes
