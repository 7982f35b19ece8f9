"""The streaming executor: region source -> tiles -> region sink, memory bounded.

For an image larger than the memory budget. Tiles of ``tile`` x ``tile``
pixels are produced in row-major order (the order a tiled TIFF is written
in). For each row of tiles the source is asked for one *band* of rows,
``tile + 2 halo`` high (clipped at the image border), in the source's own
sample type; each tile of the band, padded by ``halo`` real pixels on its
interior sides exactly as in the tiled executor, goes through the backend
(which converts samples on the device) and its core goes to the sink.

Memory in flight: the band, ``(tile + 2 halo) x width x bytes per source
pixel``, plus one padded tile's working set (float32 RGBA input, output and
the ops' temporaries, about ``4 x 16 B x (tile + 2 halo)^2``), plus the
output tile. It does not depend on the image's height, and on its width
only through the band.

Geometry ops (crop, flip, resize, rotate) stream in a plan whose other ops
are pointwise or neighbourhood ops (:mod:`pixelpipe.exec.regional`): tiles
of the plan's *output* grid, each computed from the source rectangle it
needs, found by chaining regions back through the plan (a tileable segment
adds its halo, a geometry op maps to ``op.source_region``), read with
``source.read_region``. The rectangle is bounded by the tile (rotate: about
``tile x (|cos| + |sin|)`` a side), never by the image. Global ops and
``wrap`` in such a plan raise :class:`~pixelpipe.errors.PipelineError`.

Plans that stream: pointwise and neighbourhood ops (edge modes other than
``wrap``), and global ops that can gather their statistics tile by tile
(``GlobalOp.statistics_radius(H, W)`` not None: denoise, dehaze). For each such op, in
plan order, first passes over the image run the stages before it tile by
tile (each tile padded so that the op's input is exact on the tile plus
``statistics_radius`` pixels) and hand those tiles to
``op.statistics_from_tiles``, which merges them exactly (denoise: an exact
median by a radix select over float bit patterns, :func:`~pixelpipe.ops.
spatial.denoise.tiled_median`: one pass for images up to 4 Mpx, usually
two or three above; dehaze: the k-th largest dark-channel value by a
two-pass radix select, then a pass for the brightest candidate); the last
pass applies it per tile with those
statistics (:class:`~pixelpipe.exec.tiled.GlobalApply`). The source is read
once per pass; memory stays that of one band and one tile (plus the
statistic's own small state). Global ops whose statistics need the whole
image at once (``statistics_radius`` None; none in the catalogue), global
ops in a plan with geometry ops, and ``wrap`` (the opposite border) raise
:class:`~pixelpipe.errors.PipelineError`: run those in memory or split the
pipeline.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from pixelpipe.backends.base import Backend
from pixelpipe.errors import PipelineError
from pixelpipe.exec.regional import (
    check_geometry_streamable,
    has_geometry,
    stream_geometry_tiles,
)
from pixelpipe.exec.tiled import GlobalApply, padded, run_region, segments
from pixelpipe.io.regions import RegionSink, RegionSource
from pixelpipe.ops.base import GlobalOp, Op, TileView
from pixelpipe.pipeline.plan import Plan

#: ``--bit-depth`` values -> output sample types.
BIT_DEPTH_DTYPES: dict[Any, Any] = {8: np.uint8, 16: np.uint16, "half": np.float16,
                                    "float": np.float32}


def check_streamable(p: Plan) -> None:
    """Raise :class:`PipelineError` naming the first op that cannot stream."""
    if has_geometry(p):
        check_geometry_streamable(p)
        return
    for seg in segments(p):
        op = seg.ops[0]
        if not seg.tiled and isinstance(op, GlobalOp) and streamable_global(op):
            continue
        if isinstance(op, GlobalOp):
            raise PipelineError(
                f"op {op.op_name!r} (global) cannot be streamed: its statistics need the whole "
                "image at once; run it on an image that fits the memory limit, or split the "
                "pipeline")
        if not seg.tiled:
            raise PipelineError(
                f"op {op.op_name!r} ({op.kind.value}) cannot be streamed: it needs the whole "
                "image; run it on an image that fits the memory limit, or split the pipeline")
        if seg.periodic:
            op = next(o for o in seg.ops if getattr(o, "mode", None) == "wrap")
            raise PipelineError(f"op {op.op_name!r} with mode 'wrap' cannot be streamed: it "
                                "reads the opposite border of the image")


def streamable_global(op: GlobalOp) -> bool:
    """True when global ``op`` gathers its statistics from tiles and applies per tile."""
    return op.statistics_radius(1, 1) is not None and op.apply_radius(1, 1) is not None


def input_tiles(ops: list[Op], source: RegionSource, backend: Backend, tile: int,
                extra: int) -> Iterator[TileView]:
    """One pass: the output of ``ops`` (float32 RGBA) on each tile of ``source``.

    Each tile is the core grown by ``extra`` pixels on the sides inside the
    image, computed from the source region padded by the ops' halo, so every
    pixel of it equals the whole-image result. Yields ``(tile, core, origin)``,
    ``core`` the core's ``(y0, y1, x0, x1)`` in the tile's coordinates,
    ``origin`` its (row, column) in the image.
    """
    halo = sum(op.radius() for op in ops)
    h, w = source.height, source.width
    for y0 in range(0, h, tile):
        y1 = min(h, y0 + tile)
        ey0, ey1 = max(0, y0 - extra), min(h, y1 + extra)
        by0 = max(0, ey0 - halo)
        band = source.read_rows(by0, min(h, ey1 + halo))
        for x0 in range(0, w, tile):
            x1 = min(w, x0 + tile)
            ex0, ex1 = max(0, x0 - extra), min(w, x1 + extra)
            pad = padded((ey0, ey1, ex0, ex1), halo, h, w)
            samples = np.ascontiguousarray(band[pad[0] - by0:pad[1] - by0, pad[2]:pad[3]])
            res = run_region(ops, backend, samples, pad, (h, w), np.float32, 4)
            out = res[ey0 - pad[0]:ey1 - pad[0], ex0 - pad[2]:ex1 - pad[2]]
            yield out, (y0 - ey0, y1 - ey0, x0 - ex0, x1 - ex0), (y0, x0)
        del band


def resolve_globals(p: Plan, source: RegionSource, backend: Backend, tile: int) -> list[Op]:
    """The plan's ops, each global op replaced by its per-tile apply step.

    The statistics of each global op come from passes over the source
    (:func:`input_tiles` running the ops before it, already resolved).
    """
    resolved: list[Op] = []
    full = (source.height, source.width)
    for op in (o for s in p.stages for o in s.ops):
        if isinstance(op, GlobalOp):
            before, extra = list(resolved), op.statistics_radius(*full) or 0
            stats = op.statistics_from_tiles(
                functools.partial(input_tiles, before, source, backend, tile, extra), full)
            resolved.append(GlobalApply(op=op, stats=stats, full_shape=full))
        else:
            resolved.append(op)
    return resolved


def stream_tiles(p: Plan, source: RegionSource, backend: Backend, tile: int,
                 out_dtype: Any, out_channels: int | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 ) -> Iterator[npt.NDArray[Any]]:
    """Output tiles of ``p`` over ``source``, row-major, cores only (edge tiles smaller)."""
    check_streamable(p)
    if has_geometry(p):
        yield from stream_geometry_tiles(p, source, backend, tile, out_dtype, out_channels,
                                         progress)
        return
    ops = resolve_globals(p, source, backend, tile)
    halo = sum(op.radius() for op in ops)
    h, w = source.height, source.width
    rows, cols = -(-h // tile), -(-w // tile)
    done = 0
    for ty in range(rows):
        y0, y1 = ty * tile, min(h, ty * tile + tile)
        by0, by1 = max(0, y0 - halo), min(h, y1 + halo)
        band = source.read_rows(by0, by1)
        for tx in range(cols):
            x0, x1 = tx * tile, min(w, tx * tile + tile)
            pad = padded((y0, y1, x0, x1), halo, h, w)
            samples = np.ascontiguousarray(band[:, pad[2]:pad[3]])
            res = run_region(ops, backend, samples, pad, (h, w), out_dtype, out_channels)
            if res.ndim == 2:
                res = res[:, :, None]
            yield res[y0 - pad[0]:y1 - pad[0], x0 - pad[2]:x1 - pad[2]]
            done += 1
            if progress is not None:
                progress(done, rows * cols)
        del band


def run_streaming(p: Plan, source: RegionSource, sink: RegionSink, backend: Backend,
                  tile: int, out_dtype: Any, out_channels: int | None = None,
                  progress: Callable[[int, int], None] | None = None) -> None:
    """Run ``p`` from ``source`` into ``sink`` tile by tile (see the module docstring)."""
    check_streamable(p)
    sink.write_tiles(stream_tiles(p, source, backend, tile, out_dtype, out_channels, progress))


def stream_tile(tile: int) -> int:
    """The tile size streaming uses for a requested ``tile``: rounded up to a multiple of 16
    (a TIFF rule for tiles), at least 16."""
    return -(-max(tile, 16) // 16) * 16


def stream_file(pipeline: Any, input_path: str | Path, output_path: str | Path,
                backend: Backend, tile: int, bit_depth: Any = None, overwrite: bool = False,
                compression: str | None = None,
                progress: Callable[[int, int], None] | None = None) -> Path:
    """Stream ``input_path`` (TIFF or OpenEXR) through ``pipeline`` into a tiled BigTIFF,
    or a scanline OpenEXR for an ``.exr`` ``output_path`` (half for integer samples).

    ``tile`` is rounded up to a multiple of 16 (TIFF tiles). ``bit_depth``:
    8, 16, ``"half"`` or ``"float"``; default the source's sample type. The
    source's ICC profile is kept. Returns the written path.
    """
    from pixelpipe.io.regions import open_region_sink, open_region_source

    p = pipeline.plan() if hasattr(pipeline, "plan") else pipeline
    check_streamable(p)
    tile = stream_tile(tile)
    with open_region_source(input_path) as src:
        dtype = np.dtype(BIT_DEPTH_DTYPES[bit_depth] if bit_depth is not None else src.dtype)
        if Path(output_path).suffix.lower() == ".exr" and dtype.kind in "ui":
            dtype = np.dtype(np.float16)  # as the in-memory writer stores integer sources
        oh, ow = p.output_shape(src.height, src.width)
        sink = open_region_sink(output_path, oh, ow, src.channels, dtype, tile,
                                compression=compression, icc_profile=src.icc_profile,
                                overwrite=overwrite)
        run_streaming(p, src, sink, backend, tile, dtype, src.channels, progress)
    return Path(output_path)
