"""Image file input and output: PNG, JPEG, TIFF/BigTIFF, OpenEXR.

``read(path)`` gives an :class:`~pixelpipe.image.Image`: float32 (H, W, C),
C in {1, 3, 4}, integer samples scaled to [0, 1] by value / (2**bits - 1),
float samples kept as they are (NaN and Inf included), plus an
:class:`~pixelpipe.image.ImageMeta` that records the source sample type,
colour encoding, ICC profile, EXIF, EXR header, windows, parts and layers.
``write(path, image)`` keeps the source sample type unless told otherwise,
writes atomically and never replaces a file (least of all the input) unless
``overwrite=True``. ``info(path)`` reads headers only.

Decoders are not trusted: sizes are checked against a pixel budget before
any pixel buffer is allocated, any warning a decoder emits fails the read,
and OpenEXR files are validated structurally before the library sees them
(see :mod:`pixelpipe.io.exr_check` and ``docs/io.md``).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from pixelpipe.errors import InputError, OutputError
from pixelpipe.image import Image, ImageMeta
from pixelpipe.io import formats
from pixelpipe.io._common import (
    DEFAULT_PIXEL_BUDGET,
    atomic_write,
    check_target,
    parse_bit_depth,
    pixel_budget,
)
from pixelpipe.io.fileinfo import FileInfo, PartInfo

__all__ = [
    "DEFAULT_PIXEL_BUDGET",
    "FileInfo",
    "PartInfo",
    "formats",
    "info",
    "pixel_budget",
    "read",
    "sample_path",
    "write",
]


def sample_path() -> Path:
    """Path of the sample photograph shipped inside the package (``data/sample.jpg``).

    640 x 427 RGB JPEG (SpaceX rocket launch, public domain; see
    ``pixelpipe/data/README.md``).
    """
    return Path(str(resources.files("pixelpipe") / "data" / "sample.jpg"))


def _existing(path: str | Path) -> Path:
    p = Path(path)
    if not p.exists():
        raise InputError(p, "no such file")
    if p.is_dir():
        raise InputError(p, "is a directory, not an image file")
    return p


def read(path: str | Path, part: int | str | None = None, layer: str | None = None,
         pixel_budget: int | None = None, camera_wb: bool = True) -> Image:
    """Decode an image file.

    Parameters
    ----------
    path : str or Path
        PNG, JPEG, TIFF, EXR or camera RAW (format chosen by extension, see
        :mod:`pixelpipe.io.formats`; RAW: :mod:`pixelpipe.io.raw`, linear Rec.2020).
    part : int or str, optional
        EXR only: part index or name; default the first part.
    layer : str, optional
        EXR only: layer name (``""`` = unprefixed channels) or a single channel
        name; default the unprefixed RGB(A) layer.
    pixel_budget : int, optional
        Most pixels (width x height; summed over the parts of an EXR file)
        to decode; default ``$PIXELPIPE_PIXEL_BUDGET`` or 1.5e9.
    camera_wb : bool
        Camera RAW only: the camera's as-shot white balance (default) or, when
        False, LibRaw's daylight multipliers; other formats ignore it.

    Returns
    -------
    Image
        ``array`` float32 (H, W, C), C in {1, 3, 4}; ``meta`` as described in
        :class:`~pixelpipe.image.ImageMeta`. For EXR the pixels are the data window.

    Raises
    ------
    InputError
        Missing, unreadable, damaged or unsupported file, unknown extension,
        size over the budget, a decoder warning, missing part/layer (the
        message lists those that exist), or OpenEXR not installed.
    """
    p = _existing(path)
    fmt = formats.format_of(p)
    budget = _budget(pixel_budget)
    if fmt != "exr" and (part is not None or layer is not None):
        raise InputError(p, "part= and layer= apply only to OpenEXR files")
    try:
        if fmt == "exr":
            from pixelpipe.io import _exr

            return _exr.read(p, budget, part, layer)
        if fmt == "tiff":
            from pixelpipe.io import _tiff

            return _tiff.read(p, budget)
        if fmt == "raw":
            from pixelpipe.io import raw

            return raw.read(p, budget, camera_wb=camera_wb)
        from pixelpipe.io import _pillow

        return _pillow.read(p, fmt, budget)
    except InputError as exc:
        if exc.path is None:
            raise InputError(p, exc.problem) from None
        raise
    except MemoryError:
        raise InputError(p, "decoder ran out of memory") from None
    except Exception as exc:
        raise InputError(p, f"cannot decode {fmt.upper()} file: "
                         f"{type(exc).__name__}: {exc}") from None


def _budget(value: int | None) -> int:
    return pixel_budget(value)


def _target_type(target: Path, fmt: str, meta: ImageMeta,
                 bit_depth: int | str | None) -> tuple[str, int]:
    allowed = formats.SAMPLE_TYPES[fmt]
    if bit_depth is not None:
        st = parse_bit_depth(target, bit_depth)
        if st not in allowed:
            names = ", ".join("half" if t == "half" else ("float" if t == "float" else str(b))
                              for t, b in allowed)
            raise OutputError(target, f"{fmt.upper()} cannot store bit depth {bit_depth!r}; "
                              f"it stores: {names}")
        return st
    src = ("half", 16) if meta.sample_type == "half" else (
        ("float", 32) if meta.sample_type == "float" else ("uint", 8 if meta.bit_depth <= 8
                                                           else 16))
    if src in allowed:
        return src
    # the source type does not fit this format: take the closest it has
    if fmt == "exr":
        return ("half", 16) if src == ("uint", 8) or src == ("uint", 16) else ("float", 32)
    if fmt == "png":
        return ("uint", 16) if src[0] != "uint" or src[1] > 8 else ("uint", 8)
    return allowed[0]


def write(path: str | Path, image: Image | npt.NDArray[Any], bit_depth: int | str | None = None,
          overwrite: bool = False, quality: int | None = None, compression: str | None = None,
          source: str | Path | None = None) -> Path:
    """Encode an image to a file, atomically.

    Parameters
    ----------
    path : str or Path
        Target; the format follows the extension.
    image : Image or ndarray
        An :class:`Image`, or a float32 array (H, W), (H, W, C), C in {1, 3, 4},
        treated as linear float data (``ImageMeta()``).
    bit_depth : int or str, optional
        Target sample type: ``8``/``"uint8"``, ``16``/``"uint16"`` (unsigned
        integer), ``"half"``/``"float16"``, ``32``/``"float"``. Default: the
        source's (``image.meta``) when the format stores it, else the
        closest the format has (JPEG: 8; PNG: 16 for 16-bit and float
        sources; EXR: half for integer sources). Integer targets store
        ``round(clip(x, 0, 1) * (2**bits - 1))`` (NaN -> 0); half rounds to
        nearest (overflow -> Inf). No transfer function is applied.
    overwrite : bool
        Replace an existing file (or the input file named by ``source``).
    quality : int, optional
        JPEG quality 1-100 (default 95); TIFF jpeg/webp quality; EXR DWA level.
    compression : str, optional
        TIFF: none, deflate, lzw, zstd, lzma, packbits, jpeg, webp (default the
        source's, else deflate). EXR: none, rle, zips, zip, piz, pxr24, b44,
        b44a, dwaa, dwab, htj2k256, htj2k32, lj2k, zstd (default the source's,
        else zip). PNG: zlib level "0".."9" (default 6).
    source : str or Path, optional
        The input file the image came from; writing onto it needs ``overwrite``.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    OutputError
        Unknown extension, the target exists (or is the input) without
        ``overwrite``, a bit depth / option the format cannot take, missing
        directory, or the encoder failed (no partial file is left behind).
    """
    target = Path(path)
    fmt = formats.format_of(target, for_write=True)
    if isinstance(image, np.ndarray):
        try:
            # integer arrays are samples (scaled by 2**bits - 1), not float pixel values
            if image.dtype.kind in "ui":
                meta = ImageMeta(sample_type="uint", bit_depth=8 * image.dtype.itemsize,
                                 color_encoding="srgb")
                img = Image(meta=meta, samples=image)
            else:
                img = Image(np.asarray(image, dtype=np.float32))
        except ValueError as exc:
            raise OutputError(target, str(exc)) from None
    elif isinstance(image, Image):
        img = image
    else:
        raise OutputError(target, f"expected an Image or ndarray, got {type(image).__name__}")
    if target.is_dir():
        raise OutputError(target, "is a directory")
    check_target(target, overwrite, source)
    sample_type, bits = _target_type(target, fmt, img.meta, bit_depth)

    def encode(tmp: Path) -> None:
        if fmt == "exr":
            from pixelpipe.io import _exr

            try:
                _exr.write(tmp, target, img, sample_type, quality, compression)
            except InputError as exc:  # OpenEXR missing
                raise OutputError(target, exc.problem) from None
        elif fmt == "tiff":
            from pixelpipe.io import _tiff

            _tiff.write(tmp, target, img, sample_type, bits, quality, compression)
        else:
            from pixelpipe.io import _pillow

            _pillow.write(tmp, target, fmt, img, sample_type, bits, quality, compression)

    atomic_write(target, encode)
    return target


def info(path: str | Path) -> FileInfo:
    """Header facts of an image file, without decoding pixels.

    Raises
    ------
    InputError
        As :func:`read` (the pixel budget applies to EXR structure checks).
    """
    p = _existing(path)
    fmt = formats.format_of(p)
    try:
        return _info(p, fmt)
    except InputError as exc:
        if exc.path is None:
            raise InputError(p, exc.problem) from None
        raise
    except Exception as exc:
        raise InputError(p, f"cannot read {fmt.upper()} header: "
                         f"{type(exc).__name__}: {exc}") from None


def _info(p: Path, fmt: str) -> FileInfo:
    budget = pixel_budget()
    if fmt == "exr":
        from pixelpipe.io import _exr

        layout, headers = _exr.header(p, budget)
        parts = []
        for i, (spec, hdr) in enumerate(zip(layout.parts, headers, strict=True)):
            attrs = {k: v for k, v in hdr.items() if k not in _exr.STRUCTURAL}
            parts.append(PartInfo(
                index=i, name=spec.name, storage=spec.storage,
                compression=spec.compression_name, data_window=spec.data_window,
                display_window=spec.display_window,
                channels=tuple(f"{c.name} ({c.pixel_type}"
                               + (f", {c.x_sampling}x{c.y_sampling} sampling)"
                                  if (c.x_sampling, c.y_sampling) != (1, 1) else ")")
                               for c in spec.channels),
                layers=tuple(_exr._layers([c.name for c in spec.channels])),
                tile_size=spec.tile_size, level_mode=spec.level_mode, attributes=attrs))
        first = layout.parts[0]
        types = {c.pixel_type for c in first.channels}
        st = "float" if types & {"float", "uint"} else "half"
        return FileInfo(
            path=p, format="exr", width=first.width, height=first.height,
            channels=len(first.channels), sample_type=st, bit_depth=16 if st == "half" else 32,
            color_encoding="linear", compression=first.compression_name,
            tiled=first.storage == "tiledimage", data_window=first.data_window,
            display_window=first.display_window, parts=parts)
    if fmt == "raw":
        from pixelpipe.io import raw

        r = raw.header(p)
        return FileInfo(
            path=p, format="raw", width=r["width"], height=r["height"], channels=3,
            sample_type="uint", bit_depth=16, color_encoding="linear", compression=None,
            extra={k: v for k, v in r.items() if k not in ("width", "height")})
    if fmt == "tiff":
        from pixelpipe.io import _pillow, _tiff

        d = _tiff.header(p)
        dt = d["dtype"]
        if dt is None:
            raise InputError(p, "TIFF sample type not supported")
        st, bits = ("uint", dt.itemsize * 8) if dt.kind in "ub" else (
            ("half", 16) if dt == np.float16 else ("float", 32))
        return FileInfo(
            path=p, format="tiff", width=d["width"], height=d["height"],
            channels=d["samples"], sample_type=st, bit_depth=bits,
            color_encoding=_pillow.encoding_from_icc(d["icc"],
                                                     "srgb" if st == "uint" else "linear"),
            compression=d["compression"], tiled=d["tiled"], has_icc=d["icc"] is not None,
            extra={"photometric": d["photometric"], "bigtiff": d["bigtiff"],
                   "planar": d["planar"], "pages": d["pages"]})
    from pixelpipe.io import _pillow

    h = _pillow.header(p, fmt, budget)
    nch = {"1": 1, "L": 1, "P": 3, "I;16": 1, "I;16B": 1, "I": 1, "LA": 2, "PA": 4,
           "RGB": 3, "RGBA": 4, "CMYK": 4, "YCbCr": 3}.get(h["mode"], len(h["mode"]))
    if h["mode"] == "P" and "transparency" in h["info"]:
        nch = 4
    return FileInfo(
        path=p, format=fmt, width=h["width"], height=h["height"], channels=nch,
        sample_type="uint", bit_depth=h["bits"],
        color_encoding=_pillow.encoding_from_icc(h["icc"], "srgb"),
        compression="deflate" if fmt == "png" else "jpeg", has_icc=bool(h["icc"]),
        has_exif=bool(h["exif"]), extra={"mode": h["mode"]})
