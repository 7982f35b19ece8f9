"""The develop workflow: stage order, colour in/out, cpu vs wgpu, goldens, properties."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage
from PIL import ImageCms

import pixelpipe.io as pio
from pixelpipe.image import Image, ImageMeta
from pixelpipe.io.icc import output_profile
from pixelpipe.ops.color.colorspace import conversion_matrix, rgb_to_xyz
from pixelpipe.workflows.develop import build_pipeline, develop, develop_many, load_input
from pixelpipe.workflows.develop.colour import SourceColour, apply_orientation
from pixelpipe.workflows.develop.preset import DevelopPreset, example_presets, load_preset
from pixelpipe.workflows.develop.stages import REFERENCE_MIRED, white_balance_op

DATA = Path(__file__).parent.parent / "data"
GOLDEN = DATA / "golden"
PHOTOS = sorted((DATA / "photos").glob("*.png")) + sorted((DATA / "photos").glob("*.jpg"))
DNG = DATA / "raw" / "canon_eos_6d.dng"
#: Longest side of the downscaled inputs (CI time).
SMALL = 96


def _small(path: Path) -> Image:
    """Decode and downscale (box filter on integer factors, then crop) for time."""
    img = pio.read(path)
    a = img.array
    f = max(1, max(a.shape[:2]) // SMALL)
    h, w = (a.shape[0] // f) * f, (a.shape[1] // f) * f
    a = a[:h, :w].reshape(h // f, f, w // f, f, a.shape[2]).mean(axis=(1, 3))
    return Image(a.astype(np.float32), img.meta)


def _u8(a: np.ndarray) -> np.ndarray:
    return np.rint(np.clip(np.nan_to_num(a), 0, 1) * 255).astype(np.int32)


INPUTS = [*PHOTOS, DNG]
PRESETS = sorted(example_presets())


@pytest.mark.parametrize("preset_name", PRESETS)
@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.name)
def test_cpu_and_wgpu_agree_after_8bit_encoding(path, preset_name, wgpu_backend):
    preset = load_preset(example_presets()[preset_name])
    src = _small(path)
    cpu = develop(src, preset, backend="cpu").array
    gpu = develop(src, preset, backend=wgpu_backend).array
    d = np.abs(_u8(cpu) - _u8(gpu))
    # the bound: max 2/255 and mean 0.25/255 after 8-bit encoding
    assert d.max() <= 2, f"max difference {d.max()}/255"
    assert d.mean() <= 0.25, f"mean difference {d.mean():.3f}/255"


@pytest.mark.parametrize("preset_name", PRESETS)
def test_golden_images_from_the_reference_path(preset_name):
    """Goldens: 16-bit PNGs of the CPU reference on the downscaled coffee photo and the DNG.

    Regenerate with PIXELPIPE_REGEN_GOLDEN=1. Tolerance: 2/65535 per sample
    (16-bit rounding of values that differ by float32 round-off between
    NumPy builds), mean below 0.1/65535.
    """
    preset = load_preset(example_presets()[preset_name])
    for src in (DATA / "photos" / "coffee.png", DNG):
        out = develop(_small(src), preset, backend="cpu").array
        got = np.rint(np.clip(out, 0, 1) * 65535).astype(np.uint16)
        gold = GOLDEN / f"{src.stem}-{preset_name}.png"
        if os.environ.get("PIXELPIPE_REGEN_GOLDEN") == "1":
            pio.write(gold, got.astype(np.float32) / 65535, bit_depth=16, overwrite=True)
        want = np.rint(pio.read(gold).array * 65535).astype(np.int64)
        d = np.abs(got.astype(np.int64) - want)
        assert d.max() <= 2 and d.mean() < 0.1, f"{gold.name}: max {d.max()}, mean {d.mean()}"


@pytest.mark.parametrize("bits", [8, 16])
def test_all_neutral_preset_returns_input_bytes(tmp_path, bits):
    rng = np.random.default_rng(5)
    top = 255 if bits == 8 else 65535
    arr = rng.integers(0, top + 1, (23, 31, 3)).astype(np.uint8 if bits == 8 else np.uint16)
    src = tmp_path / "in.png"
    pio.write(src, arr.astype(np.float32) / top, bit_depth=bits)
    preset = load_preset(example_presets()["neutral"])
    assert len(build_pipeline(preset, SourceColour("rec709", "srgb"))) == 0
    out = develop(src, preset, backend="cpu")
    dst = tmp_path / "out.png"
    pio.write(dst, out)
    back = np.rint(pio.read(dst).array * top).astype(np.int64)
    np.testing.assert_array_equal(back, arr.astype(np.int64))


def test_exposure_plus_one_doubles_linear_values():
    rng = np.random.default_rng(2)
    lin = rng.uniform(0.01, 0.4, (9, 13, 3)).astype(np.float32)
    img = Image(lin, ImageMeta(format="exr", color_encoding="linear", sample_type="float"))
    preset = DevelopPreset.model_validate({"tone": {"exposure": 1.0}})
    out = develop(img, preset, backend="cpu").array  # sRGB-encoded Rec.709
    srgb_decoded = np.where(out <= 0.04045, out / 12.92, ((out + 0.055) / 1.055) ** 2.4)
    np.testing.assert_allclose(srgb_decoded, 2 * lin, rtol=2e-5, atol=1e-6)


def test_stage_order_and_skipping():
    heavy = load_preset(example_presets()["heavy"])
    names = [op.op_name for op in build_pipeline(heavy, SourceColour("rec709", "srgb")).ops]
    order = ["white_balance", "exposure", "dehaze", "denoise", "tone", "tone_curve", "hsl",
             "color_grading", "lut3d", "texture", "clarity", "sharpen", "grain", "vignette"]
    present = [n for n in names if n in order]
    # the heavy preset turns every stage on: each appears once, in the fixed order
    assert present == order
    assert names[0] == "transfer" and names[-1] == "transfer"
    only_exposure = DevelopPreset.model_validate({"tone": {"exposure": 0.5}})
    names = [op.op_name for op in build_pipeline(only_exposure).ops]
    assert names == ["transfer", "colorspace", "exposure", "colorspace", "transfer"]


def test_grey_input_becomes_rgb_when_a_colour_stage_runs(tmp_path):
    moon = DATA / "photos" / "moon.png"
    grey = pio.read(moon)
    assert grey.channels == 1
    warm = develop(moon, load_preset(example_presets()["warm-film"]), backend="cpu")
    assert warm.channels == 3 and warm.meta.channel_names == ("R", "G", "B")
    a = warm.array
    # a warm look tints the grey: the channels differ (before it, only channel 0 was kept)
    assert np.abs(a[..., 0] - a[..., 2]).mean() > 1e-3
    assert not np.array_equal(a[..., 0], a[..., 1])
    # the same result as developing the grey copied to R, G and B by hand
    rgb = Image(np.repeat(grey.array, 3, axis=-1), grey.meta)
    np.testing.assert_allclose(a, develop(rgb, load_preset(example_presets()["warm-film"]),
                                          backend="cpu").array, rtol=0, atol=1e-6)
    # the all-neutral preset keeps a grey image grey, byte for byte
    neutral = develop(moon, load_preset(example_presets()["neutral"]), backend="cpu")
    assert neutral.channels == 1
    out = tmp_path / "moon.png"
    pio.write(out, neutral)
    assert np.array_equal(np.asarray(PILImage.open(out)), np.asarray(PILImage.open(moon)))


def test_white_balance_slider_mapping():
    assert white_balance_op(0, 0) is None
    warm = white_balance_op(100, 0)
    assert warm is not None and warm.temperature == pytest.approx(1e6 / (REFERENCE_MIRED - 100))
    g = warm.rgb_gains()
    assert g[0] > g[2]  # warmer: red up relative to blue
    cool = white_balance_op(-100, 0)
    assert cool is not None and cool.rgb_gains()[2] > cool.rgb_gains()[0]


def test_develop_many_matches_develop():
    src = _small(DATA / "photos" / "chelsea.png")
    presets = [load_preset(example_presets()[n]) for n in ("neutral", "warm-film")]
    many = develop_many(src, presets, backend="cpu")
    for p, got in zip(presets, many, strict=True):
        np.testing.assert_array_equal(got.array, develop(src, p, backend="cpu").array)


def test_raw_develops_with_metadata():
    img = develop(DNG, DevelopPreset(), backend="cpu")
    assert img.array.shape == (816, 1224, 3)
    ex = PILImage.Exif()
    ex.load(img.meta.exif)
    assert ex[271] == "Canon" and ex[274] == 1
    assert img.meta.icc_profile == output_profile("srgb")


def test_raw_white_balance_as_shot_false_uses_rawpy_daylight_path():
    import rawpy

    with rawpy.imread(str(DNG)) as raw:
        want = raw.postprocess(gamma=(1, 1), no_auto_bright=True, output_bps=16,
                               use_camera_wb=False, output_color=rawpy.ColorSpace.Rec2020,
                               highlight_mode=rawpy.HighlightMode.Clip)
    preset = DevelopPreset.model_validate({"white_balance": {"as_shot": False}})
    prepared, _ = load_input(DNG, preset.white_balance.as_shot)
    np.testing.assert_array_equal(np.rint(prepared.array * 65535).astype(np.uint16), want)
    off = develop(DNG, preset, backend="cpu").array
    on = develop(DNG, DevelopPreset(), backend="cpu").array
    assert np.abs(off - on).mean() > 1e-3  # the as-shot multipliers differ from daylight
    # the same as developing the rawpy daylight decode with the default preset
    dec = pio.read(DNG)
    by_hand = develop(Image(want.astype(np.float32) / 65535, dec.meta), DevelopPreset(),
                      backend="cpu").array
    np.testing.assert_allclose(off, by_hand, rtol=0, atol=1e-6)
    many = develop_many(DNG, [preset, DevelopPreset()], backend="cpu")
    np.testing.assert_array_equal(many[0].array, off)
    np.testing.assert_array_equal(many[1].array, on)


def test_as_shot_is_validated_and_in_the_schema(tmp_path):
    from pixelpipe.errors import PixelpipeError

    good = tmp_path / "good.toml"
    good.write_text("[white_balance]\nas_shot = false\n")
    assert load_preset(good).white_balance.as_shot is False
    assert DevelopPreset().white_balance.as_shot is True
    bad = tmp_path / "bad.toml"
    bad.write_text('[white_balance]\nas_shot = "maybe"\n')
    with pytest.raises(PixelpipeError, match="as_shot"):
        load_preset(bad)
    wb = DevelopPreset.json_schema()["$defs"]["WhiteBalanceSettings"]["properties"]
    assert wb["as_shot"]["type"] == "boolean" and wb["as_shot"]["default"] is True


def test_exif_orientation_applied_and_reset(tmp_path):
    arr = np.random.default_rng(1).integers(0, 256, (6, 10, 3), dtype=np.uint8)
    pim = PILImage.fromarray(arr)
    ex = pim.getexif()
    ex[274] = 6
    path = tmp_path / "rot.jpg"
    pim.save(path, quality=100, exif=ex.tobytes())
    decoded = np.asarray(PILImage.open(path))
    prepared, _ = load_input(path)
    assert prepared.array.shape == (10, 6, 3)
    np.testing.assert_array_equal(np.rint(prepared.array * 255).astype(np.uint8),
                                  apply_orientation(decoded, 6))
    out = develop(path, DevelopPreset(), backend="cpu")
    back = PILImage.Exif()
    back.load(out.meta.exif)
    assert back[274] == 1


def test_embedded_icc_profile_is_honoured():
    """rocket.jpg carries Adobe RGB (matrix/TRC): converted in float, vs colour-science."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import colour
    img = pio.read(DATA / "photos" / "rocket.jpg")
    prepared, sc = load_input(img)
    assert (sc.primaries, sc.transfer) == ("custom", "linear") and sc.matrix is not None
    v = img.array[::7, ::7].reshape(-1, 3).astype(np.float64)
    lin = v ** (563 / 256)  # Adobe RGB (1998) curve
    ref_lin = lin @ colour.matrix_RGB_to_RGB("Adobe RGB (1998)", "ITU-R BT.2020").T
    got = prepared.array[::7, ::7].reshape(-1, 3).astype(np.float64) @ np.array(sc.matrix).T
    # float path: the profile's s15Fixed16 colourants (~1.5e-5) and its u8Fixed8 gamma
    # 2.19921875 (= 563/256 exactly), float32 storage; measured 1.7e-5
    assert np.abs(got - ref_lin).max() <= 1e-4


def _p3_16bit_png(path: Path) -> np.ndarray:
    """A 16-bit RGB PNG of smooth ramps (many distinct levels) tagged Display P3."""
    y, x = np.mgrid[0:64, 0:96]
    rgb = np.stack([x / 95.0, y / 63.0, (x + y) / 158.0], axis=-1)
    q = np.rint(rgb * 65535).astype(np.uint16)
    pio.write(path, Image(q.astype(np.float32) / 65535,
                          ImageMeta(format="png", bit_depth=16, sample_type="uint",
                                    color_encoding="unknown",
                                    icc_profile=output_profile("display-p3"))), bit_depth=16)
    back = pio.read(path)
    assert back.meta.icc_profile == output_profile("display-p3")
    return q


def test_16bit_display_p3_input_keeps_its_precision(tmp_path):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import colour
    from pixelpipe.pipeline import Pipeline
    from pixelpipe.workflows.develop.stages import source_ops

    q = _p3_16bit_png(tmp_path / "p3.png")
    prepared, sc = load_input(tmp_path / "p3.png")
    lin2020 = Pipeline(source_ops(sc)).run(prepared, backend="cpu").array.astype(np.float64)
    v = q.astype(np.float64) / 65535
    dec = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)  # P3 uses sRGB's curve
    ref = dec @ colour.matrix_RGB_to_RGB("Display P3", "ITU-R BT.2020").T
    assert np.abs(lin2020 - ref).max() <= 1e-4
    # far more than 8 bits of levels survive (the 8-bit LittleCMS path gave <= 256)
    assert len(np.unique(lin2020[..., 0])) > 2000
    out = develop(tmp_path / "p3.png", load_preset(example_presets()["neutral"]),
                  backend="cpu")
    assert len(np.unique(np.rint(out.array[..., 0] * 65535))) > 1000


@pytest.mark.parametrize("gamut", ["display-p3", "adobe-rgb"])
def test_output_icc_profiles_load_in_littlecms_and_match_colour_science(gamut):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import colour
    prof = ImageCms.ImageCmsProfile(io.BytesIO(output_profile(gamut)))
    name = {"display-p3": "Display P3", "adobe-rgb": "Adobe RGB (1998)"}[gamut]
    assert ImageCms.getProfileDescription(prof).strip() == f"pixelpipe {name}"
    cs = colour.RGB_COLOURSPACES[name]
    d50 = np.array([0.9642, 1.0, 0.8249])
    cat = colour.adaptation.matrix_chromatic_adaptation_VonKries(
        colour.xy_to_XYZ(cs.whitepoint), d50, transform="Bradford")
    want = cat @ cs.matrix_RGB_to_XYZ
    got = np.array([prof.profile.red_colorant[0], prof.profile.green_colorant[0],
                    prof.profile.blue_colorant[0]]).T
    np.testing.assert_allclose(got, want, atol=1e-3)
    np.testing.assert_allclose(rgb_to_xyz(gamut, (0.9642 / 2.7891, 1 / 2.7891)), want,
                               atol=1e-4)
    # round trip of colours through LittleCMS: profile -> sRGB vs colour-science, 8-bit
    rng = np.random.default_rng(0)
    rgb8 = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    tf = ImageCms.buildTransform(prof, ImageCms.createProfile("sRGB"), "RGB", "RGB",
                                 renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC)
    out = np.asarray(ImageCms.applyTransform(PILImage.fromarray(rgb8), tf)) / 255.0
    v = rgb8.reshape(-1, 3) / 255.0
    lin = cs.cctf_decoding(v)
    lin709 = lin @ conversion_matrix(gamut, "rec709").T
    inside = (lin709 >= 0).all(1) & (lin709 <= 1).all(1)
    ref = colour.cctf_encoding(lin709[inside], function="sRGB")
    assert np.abs(out.reshape(-1, 3)[inside] - ref).max() <= 1.5 / 255
