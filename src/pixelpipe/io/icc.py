"""A writer of matrix/TRC ("matrix-shaper") RGB display ICC profiles, version 4.3.

Why our own: Pillow's ``ImageCms.createProfile`` builds only sRGB (and Lab/XYZ);
Display P3 and Adobe RGB outputs need their own profiles. A matrix-shaper
RGB profile is small and fully specified by ICC.1:2022 (ICC.1:2010 with the
v4.3 header; sections 7 and 9, tag types in 10): a 128-byte header, a tag
table, and these tags:

* ``desc`` and ``cprt``: ``multiLocalizedUnicodeType`` (``mluc``), one en-US record;
* ``wtpt``: the PCS illuminant D50 = XYZ (0.9642, 1.0, 0.8249) (v4 rule for
  display profiles), ``XYZType``;
* ``chad``: the Bradford adaptation matrix from the space's white (D65) to
  D50, ``s15Fixed16ArrayType`` (``sf32``), 3x3 row-major;
* ``rXYZ``, ``gXYZ``, ``bXYZ``: the primaries' colorants, the columns of the
  space's RGB -> XYZ matrix Bradford-adapted to that D50
  (:func:`pixelpipe.ops.color.colorspace.rgb_to_xyz`), ``XYZType``;
* ``rTRC``, ``gTRC``, ``bTRC`` (one shared block): ``parametricCurveType``
  (``para``): function type 3 for the sRGB curve (IEC 61966-2-1:
  ``g = 2.4, a = 1/1.055, b = 0.055/1.055, c = 1/12.92, d = 0.04045``),
  type 0 for a pure power (Adobe RGB (1998): ``g = 563/256``).

Numbers are ``s15Fixed16Number`` (rounded to 1/65536). The profile ID (MD5)
is left zero, which the specification allows. Validation: the tests load
each profile with LittleCMS (Pillow's ``ImageCms``), read its colorants back,
and convert colours through it, comparing with colour-science.
"""

from __future__ import annotations

import datetime
import struct
from functools import cache

import numpy as np

from pixelpipe.ops.color.colorspace import SPACES, bradford, rgb_to_xyz

#: The PCS illuminant of ICC.1 (sec. 7.2.16), XYZ = (0.9642, 1.0, 0.8249), as xy.
ICC_D50_XYZ = (0.9642, 1.0, 0.8249)
D50 = (ICC_D50_XYZ[0] / sum(ICC_D50_XYZ), ICC_D50_XYZ[1] / sum(ICC_D50_XYZ))

#: Output gamut -> (colorspace op name, TRC kind, profile description).
OUTPUT_SPACES: dict[str, tuple[str, tuple[int, tuple[float, ...]], str]] = {
    "srgb": ("rec709", (3, (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045)),
             "pixelpipe sRGB"),
    "display-p3": ("display-p3", (3, (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045)),
                   "pixelpipe Display P3"),
    "adobe-rgb": ("adobe-rgb", (0, (563 / 256,)), "pixelpipe Adobe RGB (1998)"),
    "rec2020-srgb": ("rec2020", (3, (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045)),
                     "pixelpipe Rec.2020 with sRGB curve"),
}


def _s15(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536.0))


def _xyz(v: np.ndarray) -> bytes:
    return b"XYZ \0\0\0\0" + b"".join(_s15(float(c)) for c in v)


def _mluc(text: str) -> bytes:
    s = text.encode("utf-16-be")
    return b"mluc\0\0\0\0" + struct.pack(">II", 1, 12) + b"enUS" + \
        struct.pack(">II", len(s), 28) + s


def _para(kind: int, params: tuple[float, ...]) -> bytes:
    return b"para\0\0\0\0" + struct.pack(">HH", kind, 0) + b"".join(_s15(p) for p in params)


def _pad(b: bytes) -> bytes:
    return b + b"\0" * (-len(b) % 4)


def matrix_shaper_profile(space: str, trc: tuple[int, tuple[float, ...]], description: str,
                          copyright_text: str = "No copyright, use freely") -> bytes:
    """Bytes of an ICC v4.3 RGB display profile for linear ``space`` plus the TRC ``trc``.

    Parameters
    ----------
    space : str
        A :class:`~pixelpipe.ops.color.colorspace.ColorSpace` name with RGB
        primaries (``"rec709"``, ``"display-p3"``, ``"adobe-rgb"``, ``"rec2020"`` ...).
    trc : (int, tuple of float)
        ``parametricCurveType`` function type (0 or 3) and its parameters.
    description : str
        The profile description (``desc`` tag).
    """
    m = rgb_to_xyz(space, D50)
    chad = bradford(SPACES[space][1], D50)
    d50 = np.array(ICC_D50_XYZ)
    curve = _pad(_para(*trc))
    tags: list[tuple[bytes, bytes]] = [
        (b"desc", _pad(_mluc(description))),
        (b"cprt", _pad(_mluc(copyright_text))),
        (b"wtpt", _xyz(d50)),
        (b"chad", b"sf32\0\0\0\0" + b"".join(_s15(float(v)) for v in chad.ravel())),
        (b"rXYZ", _xyz(m[:, 0])),
        (b"gXYZ", _xyz(m[:, 1])),
        (b"bXYZ", _xyz(m[:, 2])),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    table_size = 4 + 12 * len(tags)
    offset = 128 + table_size
    table = struct.pack(">I", len(tags))
    data = b""
    placed: dict[bytes, int] = {}
    for sig, body in tags:
        if body not in placed:
            placed[body] = offset + len(data)
            data += body
        table += sig + struct.pack(">II", placed[body], len(body))
    size = 128 + table_size + len(data)
    now = datetime.datetime(2024, 1, 1)  # fixed: identical bytes on every run
    header = struct.pack(">I", size) + b"\0\0\0\0" + bytes([4, 0x30, 0, 0]) + b"mntr" + \
        b"RGB " + b"XYZ " + struct.pack(">6H", now.year, now.month, now.day, 0, 0, 0) + \
        b"acsp" + b"\0\0\0\0" + b"\0\0\0\0" + b"\0\0\0\0" + b"\0\0\0\0" + b"\0" * 8 + \
        struct.pack(">I", 0) + b"".join(_s15(float(v)) for v in d50) + b"\0\0\0\0" + \
        b"\0" * 16 + b"\0" * 28
    assert len(header) == 128
    return header + table + data


@cache
def output_profile(gamut: str) -> bytes:
    """ICC profile bytes for an output gamut (``"srgb"``, ``"display-p3"``, ``"adobe-rgb"``).

    sRGB uses LittleCMS's built-in sRGB profile (through Pillow's
    ``ImageCms.createProfile("sRGB")``); the others are written by
    :func:`matrix_shaper_profile` and named "pixelpipe Display P3" and
    "pixelpipe Adobe RGB (1998)".

    Raises
    ------
    KeyError
        For an unknown gamut (callers validate names first).
    """
    space, trc, desc = OUTPUT_SPACES[gamut]
    if gamut == "srgb":
        from PIL import ImageCms

        return bytes(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    return matrix_shaper_profile(space, trc, desc)
