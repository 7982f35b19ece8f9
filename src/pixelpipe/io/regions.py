"""Region sources and sinks: read and write images band by band, tile by tile.

The streaming executor (:mod:`pixelpipe.exec.streaming`) never holds a whole
image: it asks a :class:`RegionSource` for bands of rows and hands tiles, in
row-major order, to a :class:`RegionSink`.

Sources
-------
* :class:`TiffRegionSource` — tiled or stripped TIFF / BigTIFF (any
  compression tifffile + imagecodecs decode, predictors included), first
  page, contiguous samples (planar configuration 1), photometric grey
  (min-is-black) or RGB, 1, 3 or 4 samples of uint8, uint16, float16 or
  float32. A band of rows decodes only the chunks it overlaps: the page's
  chunk table (``dataoffsets`` / ``databytecounts``) is read directly and
  each chunk goes through ``TiffPage.decode``. Uncompressed strips are not
  decoded whole: only the band's rows (their byte range inside the strip)
  are read, straight into the band, so a single-strip file costs one band.
  A compressed strip must be decoded whole, so memory then grows with the
  strip (``rowsperstrip x width x bytes per pixel``, the whole image for a
  single-strip file) — decoded once per band that overlaps it.
* :class:`ExrRegionSource` — single-part scanline or tiled OpenEXR with
  channels R, G, B (A) or Y. The ``OpenEXR.File`` API of the bindings
  decodes whole parts only; their ``InputFile`` interface reads a range of
  scanlines (``channel(name, type, y0, y1)``), which decodes only the chunks
  holding those lines, so a band costs its own lines. The file's header and
  chunk table are validated first (:mod:`pixelpipe.io.exr_check`), as for
  an in-memory read. Subsampled (luminance/chroma) files are refused: read
  them in memory.
* :class:`ArrayRegionSource` — an array (or a NumPy memmap) already there.

Sinks
-----
* :class:`TiffRegionSink` — tiled TIFF (BigTIFF by default), tiles written as
  they come (``tifffile.TiffWriter.write`` with a tile iterator), to a
  temporary file renamed into place at the end: a failure leaves nothing.
* :class:`ExrRegionSink` — scanline OpenEXR (half or float, channels Y,
  RGB or RGBA, ZIP compression by default as the in-memory writer), written
  one row of tiles at a time. The ``OpenEXR.File`` API of the bindings
  (3.x) writes whole parts from whole arrays; their older ``OutputFile``
  interface takes scanlines in order (``writePixels(channels, n)``), so
  only one row of tiles (``tile x width x channels`` samples) is held. To a
  temporary file renamed into place at the end, as the TIFF sink.
* :class:`ArrayRegionSink` — tiles assembled into an array (tests, Dask).

Every error names the file (:class:`~pixelpipe.errors.InputError`,
:class:`~pixelpipe.errors.OutputError`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from pixelpipe.errors import InputError, OutputError, PixelpipeError

SAMPLE_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.float16),
                 np.dtype(np.float32))


class RegionSource:
    """An image read band by band: ``height``, ``width``, ``channels``, ``dtype``."""

    path: str = "<array>"
    height: int
    width: int
    channels: int
    dtype: np.dtype[Any]
    icc_profile: bytes | None = None

    def read_rows(self, y0: int, y1: int) -> npt.NDArray[Any]:
        """Rows ``[y0, y1)``, all columns: samples ``(y1 - y0, width, channels)``."""
        raise NotImplementedError

    def read_region(self, y0: int, y1: int, x0: int, x1: int) -> npt.NDArray[Any]:
        """Rectangle ``[y0, y1) x [x0, x1)``: samples ``(y1 - y0, x1 - x0, channels)``.

        Random access for geometry ops (a flipped or rotated tile reads
        anywhere in the image). This default reads the rows ``[y0, y1)``
        and cuts the columns: memory is one band of those rows.
        """
        if not 0 <= x0 < x1 <= self.width:
            raise InputError(self.path, f"columns {x0}..{x1} outside the image's {self.width}")
        return np.ascontiguousarray(self.read_rows(y0, y1)[:, x0:x1])

    def close(self) -> None:
        """Release the file (idempotent)."""

    def __enter__(self) -> RegionSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pixel_bytes(self) -> int:
        """Bytes of one pixel's samples."""
        return self.channels * self.dtype.itemsize

    def _check_rows(self, y0: int, y1: int) -> None:
        if not 0 <= y0 < y1 <= self.height:
            raise InputError(self.path, f"rows {y0}..{y1} outside the image's {self.height}")


class ArrayRegionSource(RegionSource):
    """Rows of an in-memory (or memory-mapped) array ``(H, W[, C])``."""

    def __init__(self, array: npt.NDArray[Any]) -> None:
        a = array if array.ndim == 3 else array[:, :, None]
        self.array = a
        self.height, self.width, self.channels = a.shape
        self.dtype = a.dtype

    def read_rows(self, y0: int, y1: int) -> npt.NDArray[Any]:
        self._check_rows(y0, y1)
        return np.ascontiguousarray(self.array[y0:y1])


class TiffRegionSource(RegionSource):
    """Bands of rows of a tiled or stripped TIFF / BigTIFF (see the module docstring)."""

    def __init__(self, path: str | Path) -> None:
        import tifffile

        self.path = str(path)
        try:
            self._tif = tifffile.TiffFile(self.path)
        except FileNotFoundError:
            raise InputError(path, "no such file") from None
        except Exception as exc:
            raise InputError(path, f"not a readable TIFF file: {exc}") from None
        try:
            self._setup()
        except BaseException:
            self._tif.close()
            raise

    def _setup(self) -> None:
        if not self._tif.pages:
            raise InputError(self.path, "TIFF file has no image")
        page: Any = self._tif.pages.first
        self._page = page
        if page.planarconfig != 1 and page.samplesperpixel > 1:
            raise InputError(self.path, "separate-plane TIFF (planar configuration 2) cannot "
                             "be streamed; read it in memory")
        photometric = page.photometric.name.lower() if page.photometric is not None else ""
        if photometric not in ("minisblack", "rgb"):
            raise InputError(self.path, f"TIFF photometric {photometric!r} cannot be streamed "
                             "(grey and RGB can)")
        if page.imagedepth > 1:
            raise InputError(self.path, "volumetric TIFF cannot be streamed")
        self.height, self.width = int(page.imagelength), int(page.imagewidth)
        self.channels = int(page.samplesperpixel)
        if self.channels not in (1, 3, 4):
            raise InputError(self.path, f"TIFF with {self.channels} samples per pixel cannot "
                             "be streamed (1, 3 or 4 can)")
        self.dtype = np.dtype(page.dtype)
        if self.dtype not in SAMPLE_DTYPES:
            raise InputError(self.path, f"TIFF sample type {self.dtype} is not supported "
                             "(uint8, uint16, float16, float32 are)")
        if page.is_tiled:
            self.chunk_h, self.chunk_w = int(page.tilelength), int(page.tilewidth)
        else:
            self.chunk_h, self.chunk_w = int(page.rowsperstrip or self.height), self.width
            self.chunk_h = min(self.chunk_h, self.height)
        # Uncompressed strips are read row by row (only the band's byte range), so a
        # single-strip file does not cost the whole strip per band.
        predictor = int(page.predictor or 1)
        self._raw_strips = (not page.is_tiled and int(page.compression) == 1
                            and predictor == 1 and int(page.fillorder or 1) == 1
                            and int(page.bitspersample) == 8 * self.dtype.itemsize)
        self._swap = self._tif.byteorder != ("<" if np.little_endian else ">")
        self._across = -(-self.width // self.chunk_w)
        n_chunks = -(-self.height // self.chunk_h) * self._across
        if len(page.dataoffsets) < n_chunks:
            raise InputError(self.path, f"TIFF chunk table has {len(page.dataoffsets)} entries, "
                             f"the image needs {n_chunks}")
        icc = page.tags.valueof(34675)
        self.icc_profile = bytes(icc) if icc is not None else None

    def read_rows(self, y0: int, y1: int) -> npt.NDArray[Any]:
        self._check_rows(y0, y1)
        out = np.empty((y1 - y0, self.width, self.channels), self.dtype)
        ch, cw = self.chunk_h, self.chunk_w
        for row in range(y0 // ch, (y1 - 1) // ch + 1):
            if self._raw_strips:
                self._read_raw(out, y0, y1, row)
                continue
            for col in range(self._across):
                index = row * self._across + col
                seg = self._decode_tile(index)
                cy, cx = row * ch, col * cw
                sy0, sy1 = max(y0, cy), min(y1, cy + ch, self.height)
                sx1 = min(self.width, cx + cw)
                if sy1 - cy > seg.shape[0] or sx1 - cx > seg.shape[1]:
                    raise InputError(self.path, f"TIFF chunk {index} is smaller than its tile")
                out[sy0 - y0:sy1 - y0, cx:sx1] = seg[sy0 - cy:sy1 - cy, :sx1 - cx]
        return out

    @property
    def chunk_bytes(self) -> int:
        """Bytes of one chunk decoded whole while a band is read (0 for uncompressed
        strips, read row by row)."""
        return 0 if self._raw_strips else self.chunk_h * self.chunk_w * self.pixel_bytes

    def _read_raw(self, out: npt.NDArray[Any], y0: int, y1: int, strip: int) -> None:
        """Rows of uncompressed ``strip`` inside ``[y0, y1)``, read straight into ``out``."""
        page, fh = self._page, self._tif.filehandle
        offset, count = int(page.dataoffsets[strip]), int(page.databytecounts[strip])
        cy = strip * self.chunk_h
        sy0, sy1 = max(y0, cy), min(y1, cy + self.chunk_h, self.height)
        row_bytes = self.width * self.pixel_bytes
        if (sy1 - cy) * row_bytes > count:
            raise InputError(self.path, f"TIFF strip {strip} holds {count} bytes, fewer than "
                             f"its rows need ({(sy1 - cy) * row_bytes})")
        rows = out[sy0 - y0:sy1 - y0]
        view: Any = rows.reshape(-1).view(np.uint8)  # rows are whole: contiguous
        try:
            fh.seek(offset + (sy0 - cy) * row_bytes)
            got = fh.readinto(view)
        except Exception as exc:
            raise InputError(self.path, f"cannot read TIFF strip {strip}: {exc}") from None
        if got != view.nbytes:
            raise InputError(self.path, f"file ends inside TIFF strip {strip} (truncated)")
        if self._swap:
            rows.byteswap(inplace=True)

    def read_region(self, y0: int, y1: int, x0: int, x1: int) -> npt.NDArray[Any]:
        """Rectangle ``[y0, y1) x [x0, x1)``; a tiled TIFF decodes only the tiles
        overlapping it (memory: the rectangle), a stripped one reads its rows."""
        if not self._page.is_tiled:
            return super().read_region(y0, y1, x0, x1)
        self._check_rows(y0, y1)
        if not 0 <= x0 < x1 <= self.width:
            raise InputError(self.path, f"columns {x0}..{x1} outside the image's {self.width}")
        out = np.empty((y1 - y0, x1 - x0, self.channels), self.dtype)
        ch, cw = self.chunk_h, self.chunk_w
        for row in range(y0 // ch, (y1 - 1) // ch + 1):
            for col in range(x0 // cw, (x1 - 1) // cw + 1):
                index = row * self._across + col
                seg = self._decode_tile(index)
                cy, cx = row * ch, col * cw
                sy0, sy1 = max(y0, cy), min(y1, cy + ch, self.height)
                sx0, sx1 = max(x0, cx), min(x1, cx + cw, self.width)
                if sy1 - cy > seg.shape[0] or sx1 - cx > seg.shape[1]:
                    raise InputError(self.path, f"TIFF chunk {index} is smaller than its tile")
                out[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = seg[sy0 - cy:sy1 - cy,
                                                              sx0 - cx:sx1 - cx]
        return out

    def _decode_tile(self, index: int) -> npt.NDArray[Any]:
        """Samples of chunk ``index``, (rows, columns, channels)."""
        page, fh = self._page, self._tif.filehandle
        offset, count = page.dataoffsets[index], page.databytecounts[index]
        try:
            fh.seek(offset)
            data = fh.read(count)
            if len(data) != count:
                raise ValueError("file ends inside a chunk (truncated)")
            seg, _, _ = page.decode(data, index, jpegtables=page.jpegtables)
        except Exception as exc:
            raise InputError(self.path, f"cannot decode TIFF chunk {index}: {exc}") from None
        if seg is None:
            raise InputError(self.path, f"TIFF chunk {index} is missing")
        return np.asarray(seg).reshape(seg.shape[-3], seg.shape[-2], seg.shape[-1])

    def close(self) -> None:
        self._tif.close()


class ExrRegionSource(RegionSource):
    """Bands of scanlines of a single-part OpenEXR file (see the module docstring)."""

    def __init__(self, path: str | Path) -> None:
        import Imath
        import OpenEXR

        from pixelpipe.io._common import pixel_budget
        from pixelpipe.io._exr import _validate

        self.path = str(path)
        layout = _validate(Path(path), pixel_budget(2**62))
        if len(layout.parts) != 1:
            raise InputError(path, "multi-part OpenEXR cannot be streamed; read it in memory")
        try:
            self._file = OpenEXR.InputFile(self.path)
            header = self._file.header()
        except Exception as exc:
            raise InputError(path, f"cannot open OpenEXR file: {exc}") from None
        chans = header["channels"]
        names = set(chans)
        if {"R", "G", "B"} <= names:
            self._names = ["R", "G", "B"] + (["A"] if "A" in names else [])
        elif "Y" in names and not ({"RY", "BY"} & names):
            self._names = ["Y"]
        else:
            raise InputError(path, f"OpenEXR channels {sorted(names)} cannot be streamed "
                             "(R, G, B [A] or Y can)")
        for n in self._names:
            c = chans[n]
            if c.xSampling != 1 or c.ySampling != 1:
                raise InputError(path, f"subsampled channel {n!r} cannot be streamed")
        half = all(str(chans[n].type) == "HALF" for n in self._names)
        self.dtype = np.dtype(np.float16 if half else np.float32)
        self._ptype = Imath.PixelType(Imath.PixelType.HALF if half else Imath.PixelType.FLOAT)
        dw = header["dataWindow"]
        self._y_min = int(dw.min.y)
        self.width = int(dw.max.x - dw.min.x + 1)
        self.height = int(dw.max.y - dw.min.y + 1)
        self.channels = len(self._names)

    def read_rows(self, y0: int, y1: int) -> npt.NDArray[Any]:
        self._check_rows(y0, y1)
        out = np.empty((y1 - y0, self.width, self.channels), self.dtype)
        for i, n in enumerate(self._names):
            try:
                raw = self._file.channel(n, self._ptype, self._y_min + y0, self._y_min + y1 - 1)
            except Exception as exc:
                raise InputError(self.path, f"cannot decode scanlines {y0}..{y1 - 1} of "
                                 f"channel {n!r}: {exc}") from None
            out[:, :, i] = np.frombuffer(raw, self.dtype).reshape(y1 - y0, self.width)
        return out

    def close(self) -> None:
        self._file.close()


def open_region_source(path: str | Path) -> RegionSource:
    """A region source for ``path`` by its format (TIFF or OpenEXR).

    Raises :class:`InputError` naming the file when it cannot be streamed.
    """
    from pixelpipe.io import formats

    p = Path(path)
    if not p.is_file():
        raise InputError(p, "no such file")
    fmt = formats.format_of(p)
    if fmt == "tiff":
        return TiffRegionSource(p)
    if fmt == "exr":
        return ExrRegionSource(p)
    raise InputError(p, f"{fmt.upper()} files cannot be streamed (TIFF and OpenEXR can)")


class RegionSink:
    """Receives an image's tiles in row-major order."""

    def write_tiles(self, tiles: Iterator[npt.NDArray[Any]]) -> None:
        """Consume ``tiles`` (each ``tile`` rows x ``tile`` columns, edge tiles smaller)."""
        raise NotImplementedError


class ArrayRegionSink(RegionSink):
    """Assembles tiles into :attr:`array` (H, W, C)."""

    def __init__(self, height: int, width: int, channels: int, dtype: Any,
                 tile: int) -> None:
        self.array = np.empty((height, width, channels), dtype)
        self.tile = tile

    def write_tiles(self, tiles: Iterator[npt.NDArray[Any]]) -> None:
        h, w = self.array.shape[:2]
        t = self.tile
        for y0 in range(0, h, t):
            for x0 in range(0, w, t):
                block = next(tiles)
                self.array[y0:y0 + t, x0:x0 + t] = block[:min(t, h - y0), :min(t, w - x0)]


def _write_reporting_source_failure(path: Path, writer: Any,
                                    failure: list[PixelpipeError]) -> None:
    """:func:`atomic_write` ``writer`` to ``path``; when the writer stopped because
    the tiles it pulled failed (recorded in ``failure``), raise that error
    rather than the writer's."""
    from pixelpipe.io._common import atomic_write

    try:
        atomic_write(path, writer)
    except OutputError:
        if failure:
            raise failure[0] from None
        raise


class TiffRegionSink(RegionSink):
    """Writes a tiled TIFF / BigTIFF tile by tile (see the module docstring).

    ``tile`` must be a multiple of 16 (a TIFF rule). ``compression``: a
    tifffile compression name (``"zlib"``, ``"zstd"`` …) or None.
    """

    def __init__(self, path: str | Path, height: int, width: int, channels: int, dtype: Any,
                 tile: int, bigtiff: bool = True, compression: str | None = None,
                 icc_profile: bytes | None = None, overwrite: bool = False) -> None:
        self.path = Path(path)
        if tile % 16 or tile <= 0:
            raise OutputError(path, f"TIFF tile size {tile} must be a positive multiple of 16")
        if self.path.exists() and not overwrite:
            raise OutputError(path, "already exists; pass overwrite=True to replace it")
        self.shape = (height, width, channels)
        self.dtype = np.dtype(dtype)
        if self.dtype not in SAMPLE_DTYPES:
            raise OutputError(path, f"sample type {self.dtype} cannot be written")
        self.tile = tile
        self.bigtiff = bigtiff
        self.compression = compression
        self.icc_profile = icc_profile

    def _padded(self, tiles: Iterator[npt.NDArray[Any]]) -> Iterator[npt.NDArray[Any]]:
        t, c = self.tile, self.shape[2]
        for block in tiles:
            if block.shape[:2] != (t, t):
                full = np.zeros((t, t, c), self.dtype)
                full[:block.shape[0], :block.shape[1]] = block
                block = full
            yield np.ascontiguousarray(block, self.dtype)

    def write_tiles(self, tiles: Iterator[npt.NDArray[Any]]) -> None:
        import tifffile

        h, w, c = self.shape
        extra: dict[str, Any] = {}
        if self.icc_profile:
            extra["iccprofile"] = self.icc_profile
        if c == 4:
            extra["extrasamples"] = ("unassalpha",)

        failure: list[PixelpipeError] = []

        def guarded() -> Iterator[npt.NDArray[Any]]:
            try:
                yield from self._padded(tiles)
            except PixelpipeError as exc:  # the source's or the pipeline's: keep its type
                failure.append(exc)
                raise

        def writer(tmp: Path) -> None:
            with tifffile.TiffWriter(tmp, bigtiff=self.bigtiff) as tw:
                tw.write(guarded(), shape=(h, w, c) if c > 1 else (h, w),
                         dtype=self.dtype, tile=(self.tile, self.tile),
                         photometric="rgb" if c >= 3 else "minisblack",
                         compression=self.compression, **extra)

        _write_reporting_source_failure(self.path, writer, failure)


class ExrRegionSink(RegionSink):
    """Writes a scanline OpenEXR file one row of tiles at a time (see the module docstring).

    ``dtype``: float16 (half) or float32 (float) samples; ``channels`` 1 (Y),
    3 (RGB) or 4 (RGBA). ``compression``: an OpenEXR compression name
    (``"zip"``, ``"piz"``, ``"none"`` …; default ``"zip"``). Raises
    :class:`OutputError` for other sample types, an unknown compression or an
    existing file without ``overwrite``.
    """

    def __init__(self, path: str | Path, height: int, width: int, channels: int, dtype: Any,
                 tile: int, compression: str | None = None, overwrite: bool = False) -> None:
        from pixelpipe.io._exr import compression_code

        self.path = Path(path)
        if self.path.exists() and not overwrite:
            raise OutputError(path, "already exists; pass overwrite=True to replace it")
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.dtype(np.float16), np.dtype(np.float32)):
            raise OutputError(path, f"OpenEXR stores half or float samples, not {self.dtype}")
        if channels not in (1, 3, 4):
            raise OutputError(path, f"{channels} channels cannot be written (1, 3 or 4 can)")
        if tile <= 0:
            raise OutputError(path, f"tile size {tile} must be positive")
        self.shape = (height, width, channels)
        self.tile = tile
        self.names = {1: ("Y",), 3: ("R", "G", "B"), 4: ("R", "G", "B", "A")}[channels]
        self.compression = compression_code(self.path, compression or "zip")

    def write_tiles(self, tiles: Iterator[npt.NDArray[Any]]) -> None:
        import Imath
        import OpenEXR

        h, w, c = self.shape
        t = self.tile
        half = self.dtype == np.float16
        ptype = Imath.PixelType(Imath.PixelType.HALF if half else Imath.PixelType.FLOAT)
        failure: list[PixelpipeError] = []

        def writer(tmp: Path) -> None:
            header = OpenEXR.Header(w, h)
            header["channels"] = {n: Imath.Channel(ptype) for n in self.names}
            header["compression"] = Imath.Compression(int(self.compression))
            out = OpenEXR.OutputFile(str(tmp), header)
            try:
                for y0 in range(0, h, t):
                    rows = min(t, h - y0)
                    band = np.empty((rows, w, c), self.dtype)
                    for x0 in range(0, w, t):
                        try:
                            block = next(tiles)
                        except PixelpipeError as exc:  # the source's or the pipeline's
                            failure.append(exc)
                            raise
                        block = block if block.ndim == 3 else block[:, :, None]
                        band[:, x0:x0 + t] = block[:rows, :min(t, w - x0)]
                    out.writePixels({n: np.ascontiguousarray(band[:, :, i]).tobytes()
                                     for i, n in enumerate(self.names)}, rows)
            finally:
                out.close()

        _write_reporting_source_failure(self.path, writer, failure)


def open_region_sink(path: str | Path, height: int, width: int, channels: int, dtype: Any,
                     tile: int, compression: str | None = None,
                     icc_profile: bytes | None = None, overwrite: bool = False) -> RegionSink:
    """A region sink for ``path`` by its extension: ``.exr`` -> :class:`ExrRegionSink`
    (no ICC profile in OpenEXR), else :class:`TiffRegionSink`."""
    if Path(path).suffix.lower() == ".exr":
        return ExrRegionSink(path, height, width, channels, dtype, tile,
                             compression=compression, overwrite=overwrite)
    return TiffRegionSink(path, height, width, channels, dtype, tile,
                          compression=compression, icc_profile=icc_profile, overwrite=overwrite)
