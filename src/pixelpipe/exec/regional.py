"""Geometry ops tile by tile: each output tile from the input region it needs.

A geometry op (crop, flip, resize, rotate) changes the sampling grid, so an
output tile does not read the same rectangle of its input. Ops with
``tiles_by_region`` give, for an output rectangle, the input rectangle it
needs (:meth:`~pixelpipe.ops.base.Op.source_region`, filter support
included, clipped to the image) and compute the tile from that rectangle
alone (:meth:`~pixelpipe.ops.base.Op.reference_tile`,
:meth:`~pixelpipe.ops.base.Op.gpu_passes_tile`), with positions and weights
taken from the whole-image tables, so a tile equals the same rectangle of
the untiled result: bit for bit on the cpu backend, within the op's own
consistency tolerance on WebGPU.

* The tiled executor runs such an op on the tiles of its *output* grid,
  reading each tile's source region from the materialised input
  (:func:`run_geometry_tiled`).
* The streaming executor chains regions backwards through a whole plan
  (:func:`plan_regions`): a tileable segment needs its output rectangle
  padded by its halo (clipped at the image border, as in the tiled
  executor), a geometry op its source region. The first region is read
  from the source file; each segment then computes its output rectangle.

Source regions are bounded by the tile: crop and flip read a rectangle the
size of the tile, resize one scaled by the ratio plus the filter support,
rotate the bounding box of the rotated tile plus the interpolation support,
at most about ``tile x (|cos| + |sin|)`` on a side; none spans the image.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from pixelpipe.backends.base import Backend
from pixelpipe.errors import PipelineError
from pixelpipe.ops.base import Array, GpuPass, Op, OpKind
from pixelpipe.pipeline.plan import plan

Region = tuple[int, int, int, int]  #: (y0, y1, x0, x1), half-open, pixels


def regional(op: Op) -> bool:
    """True when ``op`` computes output tiles from source regions (``tiles_by_region``)."""
    return bool(getattr(op, "tiles_by_region", False))


class GeometryTile(Op):
    """Output rectangle ``out_region`` of geometry ``op`` on an ``in_shape`` input.

    Its input is the input's ``src_region``; its output the tile. Built by
    the executors so that any backend runs a tile as a one-op plan; never
    registered (no ``op_name``).
    """

    kind: ClassVar[OpKind] = OpKind.GEOMETRY

    op: Op
    src_region: tuple[int, int, int, int]
    out_region: tuple[int, int, int, int]
    in_shape: tuple[int, int]

    def output_shape(self, height: int, width: int) -> tuple[int, int]:
        y0, y1, x0, x1 = self.out_region
        return y1 - y0, x1 - x0

    def reference(self, x: Array) -> Array:
        return self.op.reference_tile(x, self.src_region, self.out_region, self.in_shape)

    def gpu_passes(self, height: int, width: int) -> list[GpuPass]:
        return self.op.gpu_passes_tile(self.src_region, self.out_region, self.in_shape)


def tile_op(op: Op, out_region: Region, in_shape: tuple[int, int]) -> GeometryTile:
    """The :class:`GeometryTile` of ``op`` for ``out_region`` (source region computed)."""
    src = op.source_region(out_region, in_shape)
    return GeometryTile(op=op, src_region=src, out_region=out_region,
                        in_shape=(int(in_shape[0]), int(in_shape[1])))


def run_geometry_tiled(op: Op, x: Array, backend: Backend, tile: int | tuple[int, int],
                       progress: Callable[[int, int], None] | None = None) -> Array:
    """Run geometry ``op`` on float32 RGBA ``x`` (H, W, 4) tile by tile of its output.

    Returns float32 (H', W', 4) (``op.output_shape``), equal to ``op`` on
    the whole input (see the module docstring).
    """
    from pixelpipe.exec.tiled import tile_grid

    in_shape = (int(x.shape[0]), int(x.shape[1]))
    oh, ow = op.output_shape(*in_shape)
    out = np.empty((oh, ow, 4), np.float32)
    regions = list(tile_grid(oh, ow, tile))
    for i, core in enumerate(regions):
        t = tile_op(op, core, in_shape)
        sy0, sy1, sx0, sx1 = t.src_region
        src = np.ascontiguousarray(x[sy0:sy1, sx0:sx1])
        out[core[0]:core[1], core[2]:core[3]] = backend.run(plan([t]), src)
        if progress is not None:
            progress(i + 1, len(regions))
    return out


def plan_regions(segs: Sequence[Any], in_shape: tuple[int, int],
                 out_region: Region) -> tuple[list[Region], list[tuple[int, int]]]:
    """Regions of the input of each segment (and of the output) for one output tile.

    ``segs`` are :class:`~pixelpipe.exec.tiled.Segment` s, non-periodic,
    each tileable or a single regional geometry op. Returns ``regions``
    (``len(segs) + 1``: ``regions[i]`` is what segment ``i`` reads,
    ``regions[-1] == out_region``) and ``shapes`` (the image size before
    each segment and after the last).
    """
    from pixelpipe.exec.tiled import padded

    shapes = [in_shape]
    for seg in segs:
        h, w = shapes[-1]
        for op in seg.ops:
            h, w = op.output_shape(h, w)
        shapes.append((h, w))
    regions: list[Region] = [out_region]
    for seg, shape in zip(reversed(segs), reversed(shapes[:-1]), strict=True):
        if seg.tiled:
            regions.append(padded(regions[-1], seg.halo, *shape))
        else:
            regions.append(seg.ops[0].source_region(regions[-1], shape))
    regions.reverse()
    return regions, shapes


def run_plan_region(segs: Sequence[Any], backend: Backend, samples: Any,
                    regions: Sequence[Region], shapes: Sequence[tuple[int, int]],
                    out_dtype: Any = np.float32, out_channels: int | None = None) -> Any:
    """Output tile ``regions[-1]`` of the segments from ``samples`` = input ``regions[0]``.

    ``samples`` are the source's samples (any type the backend converts);
    intermediate results are float32 RGBA, the last is ``out_dtype`` with
    ``out_channels``.
    """
    from pixelpipe.exec.tiled import run_region

    data = samples
    for i, seg in enumerate(segs):
        last = i == len(segs) - 1
        dt, ch = (out_dtype, out_channels) if last else (np.float32, 4)
        src, dst = regions[i], regions[i + 1]
        if seg.tiled:
            res = run_region(seg.ops, backend, data, src, shapes[i], dt, ch)
            if res.ndim == 2:
                res = res[:, :, None]
            data = res[dst[0] - src[0]:dst[1] - src[0], dst[2] - src[2]:dst[3] - src[2]]
        else:
            t = GeometryTile(op=seg.ops[0], src_region=src, out_region=dst,
                             in_shape=shapes[i])
            data = backend.run_samples(plan([t]), np.ascontiguousarray(data), dt, ch)
            if data.ndim == 2:
                data = data[:, :, None]
        data = np.ascontiguousarray(data)
    return data


def stream_geometry_tiles(p: Any, source: Any, backend: Backend, tile: int, out_dtype: Any,
                          out_channels: int | None = None,
                          progress: Callable[[int, int], None] | None = None) -> Any:
    """Output tiles of plan ``p`` (with geometry ops) over a region ``source``, row-major.

    For each tile of the *output* grid the regions are chained back through
    the plan (:func:`plan_regions`); the source's rectangle is read with
    ``source.read_region`` and run forward (:func:`run_plan_region`). Every
    segment must be tileable (not periodic) or a regional geometry op.
    Memory: one source rectangle and its tile's intermediates, bounded by
    the tile size (see the module docstring), not by the image.
    """
    from pixelpipe.exec.tiled import segments, tile_grid

    segs = segments(p)
    in_shape = (int(source.height), int(source.width))
    oh, ow = p.output_shape(*in_shape)
    channels = source.channels if out_channels is None else out_channels
    cores = list(tile_grid(oh, ow, tile))
    for i, core in enumerate(cores):
        regions, shapes = plan_regions(segs, in_shape, core)
        y0, y1, x0, x1 = regions[0]
        samples = source.read_region(y0, y1, x0, x1)
        yield run_plan_region(segs, backend, samples, regions, shapes, out_dtype, channels)
        if progress is not None:
            progress(i + 1, len(cores))


def has_geometry(p: Any) -> bool:
    """True when plan ``p`` holds a regional geometry op (see :func:`stream_geometry_tiles`)."""
    return any(regional(op) for s in p.stages for op in s.ops)


def check_geometry_streamable(p: Any) -> None:
    """Raise :class:`PipelineError` naming the first op a plan with geometry cannot stream.

    Such a plan streams when every segment is tileable (not ``wrap``) or a
    regional geometry op; global ops are refused (their statistics would
    be gathered over a resampled grid: run them in memory or split the
    pipeline at the geometry op).
    """
    from pixelpipe.exec.tiled import segments

    for seg in segments(p):
        op = seg.ops[0]
        if seg.periodic:
            op = next(o for o in seg.ops if getattr(o, "mode", None) == "wrap")
            raise PipelineError(f"op {op.op_name!r} with mode 'wrap' cannot be streamed: it "
                                "reads the opposite border of the image")
        if not seg.tiled and not regional(op):
            raise PipelineError(
                f"op {op.op_name!r} ({op.kind.value}) cannot be streamed together with a "
                "geometry op (crop, flip, resize, rotate): it needs its whole input; run it "
                "on an image that fits the memory limit, or split the pipeline")
