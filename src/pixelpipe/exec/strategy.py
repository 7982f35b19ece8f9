"""Choosing how to run a plan: single pass, tiled or streaming.

Rules (the numbers are in ``docs/strategies.md``):

* **single** — the whole image, every intermediate included, fits one device
  buffer (WebGPU: the adapter's ``max-storage-buffer-binding-size`` and
  ``max-buffer-size``; no limit on the CPU) and the host working set
  ``WORK_FACTOR x 16 B x pixels`` (samples, float32 RGBA input, output,
  the ops' temporaries, the writer's conversion; measured) fits the budget;
* **tiled** — not single, but the input and output images (float32 RGBA)
  and one padded tile's work (``TILE_WORK_FACTOR x 16 B x (tile + 2 halo)^2``)
  fit the budget in RAM (:func:`tiled_bytes`): tiles of ``tile_size`` plus
  ``2 x halo`` go to the device one at a time;
* **streaming** — the image does not fit the budget: a region source feeds
  bands of rows, tiles go through the device and a region sink writes them
  out; memory is bounded by the band and the tiles in flight.

``tile_size`` and ``memory_limit`` given by the user override the defaults;
a forced ``tile_size`` always tiles (or streams, when the image does not fit
the budget).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pixelpipe.errors import ParameterError
from pixelpipe.exec.budget import default_memory_limit, device_limit, format_size
from pixelpipe.exec.tiled import PIXEL_BYTES, segments
from pixelpipe.ops.base import GlobalOp
from pixelpipe.pipeline.plan import Plan

#: Host bytes of a single-pass run per byte of the largest float32 RGBA image:
#: the decoded samples, their float copy, the ops' reference temporaries (a
#: blur's float64 passes), the result and the writer's conversion. Measured
#: 9.5-9.6 (peak RSS less the interpreter's) for exposure + Gaussian blur on
#: 3000 x 2000 and 1200 x 800 RGB 16-bit TIFFs on the cpu backend, plus a
#: margin of about 15 %: docs/strategies.md.
WORK_FACTOR = 11
#: Host bytes of one padded tile's run per byte of its float32 RGBA buffer
#: (input and output tile, the ops' temporaries). Measured 10 to 12.3 (tiles
#: of 1040 and 272 px, exposure + Gaussian blur), plus a margin.
TILE_WORK_FACTOR = 16
#: Peak of decoding a whole file per byte of its samples (tifffile chunks and
#: the assembled array), measured 3.2 on the same TIFF; the RGBA buffer is
#: allocated after it.
READ_FACTOR = 3.5
#: Freed memory the C allocator keeps (glibc raises its mmap threshold after
#: large frees, so tile-sized buffers come from the heap and stay resident):
#: measured 1-3 MB above the traced peak for 1200 x 800 tiled runs.
HEAP_SLACK = 8 * 2**20
#: Candidate default tile sizes, largest first (multiples of 16: TIFF tiles).
TILE_CANDIDATES = (4096, 2048, 1024, 512, 256, 128, 64, 32, 16)
#: Share of the memory budget a tile's working set may take.
TILE_SHARE = 0.25

STRATEGIES = ("single", "tiled", "streaming")


@dataclass(frozen=True)
class Choice:
    """The strategy picked for one run, and why."""

    strategy: str  #: "single", "tiled" or "streaming"
    tile_size: int | None  #: core tile size in pixels (None for single)
    halo: int  #: pixels read around each tile (plan's neighbourhood radius)
    memory_limit: int  #: budget in bytes
    device_limit: int | None  #: largest device buffer in bytes (None: CPU)
    reason: str

    def describe(self) -> str:
        """One line for ``--verbose``."""
        dev = format_size(self.device_limit) if self.device_limit else "none (cpu)"
        tile = f", tile {self.tile_size} px + halo {self.halo} px" if self.tile_size else ""
        return (f"strategy: {self.strategy}{tile} (memory limit "
                f"{format_size(self.memory_limit)}, device buffer limit {dev}): {self.reason}")


def segment_halo(seg: Any, height: int, width: int) -> int:
    """Pixels a tile of ``seg`` reads around itself: the tileable ops' radii, or a
    global op's apply halo for the full image size (0 when it runs whole)."""
    if seg.tiled:
        return int(seg.halo)
    radii = [op.apply_radius(height, width) for op in seg.ops if isinstance(op, GlobalOp)]
    return max((r for r in radii if r is not None), default=0)


def peak_pixels(p: Plan, height: int, width: int) -> int:
    """Pixels of the largest image the plan holds at once (input, outputs of every op)."""
    peak = height * width
    for stage in p.stages:
        for op in stage.ops:
            height, width = op.output_shape(height, width)
            peak = max(peak, height * width)
    return peak


def default_tile_size(halo: int, memory_limit: int, dev_limit: int | None,
                      row_bytes: int = 0, fixed_bytes: int = 0) -> int:
    """Largest candidate tile whose padded buffer fits the device and a share of the budget.

    ``row_bytes``: bytes of one source row held by a streaming band (the band
    is ``tile + 2 halo`` rows high and must also fit the budget's share).
    ``fixed_bytes``: bytes held whatever the tile (a source chunk decoded whole).
    """
    for t in TILE_CANDIDATES:
        side = t + 2 * halo
        tile_bytes = side * side * PIXEL_BYTES
        if dev_limit is not None and tile_bytes > dev_limit:
            continue
        if (TILE_WORK_FACTOR * tile_bytes + side * row_bytes + fixed_bytes
                > TILE_SHARE * memory_limit * 2):
            continue
        return t
    return TILE_CANDIDATES[-1]


def tiled_bytes(in_pixels: int, source_pixel_bytes: int, image_bytes: int, tile: int,
                halo: int) -> int:
    """Host peak of a tiled run from a file: the larger of decoding the file
    (``READ_FACTOR x`` its samples) and running (input and output float32 RGBA,
    ``2 x image_bytes``, plus ``TILE_WORK_FACTOR x`` one padded tile's buffer),
    plus ``HEAP_SLACK``."""
    side = tile + 2 * halo
    run = 2 * image_bytes + TILE_WORK_FACTOR * side * side * PIXEL_BYTES
    return int(max(READ_FACTOR * in_pixels * source_pixel_bytes, run)) + HEAP_SLACK


def choose(p: Plan, height: int, width: int, backend: Any, memory_limit: int | None = None,
           tile_size: int | None = None, in_memory: bool = True,
           source_pixel_bytes: int = 16, chunk_bytes: int = 0) -> Choice:
    """Pick the strategy for running ``p`` on a ``height x width`` image on ``backend``.

    ``in_memory``: the image is already an array in RAM (the streaming
    strategy needs a region source, so it is not an option then).
    ``source_pixel_bytes``: bytes per pixel of the source samples (for the
    streaming band). ``chunk_bytes``: bytes of one source chunk that a band
    must decode whole (a compressed TIFF strip: its rows x width; 0 when the
    source reads only the band's rows), counted twice (compressed and
    decoded) in the streaming budget. Raises :class:`ParameterError` for a
    tile size below 1.
    """
    limit = memory_limit if memory_limit is not None else default_memory_limit()
    dev = device_limit(backend)
    halo = max((segment_halo(s, height, width) for s in segments(p)), default=0)
    px = peak_pixels(p, height, width)
    image_bytes = px * PIXEL_BYTES
    fits_dev = dev is None or image_bytes <= dev
    single_host = WORK_FACTOR * image_bytes + HEAP_SLACK
    if tile_size is not None and tile_size < 1:
        raise ParameterError(f"tile size {tile_size}: must be at least 1 pixel")
    t_tiled = tile_size or default_tile_size(halo, limit, dev)
    tiled_host = tiled_bytes(height * width, source_pixel_bytes, image_bytes, t_tiled, halo)

    if tile_size is None and fits_dev and single_host <= limit:
        return Choice("single", None, halo, limit, dev,
                      f"{width}x{height} fits one device buffer and the memory budget")
    if in_memory or tiled_host <= limit:
        strategy = "tiled"
        why = ("tile size given" if tile_size is not None else
               f"image of {format_size(image_bytes)} (float32 RGBA) exceeds "
               + ("the device buffer limit" if not fits_dev else "the budget for one pass"))
        t = t_tiled
    else:
        strategy = "streaming"
        why = (f"a run in memory ({format_size(tiled_host)}: whole input and output as "
               "float32 RGBA and a tile's work) exceeds the memory budget")
        # a chunk larger than the tiles' share cannot be budgeted: tiles then ignore it
        # (small tiles would only decode it more often)
        held = 2 * chunk_bytes if 2 * chunk_bytes <= TILE_SHARE * limit * 2 else 0
        t = tile_size or default_tile_size(halo, limit, dev, width * source_pixel_bytes, held)
        if chunk_bytes:
            why += (f"; the source's compressed chunks are decoded whole "
                    f"({format_size(chunk_bytes)} each, held while a band is read"
                    + (": more than half the budget, memory grows with them)"
                       if 2 * chunk_bytes > TILE_SHARE * limit * 2 else ")"))
    return Choice(strategy, t, halo, limit, dev, why)
