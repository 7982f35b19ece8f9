"""Camera RAW files (CR2, CR3, NEF, ARW, RAF, ORF, RW2, DNG ...) through rawpy / LibRaw.

Decode path
-----------
1. ``RawPy.open_file`` reads the container; the output size (``sizes.width``
   x ``sizes.height``) and the sensor size are checked against the pixel
   budget before ``unpack`` allocates the sensor data.
2. ``postprocess`` demosaics (LibRaw's default AHD) and converts, with:
   ``gamma=(1, 1)`` (linear output, no tone curve), ``no_auto_bright=True``
   (no histogram stretch: the sensor's white level maps to 65535),
   ``output_bps=16``, ``highlight_mode=Clip``, ``output_color=Rec2020``, and
   either the camera's as-shot white balance (``camera_wb=True``, default)
   or LibRaw's daylight multipliers derived from the camera's colour matrix
   (``camera_wb=False``).
3. LibRaw's colour conversion goes camera RGB -> (camera matrix, Adobe DNG
   style ``rgb_cam``) -> linear sRGB/BT.709 primaries with the D65 white ->
   linear ITU-R BT.2020 primaries (same D65 white, so no chromatic
   adaptation). The 16-bit samples are scaled to [0, 1] by 1/65535. The
   result is **linear Rec.2020, D65 white**, recorded in the metadata as
   ``color_encoding="linear"``, ``extra["primaries"] = "rec2020"`` and
   ``extra["white_point"] = "D65"``. Colours outside Rec.2020 are clipped at
   0 by the 16-bit integer output; sensor-clipped highlights stay at 1.
4. Orientation: LibRaw applies the file's orientation (``sizes.flip``: 0 none,
   3 180 degrees, 5 90 degrees counter-clockwise, 6 90 degrees clockwise) to
   the output, so the array is upright; ``extra["raw_flip"]`` records it and
   the EXIF written to ``meta.exif`` says Orientation = 1.

Metadata: a small EXIF block built with Pillow (Make, Model, DateTimeOriginal,
ISO, exposure time, f-number, focal length, lens model) from what LibRaw and,
for TIFF-based containers (DNG, CR2, NEF, ARW ...), the first IFD report.

Failures: LibRaw errors (unsupported or damaged file, I/O error) and any
warning raised while decoding become :class:`~pixelpipe.errors.InputError`
naming the file. Source: LibRaw API documentation (libraw.org/docs) and
rawpy's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from pixelpipe.errors import InputError
from pixelpipe.image import Image, ImageMeta
from pixelpipe.io import formats
from pixelpipe.io._common import capture_native_output, check_budget, decoder_guard

#: Extensions read as camera RAW (lower case, with dot).
RAW_EXTENSIONS: tuple[str, ...] = tuple(sorted(
    ext for ext, fmt in formats.EXTENSIONS.items() if fmt == "raw"))

_FLIP_NAMES = {0: "none", 3: "rotate 180", 5: "rotate 90 ccw", 6: "rotate 90 cw"}


def _open(path: Path) -> Any:
    import rawpy

    raw = rawpy.RawPy()
    try:
        raw.open_file(str(path))
    except Exception:
        raw.close()
        raise
    return raw


def _tiff_ifd0(path: Path) -> dict[int, Any]:
    """Make/Model/DateTime tags of a TIFF-based RAW container (empty when not TIFF-based)."""
    from PIL import Image as PILImage

    try:
        with PILImage.open(path) as im:
            ex = im.getexif()
            out = {k: ex[k] for k in (271, 272, 306) if k in ex}
            sub = ex.get_ifd(0x8769)
            if 36867 in sub:
                out[36867] = sub[36867]
            return out
    except Exception:
        return {}


def _build_exif(path: Path, raw: Any) -> tuple[bytes | None, dict[str, Any]]:
    """EXIF bytes (orientation 1) and a dict of the facts found."""
    from PIL import Image as PILImage

    facts: dict[str, Any] = {}
    ifd0 = _tiff_ifd0(path)
    if 271 in ifd0:
        facts["make"] = str(ifd0[271]).strip("\x00 ")
    if 272 in ifd0:
        facts["model"] = str(ifd0[272]).strip("\x00 ")
    other = getattr(raw, "other", None)
    lens = getattr(raw, "lens", None)
    if other is not None:
        facts["iso"] = float(other.iso_speed)
        facts["exposure_time_s"] = float(other.shutter_speed)
        facts["f_number"] = float(other.aperture)
        facts["focal_length_mm"] = float(other.focal_length)
        if other.timestamp is not None:
            facts["timestamp"] = other.timestamp.strftime("%Y:%m:%d %H:%M:%S")
    if lens is not None and lens.model:
        facts["lens_model"] = str(lens.model)
    exif = PILImage.Exif()
    exif[274] = 1  # Orientation: the pixels are upright
    if "make" in facts:
        exif[271] = facts["make"]
    if "model" in facts:
        exif[272] = facts["model"]
    sub = exif.get_ifd(0x8769)
    if facts.get("timestamp"):
        sub[36867] = facts["timestamp"]
    if facts.get("iso", 0) > 0:
        sub[34855] = round(facts["iso"])
    if facts.get("exposure_time_s", 0) > 0:
        sub[33434] = facts["exposure_time_s"]
    if facts.get("f_number", 0) > 0:
        sub[33437] = facts["f_number"]
    if facts.get("focal_length_mm", 0) > 0:
        sub[37386] = facts["focal_length_mm"]
    if "lens_model" in facts:
        sub[42036] = facts["lens_model"]
    try:
        return exif.tobytes(), facts
    except Exception:
        return None, facts


def read(path: Path, budget: int, camera_wb: bool = True) -> Image:
    """Decode a camera RAW file to linear Rec.2020 (see the module docstring).

    Parameters
    ----------
    path : Path
        The RAW file.
    budget : int
        Most pixels to decode (checked on the output and the sensor size).
    camera_wb : bool
        Use the camera's as-shot white balance (default); else LibRaw's
        daylight multipliers.

    Returns
    -------
    Image
        float32 (H, W, 3) in [0, 1], linear Rec.2020 with the D65 white;
        ``meta.sample_type == "uint"``, ``bit_depth == 16``, ``format == "raw"``.

    Raises
    ------
    InputError
        Unsupported, damaged or unreadable file, size over the budget, or a
        decoder warning.
    """
    import rawpy

    def decode() -> tuple[Any, ...]:
        raw = _open(path)
        try:
            s = raw.sizes
            check_budget(path, int(s.width), int(s.height), budget)
            check_budget(path, int(s.raw_width), int(s.raw_height), budget, " (sensor)")
            raw.unpack()
            rgb = raw.postprocess(
                gamma=(1, 1), no_auto_bright=True, output_bps=16,
                use_camera_wb=camera_wb, output_color=rawpy.ColorSpace.Rec2020,
                highlight_mode=rawpy.HighlightMode.Clip)
            wb = [float(v) for v in (raw.camera_whitebalance if camera_wb
                                     else raw.daylight_whitebalance)]
            return (s, rgb, wb, *_build_exif(path, raw))
        finally:
            raw.close()

    try:
        with decoder_guard(path):
            # LibRaw's codecs (libjpeg for lossless-JPEG DNGs) print warnings on the
            # process's stderr: any such text fails the read
            (s, rgb, wb, exif, facts), native = capture_native_output(decode)
        if native.strip():
            raise InputError(path, f"decoder warning: {native.strip().splitlines()[0]}")
        flip = int(s.flip)
    except InputError:
        raise
    except rawpy.LibRawError as exc:
        raise InputError(path, f"cannot decode camera RAW file: {type(exc).__name__}: "
                         f"{exc}") from None
    if rgb.dtype != np.uint16 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise InputError(path, f"unexpected LibRaw output {rgb.dtype} {rgb.shape}")
    expected = {(int(s.height), int(s.width)), (int(s.width), int(s.height))}
    if rgb.shape[:2] not in expected:
        raise InputError(path, f"decoder returned {rgb.shape[1]}x{rgb.shape[0]} pixels, "
                         f"header says {s.width}x{s.height}")
    arr = rgb.astype(np.float32) / np.float32(65535.0)
    meta = ImageMeta(
        format="raw", color_encoding="linear", bit_depth=16, sample_type="uint",
        exif=exif, channel_names=("R", "G", "B"),
        extra={"primaries": "rec2020", "white_point": "D65", "raw_flip": flip,
               "orientation": _FLIP_NAMES.get(flip, str(flip)), "camera_wb": camera_wb,
               "wb_multipliers": wb, **facts})
    return Image(arr, meta)


def header(path: Path) -> dict[str, Any]:
    """Output size, sensor size, orientation and camera facts, without unpacking pixels."""
    with decoder_guard(path):
        raw = _open(path)
        try:
            s = raw.sizes
            flip = int(s.flip)
            w, h = (int(s.height), int(s.width)) if flip in (5, 6) else (int(s.width),
                                                                          int(s.height))
            _, facts = _build_exif(path, raw)
            return {"width": w, "height": h, "raw_width": int(s.raw_width),
                    "raw_height": int(s.raw_height), "flip": flip,
                    "color_desc": raw.color_desc.decode("ascii", "replace"), **facts}
        finally:
            raw.close()


def exif_summary(exif: bytes | None) -> dict[int | str, Any]:
    """The tags of an EXIF block as a dict (for tests and ``info``)."""
    if not exif:
        return {}
    from PIL import Image as PILImage

    ex = PILImage.Exif()
    ex.load(exif)
    return dict(ex.items()) | {f"exif:{k}": v for k, v in ex.get_ifd(0x8769).items()}

