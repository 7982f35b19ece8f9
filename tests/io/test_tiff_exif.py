"""TIFF EXIF: Orientation and the EXIF IFD are read into ``meta.exif``; Make/Model written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image as PILImage
from PIL import ImageOps
from PIL.TiffImagePlugin import IFDRational

import pixelpipe.io as pio
from pixelpipe.image import Image
from pixelpipe.workflows.develop import develop
from pixelpipe.workflows.develop.preset import DevelopPreset

DNG = Path(__file__).parent.parent / "data" / "raw" / "canon_eos_6d.dng"


def _tagged_tiff(path: Path, orientation: int) -> np.ndarray:
    arr = np.random.default_rng(3).integers(0, 256, (6, 10, 3), dtype=np.uint8)
    im = PILImage.fromarray(arr)
    ex = im.getexif()
    ex[274] = orientation
    ex[271] = "Acme"
    sub = ex.get_ifd(0x8769)
    sub[33434] = IFDRational(1, 250)  # ExposureTime
    sub[34855] = 200  # ISOSpeedRatings
    im.save(path, exif=ex.tobytes())
    return arr


def test_tiff_orientation_and_exif_ifd_are_read(tmp_path):
    path = tmp_path / "o6.tif"
    _tagged_tiff(path, 6)
    img = pio.read(path)
    assert img.meta.exif is not None
    ex = PILImage.Exif()
    ex.load(img.meta.exif)
    assert ex[274] == 6 and ex[271] == "Acme"
    sub = ex.get_ifd(0x8769)
    assert float(sub[33434]) == 1 / 250 and sub[34855] == 200


def test_tiff_with_orientation_6_develops_rotated_like_exif_transpose(tmp_path):
    path = tmp_path / "o6.tif"
    _tagged_tiff(path, 6)
    want = np.asarray(ImageOps.exif_transpose(PILImage.open(path)))
    assert want.shape == (10, 6, 3)
    out = develop(path, DevelopPreset(), backend="cpu")
    np.testing.assert_array_equal(np.rint(out.array * 255).astype(np.uint8), want)
    ex = PILImage.Exif()
    ex.load(out.meta.exif)
    assert ex[274] == 1
    # written as TIFF: Orientation 1, Make kept; Pillow sees it upright
    dst = tmp_path / "out.tif"
    pio.write(dst, out)
    back = PILImage.open(dst)
    assert back.getexif()[274] == 1 and back.getexif()[271] == "Acme"
    np.testing.assert_array_equal(np.asarray(ImageOps.exif_transpose(back)), want)


def test_dng_developed_to_tiff_carries_make_and_model(tmp_path):
    out = develop(DNG, DevelopPreset(), backend="cpu")
    dst = tmp_path / "dng.tif"
    pio.write(dst, out)
    ex = PILImage.open(dst).getexif()
    assert ex[271] == "Canon" and ex[272] == "Canon EOS 6D" and ex[274] == 1
    again = PILImage.Exif()
    again.load(pio.read(dst).meta.exif)
    assert again[271] == "Canon" and again[272] == "Canon EOS 6D"


def test_tiff_without_exif_gets_orientation_1_only(tmp_path):
    dst = tmp_path / "plain.tif"
    pio.write(dst, Image(np.zeros((3, 4, 3), np.float32)), bit_depth=8)
    ex = PILImage.open(dst).getexif()
    assert ex[274] == 1 and 271 not in ex
