"""Input and output colour of the develop workflow: orientation, ICC profiles, gamuts.

Input (:func:`prepare_input`)
-----------------------------
The source's encoding is found, in this order, and recorded as a
:class:`SourceColour` (linear primaries + transfer function) so that
:func:`~pixelpipe.workflows.develop.stages.build_pipeline` can convert to the
working space (linear Rec.2020) with ``transfer`` and ``colorspace`` ops:

1. camera RAW (:mod:`pixelpipe.io.raw`): linear Rec.2020, D65;
2. an embedded ICC profile whose description names sRGB: sRGB, converted
   with the exact sRGB formulas (no LittleCMS rounding);
3. any other embedded RGB ICC profile. A matrix/TRC profile (Adobe RGB,
   Display P3, ProPhoto and most working-space profiles; ICC.1:2010
   section F.3) is converted in float (:func:`icc_matrix_shaper`): each
   channel through its ``rTRC``/``gTRC``/``bTRC`` curve (``curv`` gamma or
   table, or ``para`` function types 0-4) in float64 on the CPU, then the
   colourant matrix ``[rXYZ gXYZ bXYZ]`` (PCS, D50), Bradford D50 -> D65
   and XYZ -> linear Rec.2020 as one ``matrix`` op; no clipping of the
   converted values and no 8-bit step, so a 16-bit source keeps its
   precision. A LUT-based profile (``A2B0``/``A2B1`` tags, e.g. camera or
   scanner profiles), or one whose tags cannot be read this way, is
   converted by LittleCMS (Pillow's ``ImageCms``, relative colorimetric
   intent) to a profile of Rec.2020 primaries with the sRGB curve (written
   by :mod:`pixelpipe.io.icc`). Pillow's LittleCMS binding transforms 8-bit
   RGB only, so that path quantises to 8 bits per channel (error <= 0.5/255
   of the encoded value, plus LittleCMS's own ~1e-4) and clips to the
   Rec.2020 gamut. Grey ICC profiles are not converted (grey is taken as
   sRGB-encoded);
4. EXR: linear, with the file's ``chromaticities`` when present (their
   primaries and white point, Bradford-adapted to D65), else Rec.709/D65;
5. float TIFF: linear Rec.709 (no chromaticity tag is read);
6. untagged 8/16-bit PNG, JPEG, TIFF: sRGB (IEC 61966-2-1); a PNG whose
   ``gAMA`` chunk says 1.0 is linear Rec.709.

EXIF orientation (tag 274) is applied to the pixels as Pillow's
``ImageOps.exif_transpose`` does (values 2-8: mirror, rotate 180, flip,
transpose, rotate 270, transverse, rotate 90), and the EXIF kept for the
output then says orientation 1.

Output (:func:`output_encoding`, :func:`output_meta`)
------------------------------------------------------
``srgb``: Rec.709 primaries, sRGB curve, LittleCMS's built-in sRGB profile;
``display-p3``: P3 primaries with D65, sRGB curve; ``adobe-rgb``: Adobe RGB
(1998) primaries, pure power 563/256. Display P3 and Adobe RGB profiles come
from :func:`pixelpipe.io.icc.output_profile` ("pixelpipe Display P3",
"pixelpipe Adobe RGB (1998)"). Values outside the output gamut are clipped by
the integer writer (no gamut compression).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from pixelpipe.image import Image
from pixelpipe.ops.color.colorspace import SPACES

#: Output gamut -> (ColorSpace name, transfer function, gamma).
OUTPUT_GAMUTS: dict[str, tuple[str, str, float]] = {
    "srgb": ("rec709", "srgb", 2.2),
    "display-p3": ("display-p3", "srgb", 2.2),
    "adobe-rgb": ("adobe-rgb", "gamma", 563 / 256),
}


@dataclass(frozen=True)
class SourceColour:
    """How a source image's RGB values are encoded.

    ``primaries``: a :class:`~pixelpipe.ops.color.colorspace.ColorSpace`
    name, or ``"custom"`` with ``matrix`` (linear source RGB -> linear
    Rec.2020); ``transfer``: ``"linear"`` or a ``transfer`` op function
    (``"srgb"``, ``"gamma"`` with ``gamma``).
    """

    primaries: str = "rec709"
    transfer: str = "srgb"
    gamma: float = 2.2
    matrix: tuple[tuple[float, float, float], ...] | None = None
    note: str = ""


def _exif_orientation(exif: bytes | None) -> int:
    if not exif:
        return 1
    from PIL import Image as PILImage

    try:
        ex = PILImage.Exif()
        ex.load(exif)
        v = int(ex.get(274, 1))
    except Exception:
        return 1
    return v if 1 <= v <= 8 else 1


def _exif_reset_orientation(exif: bytes | None) -> bytes | None:
    if not exif:
        return exif
    from PIL import Image as PILImage

    try:
        ex = PILImage.Exif()
        ex.load(exif)
        if ex.get(274, 1) == 1:
            return exif
        ex[274] = 1
        return bytes(ex.tobytes())
    except Exception:
        return None  # an EXIF block Pillow cannot rewrite is dropped rather than kept wrong


def apply_orientation(a: npt.NDArray[Any], orientation: int) -> npt.NDArray[Any]:
    """Pixels (H, W, C) as displayed for EXIF ``orientation`` 1-8 (Pillow's exif_transpose)."""
    ops = {
        1: lambda x: x,
        2: lambda x: x[:, ::-1],                       # mirror horizontal
        3: lambda x: x[::-1, ::-1],                    # rotate 180
        4: lambda x: x[::-1, :],                       # mirror vertical
        5: lambda x: np.swapaxes(x, 0, 1),             # transpose
        6: lambda x: np.rot90(x, k=-1),                # rotate 90 clockwise
        7: lambda x: np.swapaxes(x, 0, 1)[::-1, ::-1],  # transverse
        8: lambda x: np.rot90(x, k=1),                 # rotate 90 counter-clockwise
    }
    return np.ascontiguousarray(ops[orientation](a))


def _icc_description(icc: bytes) -> str:
    from PIL import ImageCms

    try:
        prof = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return (ImageCms.getProfileDescription(prof) or "").strip()
    except Exception:
        return ""


def _icc_colour_space(icc: bytes) -> str:
    return icc[16:20].decode("ascii", "replace") if len(icc) >= 20 else ""


def _lcms_to_working(arr: npt.NDArray[np.float32], icc: bytes) -> npt.NDArray[np.float32]:
    """RGB(A) in [0, 1] with profile ``icc`` -> Rec.2020 / sRGB-curve values (8-bit LittleCMS)."""
    from PIL import Image as PILImage
    from PIL import ImageCms

    from pixelpipe.errors import InputError
    from pixelpipe.io.icc import output_profile

    src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    dst = ImageCms.ImageCmsProfile(io.BytesIO(output_profile("rec2020-srgb")))
    rgb8 = np.rint(np.clip(arr[..., :3], 0.0, 1.0) * 255.0).astype(np.uint8)
    try:
        tf = ImageCms.buildTransform(src, dst, "RGB", "RGB",
                                     renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC)
        out = np.asarray(ImageCms.applyTransform(PILImage.fromarray(rgb8, "RGB"), tf))
    except Exception as exc:
        raise InputError(None, f"embedded ICC profile cannot be applied: {exc}") from None
    res = arr.copy()
    res[..., :3] = out.astype(np.float32) / np.float32(255.0)
    return res


def _icc_tags(icc: bytes) -> dict[bytes, bytes]:
    """Tag signature -> tag data of an ICC profile (ICC.1:2010 section 7.3 tag table)."""
    import struct

    if len(icc) < 132:
        return {}
    (count,) = struct.unpack(">I", icc[128:132])
    tags: dict[bytes, bytes] = {}
    for i in range(min(count, 1000)):
        at = 132 + 12 * i
        if at + 12 > len(icc):
            break
        sig, off, size = struct.unpack(">4sII", icc[at:at + 12])
        if off + size <= len(icc):
            tags[sig] = icc[off:off + size]
    return tags


def _s15(b: bytes) -> list[float]:
    import struct

    n = len(b) // 4
    return [v / 65536.0 for v in struct.unpack(f">{n}i", b[:4 * n])]


def _icc_xyz(tag: bytes | None) -> npt.NDArray[np.float64] | None:
    """An ``XYZType`` tag: X, Y, Z as floats (None when not that type)."""
    if tag is None or len(tag) < 20 or tag[:4] != b"XYZ ":
        return None
    return np.array(_s15(tag[8:20]))


def _icc_trc(tag: bytes | None) -> Any:
    """A ``curv`` or ``para`` tag as a function of float64 arrays in [0, 1] (None: other)."""
    import struct

    if tag is None or len(tag) < 12:
        return None
    if tag[:4] == b"curv":
        (n,) = struct.unpack(">I", tag[8:12])
        if n == 0:
            return lambda x: x
        if len(tag) < 12 + 2 * n:
            return None
        if n == 1:
            g = struct.unpack(">H", tag[12:14])[0] / 256.0
            return lambda x: np.power(np.maximum(x, 0.0), g)
        table = np.array(struct.unpack(f">{n}H", tag[12:12 + 2 * n]), np.float64) / 65535.0
        grid = np.linspace(0.0, 1.0, n)
        return lambda x: np.interp(x, grid, table)
    if tag[:4] == b"para":
        (kind,) = struct.unpack(">H", tag[8:10])
        nparams = {0: 1, 1: 3, 2: 4, 3: 5, 4: 7}.get(kind)
        if nparams is None or len(tag) < 12 + 4 * nparams:
            return None
        p = _s15(tag[12:12 + 4 * nparams]) + [0.0] * (7 - nparams)
        g, a, b, c, d, e, f = p
        if kind == 0:
            return lambda x: np.power(np.maximum(x, 0.0), g)
        if kind in (1, 2):
            if a == 0:
                return None
            off = c if kind == 2 else 0.0
            return lambda x: np.where(x >= -b / a, np.power(np.maximum(a * x + b, 0.0), g) + off,
                                      off)
        if kind == 3:
            return lambda x: np.where(x >= d, np.power(np.maximum(a * x + b, 0.0), g), c * x)
        return lambda x: np.where(x >= d, np.power(np.maximum(a * x + b, 0.0), g) + e,
                                  c * x + f)
    return None


def icc_matrix_shaper(icc: bytes) -> tuple[list[Any], npt.NDArray[np.float64]] | None:
    """The TRCs and RGB -> linear Rec.2020 matrix of a matrix/TRC RGB profile.

    ICC.1:2010 section 8.3.4 / F.3: ``linear_c = cTRC(device_c)``, then
    ``XYZ_D50 = [rXYZ gXYZ bXYZ] @ linear`` (the colourants are already
    adapted to the PCS illuminant D50); XYZ is then Bradford-adapted from
    D50 to D65 and converted to linear Rec.2020 (ITU-R BT.2020 primaries).
    This is what a relative-colorimetric transform to a D65 destination
    profile does, in float64 instead of LittleCMS's 8-bit path.

    Returns None when the profile is not a plain matrix/TRC profile (no
    colourant or TRC tags, a TRC of another type, or an ``A2B0``/``A2B1``
    LUT, which ICC gives precedence); such profiles go through LittleCMS.
    """
    from pixelpipe.io.icc import D50 as ICC_D50
    from pixelpipe.ops.color.colorspace import D65, bradford, npm

    tags = _icc_tags(icc)
    if b"A2B0" in tags or b"A2B1" in tags:
        return None
    cols = [_icc_xyz(tags.get(s)) for s in (b"rXYZ", b"gXYZ", b"bXYZ")]
    trcs = [_icc_trc(tags.get(s)) for s in (b"rTRC", b"gTRC", b"bTRC")]
    if any(c is None for c in cols) or any(t is None for t in trcs):
        return None
    m_d50 = np.stack([c for c in cols if c is not None], axis=1)
    m = np.asarray(np.linalg.solve(npm("rec2020"), bradford(ICC_D50, D65) @ m_d50), np.float64)
    if not np.all(np.isfinite(m)):
        return None
    return trcs, m


def _matrix_shaper_linear(arr: npt.NDArray[Any], trcs: list[Any]) -> npt.NDArray[np.float32]:
    """Apply each channel's TRC in float64 (alpha kept): linear device RGB(A), float32."""
    res = np.empty(arr.shape, np.float32)
    for ch in range(3):
        res[..., ch] = trcs[ch](np.clip(arr[..., ch].astype(np.float64), 0.0, 1.0))
    if arr.shape[-1] > 3:
        res[..., 3:] = arr[..., 3:]
    return res


def _chromaticities_matrix(chroma: Any) -> tuple[tuple[float, float, float], ...] | None:
    """Linear RGB of the EXR ``chromaticities`` -> linear Rec.2020 (Bradford to D65)."""
    try:
        c = [float(v) for v in chroma]
    except (TypeError, ValueError):
        return None
    if len(c) != 8 or not all(np.isfinite(c)) or min(c[1], c[3], c[5], c[7]) == 0:
        return None
    from pixelpipe.ops.color.colorspace import D65, bradford, npm, xy_to_xyz

    p = np.array([xy_to_xyz((c[0], c[1])), xy_to_xyz((c[2], c[3])),
                  xy_to_xyz((c[4], c[5]))]).T
    white = (c[6], c[7])
    m_src = p * np.linalg.solve(p, xy_to_xyz(white))
    m = np.linalg.solve(npm("rec2020"), bradford(white, D65) @ m_src)
    return tuple((float(r[0]), float(r[1]), float(r[2])) for r in m)


def source_colour(image: Image) -> SourceColour:
    """The :class:`SourceColour` of a decoded image (rules in the module docstring)."""
    meta = image.meta
    prim = meta.extra.get("primaries")
    if isinstance(prim, str) and prim in SPACES:
        return SourceColour(prim, "linear" if meta.color_encoding == "linear" else "srgb",
                            note=f"{prim} from the decoder")
    if meta.icc_profile and image.channels >= 3 and _icc_colour_space(meta.icc_profile) == "RGB ":
        desc = _icc_description(meta.icc_profile)
        if "srgb" in desc.lower() or "iec61966" in desc.lower():
            return SourceColour("rec709", "srgb", note=f"ICC {desc!r}")
        return SourceColour("icc", "srgb", note=f"ICC {desc!r} via LittleCMS")
    if meta.format == "exr":
        chroma = meta.exr_header.get("chromaticities")
        if chroma is not None:
            m = _chromaticities_matrix(chroma)
            if m is not None:
                return SourceColour("custom", "linear", matrix=m, note="EXR chromaticities")
        return SourceColour("rec709", "linear", note="EXR default Rec.709")
    if meta.sample_type in ("half", "float") or meta.color_encoding == "linear":
        return SourceColour("rec709", "linear", note="linear float")
    return SourceColour("rec709", "srgb", note="untagged: sRGB")


def prepare_input(image: Image) -> tuple[Image, SourceColour]:
    """Apply EXIF orientation and any non-sRGB ICC profile (see module docstring).

    Returns the upright image (ICC-converted pixels replaced by Rec.2020 /
    sRGB-curve values) and its :class:`SourceColour`.
    """
    pixels = image.pixels  # decoded samples when the reader kept them: no float copy here
    meta = image.meta
    orient = _exif_orientation(meta.exif) if meta.format != "raw" else 1
    if orient != 1:
        pixels = apply_orientation(pixels, orient)
        meta = replace(meta, exif=_exif_reset_orientation(meta.exif))
    sc = source_colour(image)
    if sc.primaries == "icc":
        assert meta.icc_profile is not None
        fl = Image(meta=meta, samples=pixels).array if pixels.dtype != np.float32 else pixels
        shaper = icc_matrix_shaper(meta.icc_profile)
        if shaper is not None:
            trcs, m = shaper
            note = sc.note.replace("via LittleCMS", "matrix/TRC in float")
            return Image(_matrix_shaper_linear(fl, trcs), meta), SourceColour(
                "custom", "linear", matrix=tuple((float(r[0]), float(r[1]), float(r[2]))
                                                 for r in m), note=note)
        arr = _lcms_to_working(fl, meta.icc_profile)
        return Image(arr, meta), SourceColour("rec2020", "srgb", note=sc.note)
    if pixels.dtype == np.float32:
        return Image(pixels, meta), sc
    return Image(meta=meta, samples=pixels), sc


def output_meta(image_meta: Any, gamut: str, bit_depth: int | None) -> Any:
    """Metadata of a developed image: output ICC profile, EXIF with orientation 1, bit depth."""
    from pixelpipe.io.icc import output_profile

    meta = replace(image_meta, icc_profile=output_profile(gamut),
                   exif=_exif_reset_orientation(image_meta.exif),
                   color_encoding="srgb" if gamut == "srgb" else "unknown",
                   extra={k: v for k, v in image_meta.extra.items() if k != "primaries"}
                   | {"gamut": gamut})
    if meta.format == "raw":
        meta = replace(meta, format="array")
    if bit_depth == 8:
        meta = replace(meta, sample_type="uint", bit_depth=8)
    elif bit_depth == 16:
        meta = replace(meta, sample_type="uint", bit_depth=16)
    elif bit_depth == 32:
        meta = replace(meta, sample_type="float", bit_depth=32)
    elif meta.sample_type != "uint":
        meta = replace(meta, sample_type="uint", bit_depth=16)
    return meta
