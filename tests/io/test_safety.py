"""Atomic writes, overwrite protection, pixel budget, decoder warnings, error messages."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

import pixelpipe
import pixelpipe.io as pio
from pixelpipe.errors import InputError, OutputError
from tests.io.conftest import TEST_DATA

A = np.random.default_rng(0).random((8, 9, 3)).astype(np.float32)


def test_public_names() -> None:
    assert pixelpipe.read is pio.read and pixelpipe.write is pio.write
    assert pixelpipe.info is pio.info
    assert pio.formats.format_of("a.TIF") == "tiff"


@pytest.mark.parametrize("name", ["x.bmp", "noext"])
def test_unknown_extension(name: str, tmp_path: Path) -> None:
    p = tmp_path / name
    p.write_bytes(b"data")
    with pytest.raises(InputError, match=name):
        pio.read(p)
    with pytest.raises(OutputError, match=name):
        pio.write(tmp_path / f"o{name}", A)


def test_missing_file() -> None:
    with pytest.raises(InputError, match="no such file"):
        pio.read("does-not-exist.png")


def test_no_overwrite_without_permission(tmp_path: Path) -> None:
    p = pio.write(tmp_path / "a.png", A)
    before = p.read_bytes()
    with pytest.raises(OutputError, match="already exists"):
        pio.write(p, A * 0.5)
    assert p.read_bytes() == before
    pio.write(p, A * 0.5, overwrite=True)
    assert p.read_bytes() != before


def test_input_is_never_overwritten(tmp_path: Path) -> None:
    src = pio.write(tmp_path / "in.tif", A)
    img = pio.read(src)
    before = src.read_bytes()
    with pytest.raises(OutputError, match="input file"):
        pio.write(src, img.with_array(img.array * 0.5), source=src)
    with pytest.raises(OutputError, match="input file"):
        pio.write(tmp_path / "." / "in.tif", img, source=str(src))
    assert src.read_bytes() == before
    pio.write(src, img.with_array(img.array * 0.5), source=src, overwrite=True)
    assert src.read_bytes() != before


def test_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tifffile

    def boom(path: Path, *args: object, **kwargs: object) -> None:
        Path(path).write_bytes(b"partial")
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(tifffile, "imwrite", boom)
    with pytest.raises(OutputError, match="disk on fire"):
        pio.write(tmp_path / "x.tif", A)
    assert list(tmp_path.iterdir()) == []
    # a failed overwrite keeps the old file intact
    monkeypatch.undo()
    good = pio.write(tmp_path / "x.tif", A)
    before = good.read_bytes()
    monkeypatch.setattr(tifffile, "imwrite", boom)
    with pytest.raises(OutputError):
        pio.write(good, A * 0.1, overwrite=True)
    assert good.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["x.tif"]


def test_bad_options(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="bit depth"):
        pio.write(tmp_path / "a.png", A, bit_depth=12)
    with pytest.raises(OutputError, match="JPEG cannot store"):
        pio.write(tmp_path / "a.jpg", A, bit_depth=16)
    with pytest.raises(OutputError, match="alpha"):
        pio.write(tmp_path / "a.jpg", np.zeros((4, 4, 4), np.float32))
    with pytest.raises(OutputError, match="quality"):
        pio.write(tmp_path / "a.jpg", A, quality=0)
    with pytest.raises(OutputError, match="compression"):
        pio.write(tmp_path / "a.tif", A, compression="rar")
    with pytest.raises(OutputError, match="does not exist"):
        pio.write(tmp_path / "nodir" / "a.png", A)
    with pytest.raises(InputError, match="only to OpenEXR"):
        pio.read(TEST_DATA / "photos" / "moon.png", part=1)
    assert list(tmp_path.iterdir()) == []


def test_pixel_budget_checked_before_decoding(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    moon = TEST_DATA / "photos" / "moon.png"  # 512 x 512
    with pytest.raises(InputError, match="pixel budget"):
        pio.read(moon, pixel_budget=512 * 512 - 1)
    assert pio.read(moon, pixel_budget=512 * 512).width == 512
    monkeypatch.setenv("PIXELPIPE_PIXEL_BUDGET", "1000")
    for p in (moon, TEST_DATA / "photos" / "rocket.jpg",
              TEST_DATA / "exr" / "TestImages_stripes.exr",
              pio.write(tmp_path / "t.tif", np.zeros((40, 30, 3), np.float32))):
        with pytest.raises(InputError, match="pixel budget") as e:
            pio.read(p)
        assert p.name in str(e.value)
    monkeypatch.setenv("PIXELPIPE_PIXEL_BUDGET", "lots")
    with pytest.raises(InputError, match="PIXELPIPE_PIXEL_BUDGET"):
        pio.read(moon)


def test_huge_header_rejected_without_allocation(tmp_path: Path) -> None:
    """A PNG whose header claims 100000 x 100000 pixels fails on the header alone."""
    import struct
    import zlib

    p = tmp_path / "bomb.png"
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    chunk = (struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr
             + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr)))
    idat = zlib.compress(b"\0" * 64)
    idat_chunk = (struct.pack(">I", len(idat)) + b"IDAT" + idat
                  + struct.pack(">I", zlib.crc32(b"IDAT" + idat)))
    iend = struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk + idat_chunk + iend)
    with pytest.raises(InputError, match="pixel budget"):
        pio.read(p, pixel_budget=10**9)


def test_truncated_files_fail_cleanly(tmp_path: Path) -> None:
    for name in ("chelsea.png", "rocket.jpg"):
        data = (TEST_DATA / "photos" / name).read_bytes()
        p = tmp_path / name
        p.write_bytes(data[: len(data) // 2])
        with pytest.raises(InputError, match=name):
            pio.read(p)
    t = pio.write(tmp_path / "t.tif", A)
    t.write_bytes(t.read_bytes()[:300])
    with pytest.raises(InputError, match=r"t\.tif"):
        pio.read(t)


def test_decoder_warning_is_a_failure(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A decoder that warns (Python warning or tifffile log record) fails the read."""
    import logging
    import warnings

    import tifffile
    from PIL import ImageFile

    load = ImageFile.ImageFile.load

    def warn_load(self: ImageFile.ImageFile) -> object:
        warnings.warn("Truncated File Read", UserWarning, stacklevel=1)
        return load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", warn_load)
    with pytest.raises(InputError, match=r"chelsea\.png: decoder warning: Truncated"):
        pio.read(TEST_DATA / "photos" / "chelsea.png")
    monkeypatch.undo()

    asarray = tifffile.TiffPage.asarray

    def log_asarray(self: tifffile.TiffPage, *a: object, **k: object) -> object:
        logging.getLogger("tifffile").warning("TiffPage 0: corrupted tile")
        return asarray(self, *a, **k)

    src = pio.write(tmp_path / "w.tif", A)
    monkeypatch.setattr(tifffile.TiffPage, "asarray", log_asarray)
    with pytest.raises(InputError, match=r"w\.tif: decoder warning: TiffPage 0: corrupted"):
        pio.read(src)


def test_missing_openexr_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    monkeypatch.setitem(sys.modules, "OpenEXR", None)
    with pytest.raises(InputError, match=r"pip install 'pixelpipe\[exr\]'"):
        pio.read(TEST_DATA / "exr" / "TestImages_stripes.exr")
    with pytest.raises(OutputError, match=r"pixelpipe\[exr\]"):
        pio.write(tmp_path / "a.exr", A)
    assert list(tmp_path.iterdir()) == []


def test_info_png_jpeg() -> None:
    i = pio.info(TEST_DATA / "photos" / "rocket.jpg")
    assert (i.format, i.width, i.height, i.channels, i.bit_depth) == ("jpeg", 640, 427, 3, 8)
    assert i.has_icc and "640 x 427" in str(i)
    m = pio.info(TEST_DATA / "photos" / "moon.png")
    assert m.channels == 1 and m.color_encoding == "srgb"


def test_png_icc_exif_round_trip(tmp_path: Path) -> None:
    src = TEST_DATA / "photos" / "rocket.jpg"
    icc = PILImage.open(src).info["icc_profile"]
    exif = PILImage.Exif()
    exif[0x010F] = "pixelpipe-test"  # Make
    p = tmp_path / "e.png"
    PILImage.fromarray((A * 255).astype(np.uint8)).save(p, icc_profile=icc, exif=exif.tobytes())
    img = pio.read(p)
    assert img.meta.icc_profile == icc and img.meta.exif
    back = pio.read(pio.write(tmp_path / "f.jpg", img))
    assert back.meta.icc_profile == icc
    with PILImage.open(tmp_path / "f.jpg") as im:
        assert im.getexif()[0x010F] == "pixelpipe-test"
