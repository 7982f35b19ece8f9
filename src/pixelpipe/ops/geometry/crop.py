"""Crop to a rectangle.

Algorithm
---------
``out[j, i] = in[y + j, x + i]`` for ``0 <= i < width``, ``0 <= j < height``:
the rectangle is given as its top-left corner and its size in pixels
(origin at the top-left pixel, x to the right, y down), the form used by
OpenCV's ``Rect``, ffmpeg's ``crop=w:h:x:y`` and CSS. Pixels are copied bit
for bit. The op does not know the image size when it is built, so a
rectangle that leaves the image is reported when the pipeline is planned
against an image (:meth:`Crop.output_shape`).

Source: the region-of-interest convention of OpenCV's ``cv::Rect_`` (core
module reference: top-left ``x, y`` plus ``width, height``, the right and
bottom edges exclusive).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, JsonValue

from pixelpipe.errors import ParameterError
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

_PX: dict[str, JsonValue] = {"unit": "pixels"}


class Crop(Op):
    """Keep the ``width x height`` rectangle whose top-left pixel is ``(x, y)``.

    Parameters
    ----------
    x, y : int, >= 0
        Column and row of the rectangle's top-left pixel, in pixels.
    width, height : int, >= 1
        Size of the rectangle in pixels.

    Input float32 (H, W, 4) -> output float32 (height, width, 4); values
    (NaN and Inf included) are copied unchanged.

    Raises
    ------
    ParameterError
        When planned against an image that does not contain the rectangle
        (``x + width > W`` or ``y + height > H``).
    """

    op_name: ClassVar[str] = "crop"
    kind: ClassVar[OpKind] = OpKind.GEOMETRY
    tiles_by_region: ClassVar[bool] = True

    x: int = Field(0, ge=0, description="column of the top-left pixel of the rectangle",
                   json_schema_extra=_PX)
    y: int = Field(0, ge=0, description="row of the top-left pixel of the rectangle",
                   json_schema_extra=_PX)
    width: int = Field(..., ge=1, description="width of the rectangle", json_schema_extra=_PX)
    height: int = Field(..., ge=1, description="height of the rectangle", json_schema_extra=_PX)

    def output_shape(self, height: int, width: int) -> tuple[int, int]:
        if self.x + self.width > width or self.y + self.height > height:
            raise ParameterError(
                f"op 'crop': rectangle x={self.x}, y={self.y}, width={self.width}, "
                f"height={self.height} does not fit in a {width}x{height} image"
            )
        return self.height, self.width

    def reference(self, x: Array) -> Array:
        self.output_shape(*x.shape[:2])
        return x[self.y:self.y + self.height, self.x:self.x + self.width].copy()

    def gpu_passes(self, height: int, width: int) -> list[GpuPass]:
        out = self.output_shape(height, width)
        return [remap_pass(IntAffine(1, 0, self.x, 0, 1, self.y), out)]

    # --- output tiles: out[j, i] = in[y + j, x + i], an exact copy -------------
    def _map(self) -> IntAffine:
        return IntAffine(1, 0, self.x, 0, 1, self.y)

    def source_region(self, out_region: Region, in_shape: tuple[int, int]) -> Region:
        self.output_shape(*in_shape)
        return int_source_region(self._map(), out_region, in_shape)

    def reference_tile(self, x: Array, src_region: Region, out_region: Region,
                       in_shape: tuple[int, int]) -> Array:
        return remap_reference(x, shifted(self._map(), src_region, out_region),
                               region_size(out_region))

    def gpu_passes_tile(self, src_region: Region, out_region: Region,
                        in_shape: tuple[int, int]) -> list[GpuPass]:
        return [remap_pass(shifted(self._map(), src_region, out_region),
                           region_size(out_region))]
