"""The tiled executor: a plan run tile by tile, stitched equal to the untiled result.

Why it is exact
---------------
A pointwise op's output pixel depends on the same input pixel; a
neighbourhood op's on a window of ``radius()`` pixels around it. A chain of
such ops has a footprint of ``halo = sum of radii`` (:attr:`Plan.halo`).
Each output tile ``[y0, y1) x [x0, x1)`` is computed from the input region
padded by ``halo`` *real* pixels on every side that is inside the image, and
NOT padded on sides at the image border: there the ops apply their own edge
mode (mirror, nearest, constant …) exactly as they do on the whole image.
Pixels of the padded region closer than ``halo`` to an interior cut see
wrong (edge-mode) neighbours, but they are cut away; every pixel of the core
sees the same inputs, with the same arithmetic, as in the untiled run, so
the cpu backend is bit-identical and the WebGPU backend agrees within each
op's own consistency tolerance.

Ops that depend on absolute position (grain, vignette) follow a convention:
a field ``origin`` (row, column of this image's top-left pixel in the full
image) and, for ops that need it, ``image_size`` (full height, width). The
executor sets them for each padded tile (:func:`at_region`).

Segments
--------
A plan is cut into *segments* (:func:`segments`): maximal runs of
pointwise / neighbourhood stages are run tile by tile; every other op runs
on its whole, materialised input:

* geometry ops (crop, flip, rotate, resize) change the sampling grid. They
  run tile by tile of their *output* grid, each tile from the input region
  it needs (``op.source_region``, :mod:`pixelpipe.exec.regional`), equal to
  the untiled result. A geometry op without ``tiles_by_region`` would run
  whole: crop and flip as NumPy copies, others on the backend when input
  and output fit one device buffer, else as the NumPy reference;
* global ops (dehaze, denoise) need statistics of their whole input. The
  input is materialised anyway between segments, so the statistics are
  computed once from it on the host (:func:`global_statistics`: merged
  from tiles when the op can, ``op.statistics_from_tiles``, else
  ``op.statistics``; either way exactly the reference statistics the
  untiled cpu run uses); then the op is
  *applied* tile by tile with those statistics (:class:`GlobalApply`),
  each tile padded by ``op.apply_radius(H, W)``, the halo of the apply
  step for the full image size (dehaze's windows scale with the image:
  every tile uses the full image's radii). An op whose ``apply_radius`` is
  None runs whole (statistics and apply), on the device when it fits, else
  as the reference. Memory: the input (in RAM already) plus the op's
  merge state when its statistics come from tiles (denoise: histograms and
  at most 4 Mi gathered values per channel and order statistic; dehaze:
  two histograms of 65536 counts), else what ``op.statistics`` allocates
  for the whole image; then, as for any segment, the output image and one
  padded tile.

Edge mode ``wrap`` (periodic) needs, at the image border, pixels from the
opposite side. Ops with ``mode = "wrap"`` therefore run in *periodic*
segments: every tile is padded on every side, at the border with the pixels
the wrap reaches (indices modulo the image size), so each core pixel again
sees exactly its untiled neighbours. Position-dependent ops and ops with
another edge mode never share a periodic segment (they would see the
wrapped pixels as real ones).

The streaming executor (:mod:`pixelpipe.exec.streaming`) takes plans made of
non-periodic tileable segments, streamable global ops, and, in plans without
global ops, regional geometry ops (:mod:`pixelpipe.exec.regional`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from pixelpipe.backends.base import Backend
from pixelpipe.errors import ParameterError, PipelineError
from pixelpipe.exec.regional import regional, run_geometry_tiled
from pixelpipe.ops.base import Array, GlobalOp, GpuPass, Op, OpKind, TileView
from pixelpipe.pipeline.plan import Plan, plan

#: Geometry ops that only move pixels: their NumPy reference is an exact copy.
COPY_OPS = frozenset({"crop", "flip"})
PIXEL_BYTES = 16  # float32 RGBA

Region = tuple[int, int, int, int]  #: (y0, y1, x0, x1), half-open, pixels


def tileable(op: Op) -> bool:
    """True when ``op`` can run on a padded tile (pointwise or neighbourhood)."""
    return op.kind in (OpKind.POINTWISE, OpKind.NEIGHBORHOOD)


def wraps(op: Op) -> bool:
    """True for a neighbourhood op whose edge mode is ``wrap`` (periodic image)."""
    return getattr(op, "mode", None) == "wrap" and op.radius() > 0


def positional(op: Op) -> bool:
    """True for an op whose result depends on absolute position (an ``origin`` field)."""
    return "origin" in type(op).model_fields


@dataclass(frozen=True)
class Segment:
    """Ops run together: tile by tile (``tiled``) or on the whole image.

    ``periodic``: tiles are padded with wrapped pixels at the image border.
    """

    ops: tuple[Op, ...]
    tiled: bool
    periodic: bool = False

    @property
    def halo(self) -> int:
        """Neighbourhood radius of the segment's ops, in pixels (0 for a whole-image op)."""
        return sum(op.radius() for op in self.ops) if self.tiled else 0


def segments(p: Plan) -> list[Segment]:
    """Cut ``p`` into tiled runs and whole-image ops (see the module docstring)."""
    out: list[Segment] = []
    run: list[Op] = []
    periodic = False

    def flush() -> None:
        if run:
            out.append(Segment(tuple(run), True, periodic))
            run.clear()

    for stage in p.stages:
        for op in stage.ops:
            if not tileable(op):
                flush()
                out.append(Segment((op,), False))
                continue
            if wraps(op) and not periodic:
                if any(o.radius() > 0 or positional(o) for o in run):
                    flush()
                periodic = True
            elif periodic and not wraps(op) and (positional(op) or op.radius() > 0):
                flush()
                periodic = False
            run.append(op)
    flush()
    return out


def at_region(op: Op, origin: tuple[int, int], full_shape: tuple[int, int]) -> Op:
    """``op`` set up to run on the region at ``origin`` (row, col) of a ``full_shape`` image.

    Ops with an ``origin`` field get it offset by ``origin``; ops with an
    ``image_size`` field left unset get ``full_shape``. Other ops are
    returned unchanged.
    """
    fields = type(op).model_fields
    update: dict[str, Any] = {}
    if "origin" in fields:
        oy, ox = op.origin  # type: ignore[attr-defined]
        update["origin"] = (int(oy) + origin[0], int(ox) + origin[1])
    if "image_size" in fields and op.image_size is None:  # type: ignore[attr-defined]
        update["image_size"] = (int(full_shape[0]), int(full_shape[1]))
    if not update or (origin == (0, 0) and set(update) == {"origin"}):
        return op
    return op.model_copy(update=update)


class GlobalApply(Op):
    """The apply step of global ``op`` with fixed ``stats``, on tiles of a ``full_shape`` image.

    A neighbourhood op of radius ``op.apply_radius(*full_shape)``: its
    reference is ``op.apply_region`` and its passes ``op.gpu_passes_region``.
    Built by the executors, never registered (no ``op_name``).
    """

    kind: ClassVar[OpKind] = OpKind.NEIGHBORHOOD

    op: GlobalOp
    stats: Any
    full_shape: tuple[int, int]

    def radius(self) -> int:
        r = self.op.apply_radius(*self.full_shape)
        if r is None:
            raise PipelineError(f"op {self.op.op_name!r} cannot be applied per tile")
        return r

    def is_identity(self) -> bool:
        return self.op.is_identity()

    def reference(self, x: Array) -> Array:
        return self.op.apply_region(x, self.stats, self.full_shape)

    def gpu_passes(self, height: int, width: int) -> list[GpuPass]:
        return self.op.gpu_passes_region(height, width, self.stats, self.full_shape)


def global_statistics(op: GlobalOp, x: Array, tile: int | tuple[int, int]) -> Any:
    """Statistics of global ``op`` on its whole input ``x`` float32 (H, W, 4).

    From tiles of ``x`` (``op.statistics_from_tiles``, memory bounded by the
    op's merge state) when the op can merge them, else ``op.statistics(x)``;
    both equal the whole-image reference statistics.
    """
    h, w = x.shape[:2]
    r = op.statistics_radius(h, w)
    if r is None:
        return op.statistics(x)

    def tiles() -> Iterator[TileView]:
        for y0, y1, x0, x1 in tile_grid(h, w, tile):
            py0, py1, px0, px1 = padded((y0, y1, x0, x1), r, h, w)
            yield (x[py0:py1, px0:px1], (y0 - py0, y1 - py0, x0 - px0, x1 - px0),
                   (y0, x0))

    return op.statistics_from_tiles(tiles, (h, w))


def tile_grid(height: int, width: int, tile: int | tuple[int, int]) -> Iterator[Region]:
    """Core regions of ``tile``-sized tiles covering the image, row-major; edge tiles smaller."""
    th, tw = (tile, tile) if isinstance(tile, int) else tile
    if th < 1 or tw < 1:
        raise ParameterError(f"tile size {tile!r}: must be at least 1 pixel")
    for y0 in range(0, height, th):
        for x0 in range(0, width, tw):
            yield y0, min(height, y0 + th), x0, min(width, x0 + tw)


def padded(region: Region, halo: int, height: int, width: int) -> Region:
    """``region`` grown by ``halo`` on each side that is inside the image (clipped at borders)."""
    y0, y1, x0, x1 = region
    return max(0, y0 - halo), min(height, y1 + halo), max(0, x0 - halo), min(width, x1 + halo)


def run_region(ops: Sequence[Op], backend: Backend, samples: Any, region: Region,
               full_shape: tuple[int, int], out_dtype: Any = np.float32,
               out_channels: int | None = None) -> Any:
    """Run ``ops`` on ``samples`` = the image's ``region`` (padded tile) and return it all.

    Position-dependent ops are set up with :func:`at_region`; the caller
    cuts the core out of the result.
    """
    local = [at_region(op, (region[0], region[2]), full_shape) for op in ops]
    return backend.run_samples(plan(local), samples, out_dtype, out_channels)


def wrapped_region(x: Any, region: Region, halo: int) -> Any:
    """``region`` of ``x`` grown by ``halo`` on every side, indices taken modulo the size."""
    height, width = x.shape[:2]
    ys = np.arange(region[0] - halo, region[1] + halo) % height
    xs = np.arange(region[2] - halo, region[3] + halo) % width
    return np.ascontiguousarray(x[ys[:, None], xs[None, :]])


def run_tiled_segment(seg: Segment, x: Array, backend: Backend, tile: int | tuple[int, int],
                      progress: Callable[[int, int], None] | None = None) -> Array:
    """Run a tileable segment on float32 RGBA ``x`` (H, W, 4), tile by tile."""
    height, width = x.shape[:2]
    ops, halo = seg.ops, seg.halo
    out = np.empty((height, width, 4), np.float32)
    regions = list(tile_grid(height, width, tile))
    for i, core in enumerate(regions):
        if seg.periodic:
            pad = (core[0] - halo, core[1] + halo, core[2] - halo, core[3] + halo)
            src = wrapped_region(x, core, halo)
        else:
            pad = padded(core, halo, height, width)
            src = np.ascontiguousarray(x[pad[0]:pad[1], pad[2]:pad[3]])
        res = run_region(ops, backend, src, pad, (height, width), np.float32, 4)
        y0, y1, x0, x1 = core
        out[y0:y1, x0:x1] = res[y0 - pad[0]:y1 - pad[0], x0 - pad[2]:x1 - pad[2]]
        if progress is not None:
            progress(i + 1, len(regions))
    return out


def fits_device(backend: Backend, *shapes: tuple[int, int]) -> bool:
    """True when an RGBA float32 image of each of ``shapes`` fits one device buffer."""
    limit = getattr(backend, "max_binding", None)
    return limit is None or all(h * w * PIXEL_BYTES <= limit for h, w in shapes)


def run_whole_op(op: Op, x: Array, backend: Backend,
                 log: Callable[[str], None] | None = None) -> Array:
    """Run one non-tileable op on its whole input (see the module docstring)."""
    from pixelpipe.backends import get_backend

    shape = x.shape[:2]
    if op.op_name in COPY_OPS:
        return np.ascontiguousarray(op.reference(x), dtype=np.float32)
    if fits_device(backend, shape, op.output_shape(*shape)):
        return backend.run(plan([op]), x)
    if log is not None:
        log(f"{op.op_name} on {shape[1]}x{shape[0]} does not fit one device buffer; "
            "running its NumPy reference")
    return get_backend("cpu").run(plan([op]), x)


def run_tiled(p: Plan, rgba: Array, backend: Backend, tile: int | tuple[int, int],
              log: Callable[[str], None] | None = None,
              progress: Callable[[int, int], None] | None = None) -> Array:
    """Run plan ``p`` on float32 RGBA ``rgba`` (H, W, 4) with the tiled strategy.

    ``tile`` is the core tile size in pixels (square, or (height, width));
    any size >= 1 works, including sizes that do not divide the image.
    Returns float32 (H', W', 4), equal to ``backend.run(p, rgba)``:
    bit-identical on the cpu backend, within each op's tolerance on wgpu.
    """
    x = np.ascontiguousarray(rgba, dtype=np.float32)
    for seg in segments(p):
        op = seg.ops[0]
        if seg.tiled:
            x = run_tiled_segment(seg, x, backend, tile, progress)
        elif regional(op):
            x = run_geometry_tiled(op, x, backend, tile, progress)
        elif isinstance(op, GlobalOp) and op.apply_radius(*x.shape[:2]) is not None:
            apply = GlobalApply(op=op, stats=global_statistics(op, x, tile),
                                full_shape=x.shape[:2])
            x = run_tiled_segment(Segment((apply,), True), x, backend, tile, progress)
        else:
            x = run_whole_op(op, x, backend, log)
    return x
