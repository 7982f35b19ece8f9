"""TIFF and BigTIFF through tifffile (codecs from imagecodecs).

Reads the first image of the file: 8/16-bit unsigned integer, 16/32-bit
float (64-bit float is narrowed to 32), grey, grey+alpha, RGB, RGBA
(contiguous or planar, stripped or tiled, any compression tifffile decodes),
palette images (expanded through their colour map to 16-bit RGB), and
min-is-white grey (inverted). The size comes from the first IFD before any
strip or tile is decoded. tifffile reports damaged data through the
``tifffile`` logger; any WARNING from it fails the read.
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
        sample_type=sample_type, icc_profile=icc or None, channel_names=names,
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
    tifffile.imwrite(tmp, data, **kw)
