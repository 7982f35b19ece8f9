"""File to file with the strategy the image needs: :func:`apply_file`.

The header is read first (no pixels): its size, the plan and the memory
budget choose single pass, tiled or streaming (:func:`pixelpipe.exec.choose`).
Single and tiled read the whole file and write it with :func:`pixelpipe.io.write`
(metadata kept, any output format); streaming reads a TIFF or OpenEXR file
band by band and writes a tiled BigTIFF or a scanline OpenEXR
(:mod:`pixelpipe.exec.streaming`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from pixelpipe.errors import PipelineError
from pixelpipe.exec.budget import format_size
from pixelpipe.exec.strategy import Choice, choose
from pixelpipe.exec.streaming import stream_file, stream_tile
from pixelpipe.exec.tiled import run_tiled

#: Output extensions the streaming sinks write (tiled BigTIFF, scanline OpenEXR).
STREAM_OUTPUTS = (".tif", ".tiff", ".exr")


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
    p = pipeline.plan()
    head = io.info(input_path)
    src_bytes = max(1, head.channels) * max(1, head.bit_depth // 8)
    choice = choose(p, head.height, head.width, backend, memory_limit, tile_size,
                    in_memory=False, source_pixel_bytes=src_bytes,
                    chunk_bytes=source_chunk_bytes(input_path, head.format))
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
                "or OpenEXR input and a .tif/.tiff or .exr output (or raise --memory-limit)")
        written = stream_file(pipeline, input_path, out, backend, choice.tile_size,
                              bit_depth, overwrite, progress=progress)
        return written, choice
    image = io.read(input_path)
    if choice.strategy == "single":
        result = pipeline.run(image, backend=backend)
    else:
        assert choice.tile_size is not None
        meta, channels = image.meta, image.channels
        rgba = rgba_in_place(image.pixels)
        del image  # the decoded samples: the RGBA copy is all the run needs
        res = run_tiled(p, rgba, backend, choice.tile_size, log, progress)
        del rgba
        result = output_image(res, channels, meta, output_path, bit_depth)
        del res
    written = io.write(output_path, result, bit_depth=bit_depth, overwrite=overwrite,
                       source=input_path)
    return Path(written), choice


def source_chunk_bytes(path: str | Path, fmt: str) -> int:
    """Bytes of one chunk a streaming band of ``path`` decodes whole (TIFF: a
    compressed strip or tile; 0 for uncompressed strips, other formats, or a
    file the region source refuses, which streaming reports itself)."""
    if fmt != "tiff":
        return 0
    from pixelpipe.errors import PixelpipeError
    from pixelpipe.io.regions import TiffRegionSource

    try:
        src = TiffRegionSource(path)
    except PixelpipeError:
        return 0
    try:
        return src.chunk_bytes
    finally:
        src.close()


def rgba_in_place(samples: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    """``samples`` (H, W, C) of any supported type -> float32 (H, W, 4), one allocation.

    Equal to ``to_rgba(samples)`` bit for bit (integers divided by 2**bits - 1
    in float32), without its float copy of the samples: the samples are cast
    into the RGBA buffer and scaled there.
    """
    from pixelpipe.samples import channels_of

    c = channels_of(samples)
    a = samples if samples.ndim == 3 else samples[:, :, None]
    h, w = a.shape[:2]
    rgba = np.empty((h, w, 4), np.float32)
    color = rgba[..., :3] if c < 4 else rgba
    color[...] = a if c >= 3 else a[..., :1]
    if a.dtype in (np.uint8, np.uint16):
        np.divide(color, np.float32(65535 if a.itemsize == 2 else 255), out=color)
    elif a.dtype not in (np.float16, np.float32):
        from pixelpipe.samples import to_rgba

        return to_rgba(samples)  # raises the samples module's error for other types
    if c < 4:
        rgba[..., 3] = 1.0
    return rgba


def output_image(rgba: npt.NDArray[np.float32], channels: int, meta: Any,
                 output_path: str | Path, bit_depth: Any) -> Any:
    """The Image the writer gets for a float32 RGBA result, converted in place.

    The samples of the type the writer will store (``io.write``'s rules for
    ``output_path`` and ``bit_depth``) are made from ``rgba``'s first
    ``channels`` channels, overwriting ``rgba`` (integer targets: NaN -> 0,
    clip to [0, 1], scale, round half to even, as :func:`pixelpipe.samples.from_float`),
    so only the samples are allocated; float32 targets copy the channels.
    """
    from pixelpipe import io
    from pixelpipe.image import Image
    from pixelpipe.io import formats
    from pixelpipe.samples import from_rgba

    out = Path(output_path)
    try:
        st, bits = io._target_type(out, formats.format_of(out, for_write=True), meta, bit_depth)
    except Exception:  # the writer reports a bad target itself
        return Image(from_rgba(rgba, channels), meta)
    view = rgba[..., :channels]
    if st == "uint":
        dt = np.dtype(np.uint8 if bits == 8 else np.uint16)
        np.nan_to_num(view, copy=False, nan=0.0, posinf=1.0, neginf=0.0)
        np.clip(view, 0.0, 1.0, out=view)
        np.multiply(view, np.float32(255 if bits == 8 else 65535), out=view)
        np.rint(view, out=view)
        return Image(meta=meta, samples=view.astype(dt))
    if st == "half":
        with np.errstate(over="ignore"):
            return Image(meta=meta, samples=view.astype(np.float16))
    return Image(from_rgba(rgba, channels), meta)
