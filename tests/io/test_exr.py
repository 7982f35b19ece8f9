"""OpenEXR reading and writing against what the OpenEXR library itself returns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import OpenEXR
import pytest

import pixelpipe.io as pio
from pixelpipe.errors import InputError, OutputError
from pixelpipe.io._exr import luminance_weights
from tests.io.conftest import TEST_DATA, exr_files

EXR = exr_files()
LOCAL = TEST_DATA / "exr"


def _raw(path: Path, part: int = 0) -> dict[str, np.ndarray]:
    f = OpenEXR.File(str(path), separate_channels=True)
    return {k: v.pixels for k, v in f.parts[part].channels.items()}


def test_exr_set_is_complete() -> None:
    assert len(EXR) >= 9
    names = {p.name for p in EXR}
    assert "Beachball_multipart.0001.exr" in names


@pytest.mark.parametrize("path", EXR, ids=[p.name for p in EXR])
def test_every_part_matches_openexr_channel_by_channel(path: Path) -> None:
    """Every part, every single channel (as layer=name), equals OpenEXR's own decode exactly."""
    first = pio.read(path)
    for i, name in enumerate(first.meta.parts or ("",)):
        raw = _raw(path, i)
        for ch, ref in raw.items():
            if ref.shape != raw[next(iter(raw))].shape or ch in ("RY", "BY"):
                continue  # subsampled chroma: checked in test_luminance_chroma
            img = pio.read(path, part=name if name else i, layer=ch)
            assert img.array.shape == (*ref.shape, 1)
            np.testing.assert_array_equal(img.array[..., 0], ref.astype(np.float32),
                                          err_msg=f"{path.name} part {i} channel {ch}")


@pytest.mark.parametrize("path", EXR, ids=[p.name for p in EXR])
def test_default_layer_and_round_trip(path: Path, tmp_path: Path) -> None:
    img = pio.read(path)
    raw = _raw(path)
    m = img.meta
    assert m.format == "exr" and m.color_encoding == "linear"
    if {"R", "G", "B"} <= set(raw):
        want = ["R", "G", "B"] + (["A"] if "A" in raw else [])
        ref = np.stack([raw[c].astype(np.float32) for c in want], axis=2)
        np.testing.assert_array_equal(img.array, ref)
        assert m.sample_type == {np.float16: "half", np.float32: "float"}[raw["R"].dtype.type]
    dw = m.data_window
    assert dw is not None and (dw[2] - dw[0] + 1, dw[3] - dw[1] + 1) == (img.width, img.height)
    out = pio.write(tmp_path / "rt.exr", img, compression="zip")
    back = pio.read(out)
    assert back.meta.sample_type == m.sample_type
    assert back.meta.data_window == m.data_window
    assert back.meta.display_window == m.display_window
    # lossless in its sample type, NaN and Inf included
    np.testing.assert_array_equal(back.array, img.array)


def test_beachball_multipart_parts_and_errors() -> None:
    path = LOCAL / "Beachball_multipart.0001.exr"
    img = pio.read(path)
    assert len(img.meta.parts) == 10
    assert img.meta.parts[0] == "rgba_right"
    assert "depth_left" in img.meta.parts
    depth = pio.read(path, part="depth_left")
    assert depth.channels == 1 and depth.meta.channel_names == ("Z",)
    np.testing.assert_array_equal(depth.array[..., 0], _raw(path, img.meta.parts.index(
        "depth_left"))["Z"].astype(np.float32))
    assert pio.read(path, part=9).meta.extra["part"] == 9
    with pytest.raises(InputError, match="depth_left") as e:
        pio.read(path, part="nope")
    assert "Beachball_multipart" in str(e.value)
    with pytest.raises(InputError, match="10 part"):
        pio.read(path, part=10)


def test_beachball_singlepart_layers() -> None:
    path = LOCAL / "Beachball_singlepart.0001.exr"
    img = pio.read(path)
    assert {"", "left", "disparityL", "forward.left"} <= set(img.meta.layers)
    left = pio.read(path, layer="left")
    raw = _raw(path)
    assert left.meta.channel_names == ("left.R", "left.G", "left.B", "left.A")
    np.testing.assert_array_equal(left.array[..., 1], raw["left.G"].astype(np.float32))
    disp = pio.read(path, layer="disparityL")  # two channels -> padded to three
    assert disp.channels == 3 and disp.meta.channel_names == ("disparityL.x", "disparityL.y")
    np.testing.assert_array_equal(disp.array[..., 0], raw["disparityL.x"].astype(np.float32))
    assert not disp.array[..., 2].any()
    with pytest.raises(InputError, match=r"'forward\.left'"):
        pio.read(path, layer="missing")


def test_display_window() -> None:
    img = pio.read(LOCAL / "DisplayWindow_t08.exr")
    hdr = OpenEXR.File(str(LOCAL / "DisplayWindow_t08.exr"), header_only=True).header()
    dw = tuple(int(v) for v in (*hdr["dataWindow"][0], *hdr["dataWindow"][1]))
    disp = tuple(int(v) for v in (*hdr["displayWindow"][0], *hdr["displayWindow"][1]))
    assert img.meta.data_window == dw and img.meta.display_window == disp
    assert dw != disp
    assert img.array.shape[:2] == (dw[3] - dw[1] + 1, dw[2] - dw[0] + 1)


def test_all_half_values_bit_exact(tmp_path: Path) -> None:
    path = LOCAL / "TestImages_AllHalfValues.exr"
    img = pio.read(path)
    raw = _raw(path)
    bits = np.stack([raw[c] for c in "RGB"], axis=2).view(np.uint16)
    assert np.unique(bits).size == 65536  # the file really holds every half
    out = pio.write(tmp_path / "h.exr", img, compression="piz")
    back = _raw(out)
    np.testing.assert_array_equal(np.stack([back[c] for c in "RGB"], axis=2).view(np.uint16),
                                  bits)


def test_nan_inf_preserved(tmp_path: Path) -> None:
    img = pio.read(LOCAL / "TestImages_BrightRingsNanInf.exr")
    a = img.array
    assert np.isnan(a).any() and np.isposinf(a).any()
    back = pio.read(pio.write(tmp_path / "n.exr", img))
    np.testing.assert_array_equal(np.isnan(back.array), np.isnan(a))
    np.testing.assert_array_equal(back.array[~np.isnan(a)], a[~np.isnan(a)])


def test_wide_float_range_float32(tmp_path: Path) -> None:
    img = pio.read(LOCAL / "TestImages_WideFloatRange.exr")
    assert img.meta.sample_type == "float" and img.meta.bit_depth == 32
    finite = img.array[np.isfinite(img.array)]
    assert finite.max() > 65504.0 or np.abs(finite[finite != 0]).min() < 6e-8
    back = pio.read(pio.write(tmp_path / "w.exr", img))
    assert back.meta.sample_type == "float"
    np.testing.assert_array_equal(back.array, img.array)


def test_tiled_mipmapped_reads_full_resolution_level() -> None:
    path = LOCAL / "MultiResolution_ColorCodedLevels.exr"
    img = pio.read(path)
    info = pio.info(path)
    assert info.tiled and info.parts[0].level_mode == "mipmap"
    assert img.array.shape[:2] == (info.height, info.width)
    assert img.meta.extra["storage"] == "tiledimage"


def test_luminance_chroma() -> None:
    """Y/RY/BY -> RGB by OpenEXR's RgbaYca convention, with Rec.709 luminance weights."""
    path = LOCAL / "Chromaticities_Rec709_YC.exr"
    img = pio.read(path)
    raw = _raw(path)
    assert img.channels == 3
    y = raw["Y"].astype(np.float64)
    yw = luminance_weights(None)
    rgb = img.array.astype(np.float64)
    assert img.meta.sample_type == "half"  # RGB rounded to half, as OpenEXR's Rgba interface
    # luminance of the reconstruction is the stored Y, up to the rounding of R, G, B to
    # half (relative 2**-11 each): tolerance 2e-3 relative
    np.testing.assert_allclose(rgb @ yw, y, rtol=2e-3, atol=1e-5)
    # at chroma sample positions the stored chroma is reproduced exactly
    ry = raw["RY"].astype(np.float64)
    ys = y[::2, ::2]
    ok = ys > 1e-3
    # (R / Y - 1 with R rounded to half: absolute error <= 2**-11 * R / Y)
    ratio = rgb[::2, ::2, 0] / np.where(ok, ys, 1)
    np.testing.assert_allclose((ratio - 1)[ok], ry[ok], rtol=0, atol=1e-3 * ratio[ok].max())


def test_luminance_weights_match_colour_science() -> None:
    import colour
    m = colour.RGB_COLOURSPACES["ITU-R BT.709"].matrix_RGB_to_XYZ
    np.testing.assert_allclose(luminance_weights(None), m[1], rtol=1e-4)
    aces = colour.RGB_COLOURSPACES["ACES2065-1"]
    chroma = (*aces.primaries.ravel(), *aces.whitepoint)
    np.testing.assert_allclose(luminance_weights(chroma), aces.matrix_RGB_to_XYZ[1], atol=2e-4)


def test_header_attributes_kept(tmp_path: Path) -> None:
    img = pio.read(LOCAL / "Chromaticities_Rec709_YC.exr")
    assert "owner" in img.meta.exr_header
    back = pio.read(pio.write(tmp_path / "o.exr", img))
    assert back.meta.exr_header["owner"] == img.meta.exr_header["owner"]
    assert back.meta.extra["compression"] == "piz"  # the source's compression by default


@pytest.mark.parametrize("compression", ["none", "rle", "zips", "zip", "piz", "zstd"])
@pytest.mark.parametrize("bit_depth", ["half", "float"])
def test_lossless_compressions(compression: str, bit_depth: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(0, 100, (19, 23, 4)).astype(np.float32)
    a[0, 0, 0], a[1, 1, 1], a[2, 2, 2] = np.nan, np.inf, -np.inf
    out = pio.write(tmp_path / "c.exr", a, bit_depth=bit_depth, compression=compression)
    back = pio.read(out)
    want = a.astype(np.float16).astype(np.float32) if bit_depth == "half" else a
    np.testing.assert_array_equal(back.array, want)
    assert back.meta.extra["compression"] == compression


def test_info_multipart() -> None:
    info = pio.info(LOCAL / "Beachball_multipart.0001.exr")
    assert info.format == "exr" and len(info.parts) == 10
    text = str(info)
    assert "rgba_right" in text and "data window" in text


def test_exr_write_errors(tmp_path: Path) -> None:
    a = np.zeros((4, 4, 3), np.float32)
    with pytest.raises(OutputError, match="EXR cannot store"):
        pio.write(tmp_path / "x.exr", a, bit_depth=8)
    with pytest.raises(OutputError, match="unknown EXR compression"):
        pio.write(tmp_path / "x.exr", a, compression="gzip")
    assert list(tmp_path.iterdir()) == []
