"""File to file with the strategy the image needs: :func:`apply_file`.

The header is read first (no pixels): its size, the plan and the memory
budget choose single pass, tiled or streaming (:func:`pixelpipe.exec.choose`).
Single and tiled read the whole file and write it with :func:`pixelpipe.io.write`
(metadata kept, any output format); streaming reads a TIFF or OpenEXR file
band by band and writes a tiled BigTIFF (:mod:`pixelpipe.exec.streaming`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from pixelpipe.errors import PipelineError
from pixelpipe.exec.budget import format_size
from pixelpipe.exec.strategy import Choice, choose
from pixelpipe.exec.streaming import stream_file, stream_tile
from pixelpipe.exec.tiled import run_tiled

#: Output extensions the streaming sink writes.
STREAM_OUTPUTS = (".tif", ".tiff")


def apply_file(pipeline: Any, input_path: str | Path, output_path: str | Path, backend: Any,
               memory_limit: int | None = None, tile_size: int | None = None,
               bit_depth: Any = None, overwrite: bool = False,
               log: Callable[[str], None] | None = None,
               progress: Callable[[int, int], None] | None = None) -> tuple[Path, Choice]:
    """Run ``pipeline`` on ``input_path`` and write ``output_path``; return it and the choice.

    ``backend``: a Backend instance. ``bit_depth`` as :func:`pixelpipe.io.write`
    takes it. Raises :class:`PipelineError` when the image needs streaming
    but the formats or the plan cannot stream (the message says why and what
    to change), and whatever reading and writing raise.
    """
    from pixelpipe import io
    from pixelpipe.samples import from_rgba, to_rgba

    p = pipeline.plan()
    head = io.info(input_path)
    src_bytes = max(1, head.channels) * max(1, head.bit_depth // 8)
    choice = choose(p, head.height, head.width, backend, memory_limit, tile_size,
                    in_memory=False, source_pixel_bytes=src_bytes)
    if choice.strategy == "streaming":
        assert choice.tile_size is not None
        used = stream_tile(choice.tile_size)
        if used != choice.tile_size:  # report the tile really used
            choice = replace(choice, tile_size=used, reason=(
                f"{choice.reason}; tile {choice.tile_size} px rounded up to {used} px "
                "(streamed tiles are multiples of 16)"))
    if log is not None:
        log(choice.describe())
    if choice.strategy == "streaming":
        assert choice.tile_size is not None
        out = Path(output_path)
        if head.format not in ("tiff", "exr") or out.suffix.lower() not in STREAM_OUTPUTS:
            raise PipelineError(
                f"{input_path}: {head.width}x{head.height} does not fit the memory limit of "
                f"{format_size(choice.memory_limit)} and must be streamed, which needs a TIFF "
                "or OpenEXR input and a .tif/.tiff output (or raise --memory-limit)")
        written = stream_file(pipeline, input_path, out, backend, choice.tile_size,
                              bit_depth, overwrite, progress=progress)
        return written, choice
    image = io.read(input_path)
    if choice.strategy == "single":
        result = pipeline.run(image, backend=backend)
    else:
        assert choice.tile_size is not None
        rgba = run_tiled(p, to_rgba(image.array), backend, choice.tile_size, log, progress)
        result = image.with_array(from_rgba(rgba, image.channels))
    written = io.write(output_path, result, bit_depth=bit_depth, overwrite=overwrite,
                       source=input_path)
    return Path(written), choice
