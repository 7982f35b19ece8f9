"""TIFF and BigTIFF through tifffile (codecs from imagecodecs).

Reads the first image of the file: 8/16-bit unsigned integer, 16/32-bit
float (64-bit float is narrowed to 32), grey, grey+alpha, RGB, RGBA
(contiguous or planar, stripped or tiled, any compression tifffile decodes),
palette images (expanded through their colour map to 16-bit RGB), and
min-is-white grey (inverted). The size comes from the first IFD before any
strip or tile is decoded. tifffile reports damaged data through the
``tifffile`` logger; any WARNING from it fails the read.

EXIF (TIFF 6.0 and EXIF 2.32 share tag numbers): the first IFD's
Orientation (274), Make (271), Model (272), DateTime (306), Artist (315),
Copyright (33432) and the EXIF IFD (34665) that tifffile decodes are
gathered into ``meta.exif`` as an EXIF block built with Pillow's
``Image.Exif`` (so the develop workflow applies the orientation as for a
JPEG). A tag Pillow cannot encode is left out. On write, Orientation (1
unless the image's EXIF says otherwise), Make, Model, DateTime, Artist and
Copyright from ``meta.exif`` go into the first IFD; the EXIF IFD itself is
not written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import tifffile

from pixelpipe.errors import InputError, OutputError
from pixelpipe.image import Image, ImageMeta
from pixelpipe.io._common import (
    check_budget,
    decoder_guard,
    image_from_decoded,
    samples_for,
)
from pixelpipe.io._pillow import encoding_from_icc

#: pixelpipe compression names -> tifffile's.
COMPRESSIONS: dict[str, str | None] = {
    "none": None, "deflate": "zlib", "zlib": "zlib", "adobe_deflate": "zlib", "lzw": "lzw",
    "zstd": "zstd", "lzma": "lzma", "packbits": "packbits", "webp": "webp", "jpeg": "jpeg",
}

_LOGGERS = ("tifffile",)


def _page(path: Path, tif: tifffile.TiffFile) -> Any:
    if not tif.pages:
        raise InputError(path, "TIFF file has no images")
    page = tif.pages.first
    if not isinstance(page, tifffile.TiffPage):
        raise InputError(path, "first TIFF image is not readable")
    return page


def _describe(page: Any, tif: tifffile.TiffFile) -> dict[str, Any]:
    comp = page.compression
    return {
        "width": int(page.imagewidth), "height": int(page.imagelength),
        "samples": int(page.samplesperpixel), "dtype": np.dtype(page.dtype) if page.dtype
        else None, "photometric": page.photometric.name.lower(),
        "compression": comp.name.lower() if hasattr(comp, "name") else str(comp),
        "tiled": bool(page.is_tiled), "bigtiff": bool(tif.is_bigtiff),
        "planar": "separate" if page.planarconfig == 2 else "contig",
        "pages": len(tif.pages),
        "icc": page.tags[34675].value if 34675 in page.tags else None,
        "extrasamples": tuple(int(x) for x in page.extrasamples),
    }


#: First-IFD tags carried between ``meta.exif`` and TIFF files: code -> tifffile dtype.
IFD0_EXIF_TAGS: dict[int, str] = {274: "H", 271: "s", 272: "s", 306: "s", 315: "s",
                                  33432: "s"}


def _exif_value(v: Any) -> Any:
    """A tifffile tag value as Pillow's EXIF writer takes it (None: leave the tag out)."""
    from PIL.TiffImagePlugin import IFDRational

    if isinstance(v, bytes):
        return v
    if isinstance(v, str):
        return v.strip("\x00")
    if isinstance(v, bool):
        return None
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return float(v)
    if isinstance(v, tuple) and len(v) == 2 and all(isinstance(x, int | np.integer) for x in v):
        return IFDRational(int(v[0]), int(v[1])) if v[1] else None  # a RATIONAL
    if isinstance(v, tuple) and v and all(isinstance(x, int | np.integer) for x in v):
        return tuple(int(x) for x in v)
    return None


def _read_exif(page: Any) -> bytes | None:
    """EXIF block (Pillow ``Image.Exif`` bytes) from the first IFD's tags, None when none."""
    from PIL import Image as PILImage

    tags = page.tags
    wanted = [c for c in IFD0_EXIF_TAGS if c in tags]
    if not wanted and 34665 not in tags:
        return None
    ex = PILImage.Exif()
    for code in wanted:
        v = _exif_value(tags[code].value)
        if v is not None:
            ex[code] = v
    sub = tags[34665].value if 34665 in tags else None
    if isinstance(sub, dict):
        ifd = ex.get_ifd(0x8769)
        for name, value in sub.items():
            sub_code = tifffile.TIFF.TAGS.get(name, None) if isinstance(name, str) else name
            v = _exif_value(value)
            if isinstance(sub_code, int) and v is not None:
                ifd[sub_code] = v
    try:
        return bytes(ex.tobytes())
    except Exception:
        # one badly typed EXIF IFD tag: keep the first IFD's tags rather than nothing
        ex2 = PILImage.Exif()
        for code in wanted:
            if code in ex:
                ex2[code] = ex[code]
        try:
            return bytes(ex2.tobytes())
        except Exception:
            return None


def _exif_extratags(exif: bytes | None) -> list[tuple[int, str, int, Any, bool]]:
    """tifffile ``extratags`` for the first-IFD EXIF tags of ``exif`` (Orientation always)."""
    from PIL import Image as PILImage

    found: dict[int, Any] = {}
    if exif:
        try:
            ex = PILImage.Exif()
            ex.load(exif)
            found = {c: ex[c] for c in IFD0_EXIF_TAGS if c in ex}
        except Exception:
            found = {}
    orient = found.get(274, 1)
    tags: list[tuple[int, str, int, Any, bool]] = [
        (274, "H", 1, int(orient) if isinstance(orient, int) and 1 <= orient <= 8 else 1,
         True)]
    for code, dtype in IFD0_EXIF_TAGS.items():
        v = found.get(code)
        if dtype == "s" and isinstance(v, str) and v and v.isascii():
            tags.append((code, "s", 0, v, True))
    return tags


def header(path: Path) -> dict[str, Any]:
    """What the first IFD says, no pixel decoded."""
    with decoder_guard(path, _LOGGERS), tifffile.TiffFile(path) as tif:
        return _describe(_page(path, tif), tif)


def read(path: Path, budget: int) -> Image:
    """Decode the first image of a TIFF file (see module docstring)."""
    with decoder_guard(path, _LOGGERS), tifffile.TiffFile(path) as tif:
        page = _page(path, tif)
        d = _describe(page, tif)
        check_budget(path, d["width"], d["height"], budget)
        photometric = d["photometric"]
        if photometric not in ("minisblack", "miniswhite", "rgb", "palette"):
            raise InputError(path, f"TIFF photometric interpretation {photometric!r} is not "
                             "supported (grey, RGB and palette are)")
        arr = page.asarray()
        exif = _read_exif(page)
        if page.axes.startswith("S") and arr.ndim == 3:
            arr = np.moveaxis(arr, 0, -1)
        if photometric == "palette":
            cmap = np.asarray(page.colormap)
            if cmap is None or arr.dtype.kind != "u":
                raise InputError(path, "palette TIFF without a valid colour map")
            arr = np.ascontiguousarray(cmap.T[arr.astype(np.intp)].astype(np.uint16))
    expected = (d["height"], d["width"])
    if arr.shape[:2] != expected:
        raise InputError(path, f"decoder returned shape {arr.shape}, header says "
                         f"{d['width']}x{d['height']}")
    sample_type, bits = "uint", 8
    if arr.dtype == np.uint16:
        bits = 16
    elif arr.dtype == np.float16:
        sample_type, bits = "half", 16
    elif arr.dtype in (np.float32, np.float64):
        sample_type, bits = "float", 32
        arr = arr.astype(np.float32, copy=False)
    elif arr.dtype == np.bool_:
        arr = arr.astype(np.uint8) * np.uint8(255)
    elif arr.dtype != np.uint8:
        raise InputError(path, f"TIFF sample type {arr.dtype} is not supported "
                         "(uint8, uint16, float16, float32 are)")
    if photometric == "miniswhite":
        arr = (np.iinfo(arr.dtype).max - arr) if arr.dtype.kind == "u" else 1.0 - arr
    if arr.ndim == 2:
        arr = arr[:, :, None]
    c = arr.shape[2]
    if c == 2:
        arr = np.concatenate([arr[:, :, :1]] * 3 + [arr[:, :, 1:]], axis=2)
        names: tuple[str, ...] = ("R", "G", "B", "A")
    elif c == 1:
        names = ("Y",)
    elif c == 3:
        names = ("R", "G", "B")
    elif c >= 4:
        arr = arr[:, :, :4]
        names = ("R", "G", "B", "A")
    icc = d["icc"]
    if isinstance(icc, np.ndarray | tuple | list):
        icc = bytes(np.asarray(icc, dtype=np.uint8))
    default_enc = "srgb" if sample_type == "uint" else "linear"
    meta = ImageMeta(
        format="tiff", color_encoding=encoding_from_icc(icc, default_enc), bit_depth=bits,
        sample_type=sample_type, icc_profile=icc or None, exif=exif, channel_names=names,
        extra={k: d[k] for k in ("compression", "tiled", "bigtiff", "planar", "photometric",
                                 "pages")} | ({"dropped_samples": c - 4} if c > 4 else {}),
    )
    return image_from_decoded(arr, meta)


def write(tmp: Path, target: Path, img: Image, sample_type: str, bits: int,
          quality: int | None, compression: str | None) -> None:
    """Encode ``img`` as TIFF into ``tmp``.

    Compression: ``compression`` if given, else the source's when it was a
    TIFF compressed with one of :data:`COMPRESSIONS`, else deflate. Deflate,
    LZW and zstd use the horizontal (integer) or floating-point predictor.
    Tiled (256 x 256) when the source was tiled; BigTIFF when the data need it.
    """
    meta = img.meta
    comp_name = compression
    if comp_name is None:
        src = str(meta.extra.get("compression", "")) if meta.format == "tiff" else ""
        comp_name = {"adobe_deflate": "deflate", "deflate": "deflate"}.get(src, src)
        if comp_name not in COMPRESSIONS:
            comp_name = "deflate"
    comp_name = comp_name.lower()
    if comp_name not in COMPRESSIONS:
        raise OutputError(target, f"unknown TIFF compression {compression!r}; known: "
                          f"{', '.join(sorted(COMPRESSIONS))}")
    comp = COMPRESSIONS[comp_name]
    if comp in ("jpeg", "webp") and bits != 8:
        raise OutputError(target, f"TIFF {comp_name} compression needs 8-bit samples")
    if quality is not None and comp not in ("jpeg", "webp"):
        raise OutputError(target, "quality= applies only to TIFF jpeg/webp compression")
    data = samples_for(img, sample_type, bits)
    c = data.shape[2]
    kw: dict[str, Any] = {}
    if c == 1:
        data = data[:, :, 0]
        kw["photometric"] = "minisblack"
    else:
        kw["photometric"] = "rgb"
        if c == 4:
            kw["extrasamples"] = ("unassalpha",)
    if comp is not None:
        kw["compression"] = comp if quality is None else (comp, int(quality))
        if comp in ("zlib", "lzw", "zstd"):
            kw["predictor"] = True
    if meta.extra.get("tiled") and meta.format == "tiff":
        kw["tile"] = (256, 256)
    if meta.icc_profile:
        kw["iccprofile"] = meta.icc_profile
    kw["bigtiff"] = data.nbytes > 2**32 - 2**25 or bool(meta.extra.get("bigtiff"))
    kw["extratags"] = _exif_extratags(meta.exif)
    tifffile.imwrite(tmp, data, **kw)
