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
``wrap``). Geometry ops (their output tiles map to other source regions),
global ops (statistics of the whole input) and ``wrap`` (the opposite border)
raise :class:`~pixelpipe.errors.PipelineError`: run those in memory or split
the pipeline.
"""

from __future__ import annotations

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
from pixelpipe.exec.tiled import padded, run_region, segments
from pixelpipe.io.regions import RegionSink, RegionSource
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
        if not seg.tiled:
            op = seg.ops[0]
            raise PipelineError(
                f"op {op.op_name!r} ({op.kind.value}) cannot be streamed: it needs the whole "
                "image; run it on an image that fits the memory limit, or split the pipeline")
        if seg.periodic:
            op = next(o for o in seg.ops if getattr(o, "mode", None) == "wrap")
            raise PipelineError(f"op {op.op_name!r} with mode 'wrap' cannot be streamed: it "
                                "reads the opposite border of the image")


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
    ops = [op for s in p.stages for op in s.ops]
    halo = p.halo
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
