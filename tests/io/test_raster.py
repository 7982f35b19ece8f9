"""PNG, JPEG and TIFF: against OpenCV / tifffile decodes, and round trips."""

from __future__ import annotations

from pathlib import Path

import cv2
import imagecodecs
import numpy as np
import pytest
import tifffile

import pixelpipe.io as pio
from pixelpipe.image import Image, ImageMeta
from tests.io.conftest import TEST_DATA

PHOTOS = TEST_DATA / "photos"


def _cv(path: Path) -> np.ndarray:
    a = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert a is not None
    if a.ndim == 3:
        a = a[:, :, [2, 1, 0, 3][: a.shape[2]]]
    return a


@pytest.mark.parametrize("name", ["chelsea.png", "coffee.png", "moon.png"])
def test_png_matches_opencv_and_round_trips(name: str, tmp_path: Path) -> None:
    img = pio.read(PHOTOS / name)
    ref = _cv(PHOTOS / name)
    assert img.meta.bit_depth == 8 and img.meta.color_encoding == "srgb"
    np.testing.assert_array_equal(np.rint(img.array * 255).astype(np.uint8).squeeze(), ref)
    back = pio.read(pio.write(tmp_path / "o.png", img))
    assert back.meta.bit_depth == 8
    np.testing.assert_array_equal(back.array, img.array)


def test_jpeg_matches_opencv_and_round_trip_tolerance(tmp_path: Path) -> None:
    path = PHOTOS / "rocket.jpg"
    img = pio.read(path)
    ref = _cv(path).astype(np.float32) / 255
    # Pillow and OpenCV may link different libjpeg builds: IDCT/upsampling differ by
    # a few codes. Tolerance: max 3/255, mean 0.5/255.
    d = np.abs(img.array - ref)
    assert d.max() <= 3 / 255 + 1e-6 and d.mean() < 0.5 / 255
    assert img.meta.icc_profile and img.meta.color_encoding == "unknown"  # Adobe RGB profile
    out = pio.write(tmp_path / "o.jpg", img)  # quality 95, 4:4:4
    back = pio.read(out)
    assert back.meta.icc_profile == img.meta.icc_profile
    # JPEG round trip at quality 95, 4:4:4 (lossy by design). Measured on this photo:
    # mean error 0.60/255, max 17/255 (at sharp edges), PSNR 46 dB. Tolerance: mean
    # < 1/255, max < 24/255, PSNR > 42 dB.
    e = np.abs(back.array - img.array)
    psnr = 10 * np.log10(1.0 / float(np.mean(e.astype(np.float64) ** 2)))
    assert e.mean() < 1 / 255 and e.max() < 24 / 255 and psnr > 42, (e.mean(), e.max(), psnr)


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_png16_all_layouts_bit_exact(channels: int, tmp_path: Path) -> None:
    rng = np.random.default_rng(channels)
    shape = (13, 17) if channels == 1 else (13, 17, channels)
    raw = rng.integers(0, 65536, shape, dtype=np.uint16)
    src = tmp_path / "src.png"
    src.write_bytes(imagecodecs.png_encode(raw))
    img = pio.read(src)
    assert img.meta.bit_depth == 16 and img.meta.sample_type == "uint"
    ref = _cv(src)
    if channels == 2:  # grey + alpha -> RGBA
        g, a = raw[..., 0], raw[..., 1]
        want = np.stack([g, g, g, a], axis=2)
    else:
        want = ref.reshape(raw.shape) if channels != 1 else raw
        np.testing.assert_array_equal(ref.reshape(raw.shape), raw)
    np.testing.assert_array_equal(np.rint(img.array * 65535).astype(np.uint16).squeeze(), want)
    out = pio.write(tmp_path / "o.png", img)
    np.testing.assert_array_equal(imagecodecs.png_decode(out.read_bytes()).squeeze(),
                                  want.squeeze())
    info = pio.info(out)
    assert info.bit_depth == 16


TIFF_CASES = [
    (np.uint8, 3, "zlib", None), (np.uint8, 1, "lzw", None), (np.uint16, 3, "zstd", None),
    (np.uint16, 4, None, (32, 32)), (np.float16, 3, "zlib", None),
    (np.float32, 1, None, None), (np.float32, 4, "lzw", (16, 16)),
]


@pytest.mark.parametrize(("dtype", "channels", "compression", "tile"), TIFF_CASES)
@pytest.mark.parametrize("bigtiff", [False, True])
def test_tiff_against_tifffile(dtype: type, channels: int, compression: str | None,
                               tile: tuple[int, int] | None, bigtiff: bool,
                               tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    shape = (37, 45) if channels == 1 else (37, 45, channels)
    if np.dtype(dtype).kind == "u":
        raw = rng.integers(0, np.iinfo(dtype).max + 1, shape).astype(dtype)
    else:
        raw = rng.normal(0, 10, shape).astype(dtype)
        raw.flat[0], raw.flat[1] = np.nan, np.inf
    src = tmp_path / "src.tif"
    kw = {"extrasamples": ("unassalpha",)} if channels == 4 else {}
    tifffile.imwrite(src, raw, photometric="minisblack" if channels == 1 else "rgb",
                     compression=compression, tile=tile, bigtiff=bigtiff, **kw)
    img = pio.read(src)
    if np.dtype(dtype).kind == "u":
        want = raw.astype(np.float32) / np.iinfo(dtype).max
        assert img.meta.color_encoding == "srgb"
    else:
        want = raw.astype(np.float32)
        assert img.meta.color_encoding == "linear"
    np.testing.assert_array_equal(img.array.squeeze(), want)
    assert img.meta.dtype == np.dtype(dtype)
    assert img.meta.extra["tiled"] == (tile is not None)
    assert img.meta.extra["bigtiff"] == bigtiff
    out = pio.write(tmp_path / "o.tif", img)  # keeps sample type, compression, tiling
    with tifffile.TiffFile(out) as t:
        page = t.pages.first
        assert page.is_tiled == (tile is not None)
        back = page.asarray()
    assert back.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(back, raw)


def test_tiff_48bit_rgb_photometric_and_info(tmp_path: Path) -> None:
    raw = np.arange(3 * 5 * 7, dtype=np.uint16).reshape(5, 7, 3) * 600
    src = tmp_path / "a.tiff"
    tifffile.imwrite(src, raw, photometric="rgb", compression="zlib")
    info = pio.info(src)
    assert (info.width, info.height, info.channels, info.bit_depth) == (7, 5, 3, 16)
    assert info.compression in ("adobe_deflate", "deflate")
    img = pio.read(src)
    out = pio.write(tmp_path / "b.tif", img, compression="lzw")
    assert pio.info(out).compression == "lzw"
    np.testing.assert_array_equal(tifffile.imread(out), raw)


def test_bit_depth_conversion_rounds_and_clips(tmp_path: Path) -> None:
    a = np.array([[-0.5, 0.0, 0.5 / 255, 1.5 / 255, 0.5, 1.0, 2.0, np.nan]], np.float32)
    img = Image(a, ImageMeta(sample_type="float", bit_depth=32))
    out8 = pio.write(tmp_path / "a.tif", img, bit_depth=8)
    got = tifffile.imread(out8)
    # round half to even on exact halves; 0.5 * 255 = 127.5 -> 128
    np.testing.assert_array_equal(got, [[0, 0, 0, 2, 128, 255, 255, 0]])
    out16 = pio.write(tmp_path / "b.png", img, bit_depth=16)
    assert imagecodecs.png_decode(out16.read_bytes()).dtype == np.uint16
    outh = pio.write(tmp_path / "c.tif", img, bit_depth="half")
    assert tifffile.imread(outh).dtype == np.float16


def test_default_type_for_format_that_cannot_hold_source(tmp_path: Path) -> None:
    exr = pio.read(TEST_DATA / "exr" / "TestImages_stripes.exr")
    png = pio.read(pio.write(tmp_path / "s.png", exr))
    assert png.meta.bit_depth == 16  # float source -> 16-bit PNG
    jpg = pio.read(pio.write(tmp_path / "s.jpg", exr.with_array(exr.array[..., :3])))
    assert jpg.meta.bit_depth == 8


def test_sample_path() -> None:
    p = pio.sample_path()
    assert p.is_file()
    img = pio.read(p)
    assert img.array.shape == (427, 640, 3)
