"""Structural validation of OpenEXR files before any decoder sees them.

Why
---
Damaged or hostile EXR files have crashed, hung or exhausted the memory of
OpenEXR in the past, and the Python bindings print a warning and return an
incomplete object for some of them instead of raising. pixelpipe therefore
never hands a file to the decoder before this module has checked, in plain
Python and without allocating anything in proportion to what the file
claims, that its structure is sound:

1. magic number, version and feature flags (deep data is refused: pixelpipe
   has no use for it);
2. every header attribute lies inside the file, names are terminated and of
   legal length, the required attributes are present and well-formed
   (``channels``, ``compression``, ``dataWindow``, ``displayWindow``,
   ``lineOrder``, ``tiles`` for tiled parts, ``name``/``type``/``chunkCount``
   for multi-part files);
3. windows are non-empty and the pixel count of every part, summed, is
   within the pixel budget; channel types and sampling rates are legal and
   the data window is a multiple of each channel's sampling;
4. the chunk count derived from the header (lines per chunk for the
   compression; tiles per level for tiled, mip-mapped and rip-mapped parts)
   matches the ``chunkCount`` attribute when there is one, the offset table
   fits the file, and every offset points inside the file at a chunk whose
   leader (part number, scan line or tile coordinates, level, payload size)
   is consistent with the header and whose payload ends inside the file.

What this does not check is the compressed payload: the decoder does that,
and :mod:`pixelpipe.io.exr` treats any message it prints and any mismatch
between what it returns and this header as a failure.

Source: the OpenEXR file layout as documented in "OpenEXR File Layout" and
"Technical Introduction to OpenEXR" (openexr.com), written from the
documentation; no code taken from the library.
"""

from __future__ import annotations

import math
import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pixelpipe.errors import InputError

MAGIC = 20000630

#: Scan lines per chunk for each compression code of the OpenEXR format.
LINES_PER_CHUNK: dict[int, int] = {
    0: 1,  # NO
    1: 1,  # RLE
    2: 1,  # ZIPS
    3: 16,  # ZIP
    4: 32,  # PIZ
    5: 16,  # PXR24
    6: 32,  # B44
    7: 32,  # B44A
    8: 32,  # DWAA
    9: 256,  # DWAB
    10: 256,  # HTJ2K256
    11: 32,  # HTJ2K32
    12: 256,  # LJ2K
    13: 1,  # ZSTD
}

#: Names of the compression codes, lower case, as pixelpipe spells them.
COMPRESSION_NAMES: dict[int, str] = {
    0: "none", 1: "rle", 2: "zips", 3: "zip", 4: "piz", 5: "pxr24", 6: "b44",
    7: "b44a", 8: "dwaa", 9: "dwab", 10: "htj2k256", 11: "htj2k32", 12: "lj2k",
    13: "zstd",
}

_PIXEL_TYPES = {0: "uint", 1: "half", 2: "float"}
_MAX_SAMPLING = 1 << 16
_MAX_DIM = 1 << 30
_MAX_PARTS = 1 << 16


@dataclass
class ChannelSpec:
    """One entry of an EXR ``chlist`` attribute."""

    name: str
    pixel_type: str  # "uint", "half" or "float"
    x_sampling: int
    y_sampling: int


@dataclass
class PartSpec:
    """The structural facts of one part, as validated."""

    name: str
    storage: str  # "scanlineimage" or "tiledimage"
    compression: int
    data_window: tuple[int, int, int, int]
    display_window: tuple[int, int, int, int]
    channels: list[ChannelSpec] = field(default_factory=list)
    tile_size: tuple[int, int] | None = None
    level_mode: str = "one"  # "one", "mipmap", "ripmap"
    rounding_mode: str = "down"
    chunk_count: int = 0

    @property
    def width(self) -> int:
        return self.data_window[2] - self.data_window[0] + 1

    @property
    def height(self) -> int:
        return self.data_window[3] - self.data_window[1] + 1

    @property
    def compression_name(self) -> str:
        return COMPRESSION_NAMES.get(self.compression, str(self.compression))


@dataclass
class ExrLayout:
    """What :func:`validate` learned about a file."""

    multipart: bool
    parts: list[PartSpec]


class _Damaged(Exception):
    pass


def _level_count(size: int, rounding: str) -> int:
    if rounding == "up":
        return max(1, math.ceil(math.log2(size)) + 1) if size > 1 else 1
    return size.bit_length()  # floor(log2(size)) + 1


def _level_size(size: int, level: int, rounding: str) -> int:
    if rounding == "up":
        return max(1, -(-size // (1 << level)))
    return max(1, size >> level)


def _tile_grid(p: PartSpec) -> list[tuple[int, int, int, int]]:
    """(level_x, level_y, tiles_x, tiles_y) for every level of a tiled part."""
    assert p.tile_size is not None
    tx, ty = p.tile_size
    w, h = p.width, p.height
    out = []
    if p.level_mode == "one":
        out.append((0, 0, -(-w // tx), -(-h // ty)))
    elif p.level_mode == "mipmap":
        n = _level_count(max(w, h), p.rounding_mode)
        for lv in range(n):
            lw, lh = _level_size(w, lv, p.rounding_mode), _level_size(h, lv, p.rounding_mode)
            out.append((lv, lv, -(-lw // tx), -(-lh // ty)))
    else:
        nx, ny = _level_count(w, p.rounding_mode), _level_count(h, p.rounding_mode)
        for ly in range(ny):
            lh = _level_size(h, ly, p.rounding_mode)
            for lx in range(nx):
                lw = _level_size(w, lx, p.rounding_mode)
                out.append((lx, ly, -(-lw // tx), -(-lh // ty)))
    return out


class _Reader:
    def __init__(self, buf: mmap.mmap | bytes) -> None:
        self.buf = buf
        self.pos = 0
        self.size = len(buf)

    def need(self, n: int, what: str) -> None:
        if n < 0 or self.pos + n > self.size:
            raise _Damaged(f"truncated header ({what} runs past the end of the file)")

    def cstr(self, what: str, limit: int = 255) -> str:
        end = self.buf.find(b"\0", self.pos, min(self.size, self.pos + limit + 1))
        if end < 0:
            raise _Damaged(f"{what} is not terminated or longer than {limit} bytes")
        raw = bytes(self.buf[self.pos:end])
        self.pos = end + 1
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _Damaged(f"{what} is not valid UTF-8") from None

    def unpack(self, fmt: str, what: str) -> tuple[int, ...]:
        n = struct.calcsize(fmt)
        self.need(n, what)
        v = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += n
        return v


def _parse_chlist(data: bytes) -> list[ChannelSpec]:
    r = _Reader(data)
    out: list[ChannelSpec] = []
    while True:
        if r.pos >= r.size:
            raise _Damaged("channel list is not terminated")
        if data[r.pos] == 0:
            break
        name = r.cstr("channel name")
        if not name:
            raise _Damaged("empty channel name")
        ptype, _linear, _r0, _r1, _r2, xs, ys = r.unpack("<iBBBBii", f"channel {name!r}")
        if ptype not in _PIXEL_TYPES:
            raise _Damaged(f"channel {name!r} has unknown pixel type {ptype}")
        if not (1 <= xs <= _MAX_SAMPLING and 1 <= ys <= _MAX_SAMPLING):
            raise _Damaged(f"channel {name!r} has invalid sampling {xs}x{ys}")
        out.append(ChannelSpec(name, _PIXEL_TYPES[ptype], xs, ys))
    if not out:
        raise _Damaged("the part has no channels")
    names = [c.name for c in out]
    if len(set(names)) != len(names):
        raise _Damaged("duplicate channel names")
    return out


def _box(data: bytes, what: str) -> tuple[int, int, int, int]:
    if len(data) != 16:
        raise _Damaged(f"{what} has size {len(data)}, expected 16")
    x0, y0, x1, y1 = struct.unpack("<iiii", data)
    if x1 < x0 or y1 < y0:
        raise _Damaged(f"{what} is empty or inverted: ({x0}, {y0}) - ({x1}, {y1})")
    if x1 - x0 >= _MAX_DIM or y1 - y0 >= _MAX_DIM:
        raise _Damaged(f"{what} is implausibly large: ({x0}, {y0}) - ({x1}, {y1})")
    return x0, y0, x1, y1


def _parse_header(r: _Reader, long_names: bool, multipart: bool, tiled_flag: bool,
                  index: int) -> PartSpec:
    attrs: dict[str, tuple[str, bytes]] = {}
    limit = 255 if long_names else 31
    while True:
        r.need(1, "header")
        if r.buf[r.pos] == 0:
            r.pos += 1
            break
        name = r.cstr("attribute name", limit)
        typ = r.cstr(f"type of attribute {name!r}", limit)
        (size,) = r.unpack("<i", f"size of attribute {name!r}")
        if size < 0:
            raise _Damaged(f"attribute {name!r} has negative size {size}")
        r.need(size, f"attribute {name!r}")
        attrs[name] = (typ, bytes(r.buf[r.pos:r.pos + size]))
        r.pos += size

    def get(name: str, typ: str) -> bytes:
        if name not in attrs:
            raise _Damaged(f"part {index}: required attribute {name!r} is missing")
        t, v = attrs[name]
        if t != typ:
            raise _Damaged(f"part {index}: attribute {name!r} has type {t!r}, expected {typ!r}")
        return v

    channels = _parse_chlist(get("channels", "chlist"))
    comp_raw = get("compression", "compression")
    if len(comp_raw) != 1 or comp_raw[0] not in LINES_PER_CHUNK:
        raise _Damaged(f"part {index}: unknown compression {comp_raw!r}")
    dw = _box(get("dataWindow", "box2i"), "dataWindow")
    disp = _box(get("displayWindow", "box2i"), "displayWindow")
    lo = get("lineOrder", "lineOrder")
    if len(lo) != 1 or lo[0] > 2:
        raise _Damaged(f"part {index}: invalid lineOrder {lo!r}")
    for nm, tp in (("pixelAspectRatio", "float"), ("screenWindowWidth", "float"),
                   ("screenWindowCenter", "v2f")):
        get(nm, tp)
    name = ""
    if "name" in attrs:
        name = get("name", "string").decode("utf-8", "replace")
    if multipart and not name:
        raise _Damaged(f"part {index}: multi-part file without a part name")
    storage = "tiledimage" if tiled_flag else "scanlineimage"
    if "type" in attrs:
        storage = get("type", "string").decode("ascii", "replace")
    elif multipart:
        raise _Damaged(f"part {index}: required attribute 'type' is missing")
    if storage in ("deepscanline", "deeptile"):
        raise _Damaged(f"part {index} ({name or 'unnamed'}) holds deep data ({storage}), "
                       "which pixelpipe does not read")
    if storage not in ("scanlineimage", "tiledimage"):
        raise _Damaged(f"part {index}: unknown part type {storage!r}")
    part = PartSpec(name=name, storage=storage, compression=comp_raw[0], data_window=dw,
                    display_window=disp, channels=channels)
    for c in channels:
        if dw[0] % c.x_sampling or dw[1] % c.y_sampling or part.width % c.x_sampling \
                or part.height % c.y_sampling:
            raise _Damaged(f"part {index}: data window is not a multiple of the sampling "
                           f"of channel {c.name!r}")
    if storage == "tiledimage":
        td = get("tiles", "tiledesc")
        if len(td) != 9:
            raise _Damaged(f"part {index}: tiles attribute has size {len(td)}, expected 9")
        tx, ty, mode = struct.unpack("<IIB", td)
        if not (1 <= tx <= _MAX_DIM and 1 <= ty <= _MAX_DIM) or tx * ty > (1 << 28):
            raise _Damaged(f"part {index}: invalid tile size {tx}x{ty}")
        lm, rm = mode & 0x0F, mode >> 4
        if lm > 2 or rm > 1:
            raise _Damaged(f"part {index}: invalid tile level mode {mode:#x}")
        if any(c.x_sampling != 1 or c.y_sampling != 1 for c in channels):
            raise _Damaged(f"part {index}: tiled part with subsampled channels")
        part.tile_size = (tx, ty)
        part.level_mode = ("one", "mipmap", "ripmap")[lm]
        part.rounding_mode = ("down", "up")[rm]
        part.chunk_count = sum(nx * ny for _, _, nx, ny in _tile_grid(part))
    else:
        lpc = LINES_PER_CHUNK[part.compression]
        part.chunk_count = -(-part.height // lpc)
    if "chunkCount" in attrs:
        (cc,) = struct.unpack("<i", get("chunkCount", "int")[:4].ljust(4, b"\0"))
        if cc != part.chunk_count:
            raise _Damaged(f"part {index}: chunkCount {cc} does not match the "
                           f"{part.chunk_count} chunks its header implies")
    elif multipart:
        raise _Damaged(f"part {index}: required attribute 'chunkCount' is missing")
    return part


def _check_chunks(buf: mmap.mmap | bytes, pos: int, layout: ExrLayout) -> None:
    u8 = np.frombuffer(buf, dtype=np.uint8)
    size = len(u8)
    total = sum(p.chunk_count for p in layout.parts)
    if pos + 8 * total > size:
        raise _Damaged(f"chunk offset table ({total} entries) does not fit in the file "
                       f"({size} bytes)")
    table = u8[pos:pos + 8 * total].copy().view("<u8").astype(np.int64)
    first_chunk = pos + 8 * total
    start = 0
    for index, p in enumerate(layout.parts):
        offs = table[start:start + p.chunk_count]
        start += p.chunk_count
        if offs.size == 0:
            continue
        if (offs < first_chunk).any() or (offs >= size).any():
            raise _Damaged(f"part {index}: chunk offset table is damaged or the file is "
                           "incomplete (offsets point outside the pixel data)")
        lead = 4 if layout.multipart else 0
        nfields = 5 if p.storage == "tiledimage" else 2
        hdr_len = lead + 4 * nfields
        if (offs + hdr_len > size).any():
            raise _Damaged(f"part {index}: a chunk header runs past the end of the file")
        idx = offs[:, None] + np.arange(hdr_len, dtype=np.int64)[None, :]
        fields = np.ascontiguousarray(u8[idx]).view("<i4").astype(np.int64)
        if layout.multipart and (fields[:, 0] != index).any():
            raise _Damaged(f"part {index}: a chunk claims to belong to another part")
        f = fields[:, lead // 4:]
        payload = f[:, -1]
        if (payload <= 0).any() or (offs + hdr_len + payload > size).any():
            raise _Damaged(f"part {index}: a chunk's data size is invalid or runs past "
                           "the end of the file")
        if p.storage == "scanlineimage":
            lpc = LINES_PER_CHUNK[p.compression]
            expected = p.data_window[1] + lpc * np.arange(p.chunk_count, dtype=np.int64)
            if not np.array_equal(np.sort(f[:, 0]), expected):
                raise _Damaged(f"part {index}: chunk scan-line numbers do not match the "
                               "data window")
            max_bytes = sum(8 * lpc * -(-p.width // c.x_sampling) for c in p.channels)
            if (payload > max_bytes + 65536).any():
                raise _Damaged(f"part {index}: a chunk is larger than its pixels can be")
        else:
            grid = _tile_grid(p)
            ok = np.zeros(len(f), dtype=bool)
            for lx, ly, nx, ny in grid:
                ok |= ((f[:, 2] == lx) & (f[:, 3] == ly) & (f[:, 0] >= 0) & (f[:, 0] < nx)
                       & (f[:, 1] >= 0) & (f[:, 1] < ny))
            if not ok.all():
                raise _Damaged(f"part {index}: a tile's coordinates or level are outside "
                               "the tile grid")
            keys = ((f[:, 2] * (1 << 20) + f[:, 3]) * (1 << 40)
                    + f[:, 0] * (1 << 20) + f[:, 1])
            if np.unique(keys).size != keys.size:
                raise _Damaged(f"part {index}: two chunks hold the same tile")


def parse(path: Path, buf: mmap.mmap | bytes, pixel_budget: int,
          check_chunks: bool = True) -> ExrLayout:
    """Validate the structure of an EXR file held in ``buf``.

    Parameters
    ----------
    path : Path
        The file, for error messages.
    buf : mmap or bytes
        The whole file.
    pixel_budget : int
        Most pixels (summed over all parts, channels not counted) allowed.
    check_chunks : bool
        Also validate the chunk offset table and every chunk leader.

    Returns
    -------
    ExrLayout

    Raises
    ------
    InputError
        On any structural damage, deep data, or a pixel count over budget.
    """
    try:
        r = _Reader(buf)
        magic, version = r.unpack("<ii", "magic number")
        if magic != MAGIC:
            raise _Damaged("not an OpenEXR file (bad magic number)")
        if version & 0xFF != 2:
            raise _Damaged(f"unsupported OpenEXR version {version & 0xFF}")
        if version & ~0x1EFF:
            raise _Damaged(f"unknown feature flags {version:#x}")
        tiled = bool(version & 0x200)
        long_names = bool(version & 0x400)
        deep = bool(version & 0x800)
        multipart = bool(version & 0x1000)
        if deep and not multipart:
            raise _Damaged("the file holds deep data, which pixelpipe does not read")
        if tiled and multipart:
            raise _Damaged("invalid flags: single-part tiled bit set in a multi-part file")
        parts: list[PartSpec] = []
        while True:
            parts.append(_parse_header(r, long_names, multipart, tiled, len(parts)))
            if not multipart:
                break
            r.need(1, "header list")
            if r.buf[r.pos] == 0:
                r.pos += 1
                break
            if len(parts) >= _MAX_PARTS:
                raise _Damaged("too many parts")
        pixels = sum(p.width * p.height for p in parts)
        if pixels > pixel_budget:
            raise InputError(path, f"{pixels:,} pixels exceed the pixel budget of "
                             f"{pixel_budget:,} (set PIXELPIPE_PIXEL_BUDGET or pass "
                             "pixel_budget= to read larger images)")
        if multipart and len({p.name for p in parts}) != len(parts):
            raise _Damaged("two parts have the same name")
        layout = ExrLayout(multipart=multipart, parts=parts)
        if check_chunks:
            _check_chunks(buf, r.pos, layout)
        return layout
    except _Damaged as exc:
        raise InputError(path, f"damaged OpenEXR file: {exc}") from None
    except (struct.error, ValueError, IndexError, OverflowError) as exc:
        raise InputError(path, f"damaged OpenEXR file: {exc}") from None
