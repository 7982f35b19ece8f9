"""PNG and JPEG through Pillow; 16-bit PNG through imagecodecs' libpng codec.

Pillow (13.x) opens a 48/64-bit RGB(A) PNG as 8-bit RGB (the low byte is
lost) and cannot write 16-bit colour PNG, so every 16-bit PNG is decoded and
encoded with ``imagecodecs.png_decode`` / ``png_encode`` (libpng); Pillow
still reads its header (size, bit depth, ICC, EXIF) lazily, before any pixel
is decoded. imagecodecs' encoder writes no ancillary chunks, so the ICC
profile (iCCP) and EXIF (eXIf) of a 16-bit PNG are inserted after its IHDR chunk.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image as PILImage
from PIL import ImageCms

from pixelpipe.errors import InputError, OutputError
from pixelpipe.image import Image, ImageMeta
from pixelpipe.io._common import (
    check_budget,
    decoder_guard,
    image_from_decoded,
    samples_for,
)

_PIL_LOCK = threading.Lock()

#: JPEG quality used when none is given (Pillow's own default is 75).
DEFAULT_JPEG_QUALITY = 95


def encoding_from_icc(icc: bytes | None, default: str) -> str:
    """Guess the colour encoding from an ICC profile's description ("srgb", "linear" ...)."""
    if not icc:
        return default
    try:
        prof = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        desc = (ImageCms.getProfileDescription(prof) or "").lower()
    except Exception:
        return "unknown"
    if "srgb" in desc or "iec61966" in desc:
        return "srgb"
    if "linear" in desc:
        return "linear"
    if "709" in desc:
        return "rec709"
    return "unknown"


def _open(path: Path, budget: int) -> Any:
    with _PIL_LOCK:
        old = PILImage.MAX_IMAGE_PIXELS
        PILImage.MAX_IMAGE_PIXELS = budget
        try:
            im = PILImage.open(path)
        except (PILImage.DecompressionBombWarning, PILImage.DecompressionBombError) as exc:
            raise InputError(path, f"image size exceeds the pixel budget of {budget:,} "
                             f"({exc}); set PIXELPIPE_PIXEL_BUDGET or pass pixel_budget= "
                             "to read larger images") from None
        finally:
            PILImage.MAX_IMAGE_PIXELS = old
    return im


def _png_bits(im: Any) -> int:
    args = im.tile[0].args if im.tile else ""
    raw = args if isinstance(args, str) else (args[0] if args else "")
    return 16 if ";16" in str(raw) or im.mode.startswith("I;16") else 8


def header(path: Path, fmt: str, budget: int) -> dict[str, Any]:
    """Size, mode, bit depth, ICC and EXIF without decoding pixels."""
    with decoder_guard(path), _open(path, budget) as im:
        w, h = im.size
        bits = _png_bits(im) if fmt == "png" else 8
        return {
            "width": w, "height": h, "mode": im.mode, "bits": bits,
            "icc": im.info.get("icc_profile"), "exif": im.info.get("exif"),
            "format": im.format, "info": dict(im.info),
        }


def _to_hwc(arr: npt.NDArray[Any], mode: str) -> tuple[npt.NDArray[Any], tuple[str, ...]]:
    if arr.ndim == 2:
        return arr[:, :, None], ("Y",)
    c = arr.shape[2]
    if c == 2:  # grey + alpha -> RGBA
        g, a = arr[:, :, :1], arr[:, :, 1:]
        return np.concatenate([g, g, g, a], axis=2), ("R", "G", "B", "A")
    if c == 3:
        return arr, ("R", "G", "B")
    if c == 4:
        return arr, ("R", "G", "B", "A")
    raise ValueError(f"unsupported channel count {c} (mode {mode})")


def read(path: Path, fmt: str, budget: int) -> Image:
    """Decode a PNG or JPEG file (see module docstring)."""
    with decoder_guard(path), _open(path, budget) as im:
        w, h = im.size
        check_budget(path, w, h, budget)
        bits = _png_bits(im) if fmt == "png" else 8
        icc = im.info.get("icc_profile")
        exif = im.info.get("exif")
        mode = im.mode
        extra: dict[str, Any] = {"mode": mode}
        if fmt == "png":
            if "gamma" in im.info:
                extra["gamma"] = im.info["gamma"]
            if "srgb" in im.info:
                extra["srgb_intent"] = im.info["srgb"]
        if fmt == "png" and bits == 16:
            import imagecodecs

            arr = imagecodecs.png_decode(path.read_bytes())
        else:
            if mode in ("P", "PA"):
                im = im.convert("RGBA" if "transparency" in im.info or mode == "PA" else "RGB")
            elif mode == "1":
                im = im.convert("L")
            elif mode in ("CMYK", "YCbCr", "LAB", "HSV"):
                im = im.convert("RGB")
            elif mode == "I":
                raise InputError(path, "32-bit integer PNG is not supported")
            im.load()
            arr = np.asarray(im)
    if arr.shape[0] != h or arr.shape[1] != w:
        raise InputError(path, f"decoder returned {arr.shape[1]}x{arr.shape[0]} pixels, "
                         f"header says {w}x{h}")
    if arr.dtype not in (np.uint8, np.uint16):
        raise InputError(path, f"unexpected decoded sample type {arr.dtype}")
    hwc, names = _to_hwc(arr, mode)
    enc = encoding_from_icc(icc, "srgb")
    if fmt == "png" and not icc and "srgb" not in extra and "gamma" in extra:
        g = float(extra["gamma"])
        enc = "linear" if abs(g - 1.0) < 1e-3 else ("srgb" if abs(g - 0.45455) < 1e-3
                                                     else "unknown")
    meta = ImageMeta(format=fmt, color_encoding=enc, bit_depth=int(arr.dtype.itemsize * 8),
                     sample_type="uint", icc_profile=icc, exif=exif, channel_names=names,
                     extra=extra)
    return image_from_decoded(hwc, meta)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    import struct
    import zlib

    return struct.pack(">I", len(body)) + kind + body + \
        struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def _with_png_chunks(png: bytes, icc: bytes | None, exif: bytes | None) -> bytes:
    """Insert iCCP and eXIf chunks after IHDR (PNG spec 1.2 / 3rd ed.: both before IDAT)."""
    import zlib

    extra = b""
    if icc:
        extra += _png_chunk(b"iCCP", b"ICC profile\0\0" + zlib.compress(icc))
    if exif:
        body = exif[6:] if exif.startswith(b"Exif\0\0") else exif
        extra += _png_chunk(b"eXIf", body)
    if not extra:
        return png
    end_ihdr = 8 + 8 + 13 + 4  # signature, IHDR length+type, IHDR data, CRC
    return png[:end_ihdr] + extra + png[end_ihdr:]


def _pil_mode(c: int) -> str:
    return {1: "L", 3: "RGB", 4: "RGBA"}[c]


def write(tmp: Path, target: Path, fmt: str, img: Image, sample_type: str, bits: int,
          quality: int | None, compression: str | None) -> None:
    """Encode ``img`` as PNG or JPEG into ``tmp``."""
    c = img.channels
    meta = img.meta
    if fmt == "jpeg":
        if c == 4:
            raise OutputError(target, "JPEG cannot store an alpha channel; drop it (or write "
                              "PNG, TIFF or EXR)")
        if compression is not None:
            raise OutputError(target, "JPEG takes quality=, not compression=")
        q = DEFAULT_JPEG_QUALITY if quality is None else int(quality)
        if not 1 <= q <= 100:
            raise OutputError(target, f"JPEG quality must be in 1..100, got {q}")
        data = samples_for(img, "uint", 8)
        pim = PILImage.fromarray(data[:, :, 0] if c == 1 else data, _pil_mode(c))
        kw: dict[str, Any] = {"quality": q, "subsampling": 0 if q >= 90 else 2}
        if meta.icc_profile:
            kw["icc_profile"] = meta.icc_profile
        if meta.exif:
            kw["exif"] = meta.exif
        pim.save(tmp, format="JPEG", **kw)
        return
    if quality is not None:
        raise OutputError(target, "PNG is lossless and takes no quality=")
    level = 6
    if compression is not None:
        if not (compression.isdigit() and 0 <= int(compression) <= 9):
            raise OutputError(target, f"PNG compression must be a zlib level '0'..'9', got "
                              f"{compression!r}")
        level = int(compression)
    data = samples_for(img, "uint", bits)
    if bits == 16:
        import imagecodecs

        png = imagecodecs.png_encode(data[:, :, 0] if c == 1 else data, level=level)
        tmp.write_bytes(_with_png_chunks(bytes(png), meta.icc_profile, meta.exif))
        return
    pim = PILImage.fromarray(data[:, :, 0] if c == 1 else data, _pil_mode(c))
    kw = {"compress_level": level}
    if meta.icc_profile:
        kw["icc_profile"] = meta.icc_profile
    if meta.exif:
        kw["exif"] = meta.exif
    pim.save(tmp, format="PNG", **kw)
