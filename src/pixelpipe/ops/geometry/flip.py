"""Mirror an image.

Algorithm
---------
``horizontal``: ``out[y, x] = in[y, W - 1 - x]`` (left and right swap);
``vertical``: ``out[y, x] = in[H - 1 - y, x]`` (top and bottom swap);
``both``: both at once, which equals a rotation by 180 degrees. Pixels are
copied bit for bit (``numpy.fliplr`` / ``numpy.flipud`` semantics; Pillow's
``FLIP_LEFT_RIGHT`` / ``FLIP_TOP_BOTTOM``).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from pixelpipe.ops.base import Array, GpuPass, Op, OpKind
from pixelpipe.ops.geometry.remap import (
    IntAffine,
    Region,
    int_source_region,
    region_size,
    remap_pass,
    remap_reference,
    shifted,
)


class Flip(Op):
    """Mirror the image left-right (``horizontal``), top-bottom (``vertical``) or ``both``.

    Input float32 (H, W, 4) -> output float32 (H, W, 4); values (NaN and Inf
    included) are copied unchanged.
    """

    op_name: ClassVar[str] = "flip"
    kind: ClassVar[OpKind] = OpKind.GEOMETRY
    tiles_by_region: ClassVar[bool] = True

    axis: Literal["horizontal", "vertical", "both"] = Field(
        "horizontal",
        description="horizontal: mirror left-right; vertical: mirror top-bottom; both: 180°")

    def output_shape(self, height: int, width: int) -> tuple[int, int]:
        return height, width

    def reference(self, x: Array) -> Array:
        if self.axis in ("horizontal", "both"):
            x = x[:, ::-1]
        if self.axis in ("vertical", "both"):
            x = x[::-1]
        return x.copy()

    def _map(self, height: int, width: int) -> IntAffine:
        fx = self.axis in ("horizontal", "both")
        fy = self.axis in ("vertical", "both")
        return IntAffine(-1 if fx else 1, 0, width - 1 if fx else 0,
                         0, -1 if fy else 1, height - 1 if fy else 0)

    def gpu_passes(self, height: int, width: int) -> list[GpuPass]:
        return [remap_pass(self._map(height, width), (height, width))]

    # --- output tiles: the mirrored rectangle, an exact copy --------------------
    def source_region(self, out_region: Region, in_shape: tuple[int, int]) -> Region:
        return int_source_region(self._map(*in_shape), out_region, in_shape)

    def reference_tile(self, x: Array, src_region: Region, out_region: Region,
                       in_shape: tuple[int, int]) -> Array:
        return remap_reference(x, shifted(self._map(*in_shape), src_region, out_region),
                               region_size(out_region))

    def gpu_passes_tile(self, src_region: Region, out_region: Region,
                        in_shape: tuple[int, int]) -> list[GpuPass]:
        return [remap_pass(shifted(self._map(*in_shape), src_region, out_region),
                           region_size(out_region))]
