"""Camera RAW through rawpy/LibRaw: linear Rec.2020, orientation, metadata, failures."""

from pathlib import Path

import numpy as np
import pytest
import rawpy

import pixelpipe.io as pio
from pixelpipe.errors import InputError, OutputError
from pixelpipe.io.raw import exif_summary
from pixelpipe.ops.color.colorspace import conversion_matrix


@pytest.fixture(scope="module")
def dng(data_dir) -> Path:
    return data_dir / "raw" / "canon_eos_6d.dng"


def test_dng_reads_as_linear_rec2020_with_metadata(dng):
    im = pio.read(dng)
    assert im.array.shape == (816, 1224, 3) and im.array.dtype == np.float32
    assert 0.0 <= im.array.min() and im.array.max() <= 1.0
    m = im.meta
    assert (m.format, m.color_encoding, m.sample_type, m.bit_depth) == ("raw", "linear",
                                                                       "uint", 16)
    assert m.extra["primaries"] == "rec2020" and m.extra["white_point"] == "D65"
    assert m.extra["make"] == "Canon" and m.extra["model"] == "Canon EOS 6D"
    tags = exif_summary(m.exif)
    assert tags[271] == "Canon" and tags[272] == "Canon EOS 6D" and tags[274] == 1
    assert tags["exif:34855"] == 1000  # ISO


def test_dng_values_are_libraw_linear_srgb_converted_to_rec2020(dng):
    """Cross-check the colour path: LibRaw's linear sRGB output, converted with the
    colorspace matrix, equals our Rec.2020 output within 16-bit quantisation
    (pixels clipped in either output are excluded)."""
    with rawpy.imread(str(dng)) as raw:
        srgb = raw.postprocess(gamma=(1, 1), no_auto_bright=True, output_bps=16,
                               use_camera_wb=True, output_color=rawpy.ColorSpace.sRGB)
    lin709 = srgb.astype(np.float64) / 65535.0
    ours = pio.read(dng).array.astype(np.float64)
    ok = (srgb > 0).all(-1) & (srgb < 65535).all(-1) & (ours > 0).all(-1) & (ours < 1).all(-1)
    assert ok.mean() > 0.5
    expected = lin709[ok] @ conversion_matrix("rec709", "rec2020").T
    # 3 quantisation steps of 16 bits (two roundings and LibRaw's 4-digit matrices)
    assert np.abs(ours[ok] - expected).max() < 3 / 65535 + 1e-4


def test_orientation_is_applied(dng, tmp_path):
    data = bytearray(dng.read_bytes())
    entry = b"\x12\x01\x03\x00\x01\x00\x00\x00\x01\x00"  # IFD0 Orientation = 1 (SHORT)
    assert data.count(entry) == 1
    i = data.index(entry)
    data[i + 8] = 6  # 90 degrees clockwise to view
    rotated = tmp_path / "rotated.dng"
    rotated.write_bytes(bytes(data))
    upright = pio.read(dng).array
    im = pio.read(rotated)
    assert im.meta.extra["raw_flip"] == 6
    np.testing.assert_array_equal(im.array, np.rot90(upright, k=-1))
    assert pio.info(rotated).width == 816


@pytest.mark.parametrize("cut", [5000, 200_000])
def test_truncated_raw_is_an_input_error(dng, tmp_path, cut):
    bad = tmp_path / "bad.dng"
    bad.write_bytes(dng.read_bytes()[:cut])
    with pytest.raises(InputError, match=r"bad\.dng"):
        pio.read(bad)


def test_not_a_raw_file_and_budget(dng, tmp_path):
    junk = tmp_path / "junk.cr2"
    junk.write_bytes(b"not a raw file at all" * 10)
    with pytest.raises(InputError, match=r"junk\.cr2"):
        pio.read(junk)
    with pytest.raises(InputError, match="pixel budget"):
        pio.read(dng, pixel_budget=1000)


def test_raw_is_read_only(tmp_path):
    with pytest.raises(OutputError, match="read only"):
        pio.write(tmp_path / "out.dng", np.zeros((2, 2, 3), np.float32))
