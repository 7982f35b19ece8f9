"""HSL and ColorGrading: GPU vs reference, OkLab vs colour-science, properties.

Tolerances
----------
* HSL, wgpu vs reference: 1e-4 (relative above 1, absolute below, on
  sRGB-encoded values; 0.026 of an 8-bit step). A pixel goes through the
  sRGB curve, a cube root, atan2, cos/sin, a cube and the sRGB curve in
  float32; evaluated in float32 with exact functions the op already differs
  from the float64 reference by up to 1.7e-5 (saturated Rec.2020 colours
  pushed out of gamut, where the encoding's linear segment multiplies errors
  by 12.92), and the GPU's pow/cos/sin and fused multiply-adds add to that
  (measured on llvmpipe: 2.5e-5 for inputs in 0..1, 4.5e-5 for -0.2..1.3).
* ColorGrading, wgpu vs reference: 1e-5 (one rounding of a short sum).
* OkLab of the op vs colour-science: 5e-4 in L, a, b: the op scales
  Ottosson's LMS so that Rec.2020 white is exactly neutral (a change of
  at most 4.8e-4 in LMS).
"""

from __future__ import annotations

import colorsys
import warnings

import numpy as np
import pytest

from pixelpipe import ParameterError, Pipeline, ops
from pixelpipe.ops.color.grading import ColorGrading, GradingWheel
from pixelpipe.ops.color.hsl import BAND_CENTRES, BANDS, HSL, oklab_to_rgb, rgb_to_oklab
from pixelpipe.ops.color.saturation import LUMA_WEIGHTS
from tests.helpers import SIZES, TALL, assert_close, check_consistency, random_rgba

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import colour

HSL_RTOL = 1e-4
GRADING_RTOL = 1e-5
W2020 = np.asarray(LUMA_WEIGHTS["rec2020"])


# --- colour-science as the independent measure of OkLab -----------------------------------
def cs_oklab(rgb: np.ndarray) -> np.ndarray:
    """sRGB-encoded Rec.2020 (..., 3) -> OkLab, computed by colour-science."""
    lin = colour.cctf_decoding(np.asarray(rgb, np.float64), function="sRGB")
    return colour.XYZ_to_Oklab(colour.RGB_to_XYZ(lin, "ITU-R BT.2020"))


def cs_rgb(lab: np.ndarray) -> np.ndarray:
    """OkLab (..., 3) -> sRGB-encoded Rec.2020, computed by colour-science."""
    lin = colour.XYZ_to_RGB(colour.Oklab_to_XYZ(np.asarray(lab, np.float64)), "ITU-R BT.2020")
    return colour.cctf_encoding(lin, function="sRGB")


def lch(lab: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return lab[..., 0], np.hypot(lab[..., 1], lab[..., 2]), np.degrees(
        np.arctan2(lab[..., 2], lab[..., 1])) % 360.0


def hue_diff(a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    """Signed difference a - b of hues in degrees, in -180..180."""
    return (np.asarray(a) - np.asarray(b) + 180.0) % 360.0 - 180.0


def pixels_at_hues(hues_deg, lightness=0.65, chroma=0.1) -> np.ndarray:
    """float32 (1, n, 4) pixels of the given OkLCh hues (built with colour-science)."""
    h = np.radians(np.asarray(hues_deg, np.float64))
    lab = np.stack([np.full(h.shape, lightness), chroma * np.cos(h), chroma * np.sin(h)], -1)
    rgb = cs_rgb(lab)
    assert rgb.min() > 0.0 and rgb.max() < 1.0  # in gamut: the test colours are ordinary
    x = np.ones((1, h.size, 4), np.float32)
    x[0, :, :3] = rgb
    return x


def random_hsl(seed: int) -> HSL:
    rng = np.random.default_rng(seed)
    return HSL(**{name: {"hue": rng.uniform(-60, 60), "saturation": rng.uniform(-80, 80),
                         "luminance": rng.uniform(-80, 80)} for name in BANDS})


def random_grading(seed: int) -> ColorGrading:
    rng = np.random.default_rng(seed)
    wheels = {name: {"hue": rng.uniform(0, 360), "saturation": rng.uniform(0, 100),
                     "luminance": rng.uniform(-100, 100)}
              for name in ("shadows", "midtones", "highlights", "global")}
    return ColorGrading(**wheels, balance=rng.uniform(-100, 100), blending=rng.uniform(0, 100))


# --- HSL: GPU vs reference ------------------------------------------------------------------
@pytest.mark.parametrize("shape", [*SIZES, TALL])
def test_hsl_wgpu_matches_reference(shape, wgpu_backend):
    x = random_rgba(shape, seed=11, low=-0.2, high=1.3)
    x[..., 2][::3] = x[..., 1][::3] = x[..., 0][::3]  # some exact greys
    check_consistency(random_hsl(1), x, wgpu_backend, rtol=HSL_RTOL)


def test_hsl_wgpu_strong_settings(wgpu_backend):
    op = HSL(red={"hue": 180, "saturation": 100, "luminance": -100},
             green={"hue": -180, "saturation": -100, "luminance": 100},
             blue={"hue": 90, "saturation": 100, "luminance": 100},
             orange={"saturation": -100, "luminance": -100})
    x = random_rgba((40, 61), seed=12)
    ref = check_consistency(op, x, wgpu_backend, rtol=HSL_RTOL)
    assert np.abs(ref - x).max() > 0.1  # the settings do act


def test_hsl_nonfinite_pixels_pass_through(wgpu_backend):
    x = random_rgba((5, 9), seed=13)
    x[0, 0, 0], x[1, 1, 1], x[2, 2, 2], x[3, 3, 0] = np.nan, np.inf, -np.inf, np.nan
    ref = check_consistency(random_hsl(2), x, wgpu_backend, rtol=HSL_RTOL)
    for y, xx in ((0, 0), (1, 1), (2, 2), (3, 3)):
        np.testing.assert_array_equal(ref[y, xx], x[y, xx])
    assert np.abs(ref[4] - x[4]).max() > 1e-3  # finite pixels are processed


# --- HSL: OkLab and band centres against colour-science -----------------------------------
def test_oklab_matches_colour_science():
    rgb = random_rgba((20, 20), seed=14)[..., :3].astype(np.float64)
    np.testing.assert_allclose(rgb_to_oklab(rgb), cs_oklab(rgb), atol=5e-4)
    lab = rgb_to_oklab(rgb)
    np.testing.assert_allclose(oklab_to_rgb(lab), rgb, atol=1e-12)  # exact inverse
    grey = rgb_to_oklab(np.array([[0.5, 0.5, 0.5], [1.0, 1.0, 1.0]]))
    np.testing.assert_allclose(grey[:, 1:], 0.0, atol=1e-7)  # normalised: greys are neutral


def test_band_centres_are_the_named_srgb_colours():
    named = [(1, 0, 0), (1, 0.5, 0), (1, 1, 0), (0, 1, 0), (0, 1, 1), (0, 0, 1), (0.5, 0, 1),
             (1, 0, 1)]
    lin = colour.cctf_decoding(np.array(named, np.float64), function="sRGB")
    hues = lch(colour.XYZ_to_Oklab(colour.RGB_to_XYZ(lin, "sRGB")))[2]
    assert np.abs(hue_diff(BAND_CENTRES, hues)).max() <= 0.5


# --- HSL: properties ------------------------------------------------------------------------
@pytest.mark.parametrize("k", range(8))
def test_each_band_moves_its_hue_and_leaves_far_hues(k):
    x = pixels_at_hues(BAND_CENTRES)
    before = lch(cs_oklab(x[0, :, :3]))
    op = HSL(**{BANDS[k]: {"hue": 15.0, "saturation": -50.0, "luminance": 60.0}})
    y = op.reference(x)
    after = lch(cs_oklab(y[0, :, :3]))
    # the band's own hue: moved by 15 degrees, chroma halved, lightness x 2**0.3
    assert abs(hue_diff(after[2][k], before[2][k]) - 15.0) < 0.3
    assert abs(after[1][k] / before[1][k] - 0.5) < 0.01
    assert abs(after[0][k] / before[0][k] - 2 ** 0.3) < 0.01
    # bands that are not neighbours of k: bit for bit unchanged
    far = [m for m in range(8) if min((m - k) % 8, (k - m) % 8) >= 2]
    np.testing.assert_array_equal(y[0, far], x[0, far])


def test_hue_shift_is_the_requested_angle_for_each_band():
    x = pixels_at_hues(BAND_CENTRES)
    before = lch(cs_oklab(x[0, :, :3]))[2]
    shifts = [-40.0, 25.0, -10.0, 60.0, -90.0, 35.0, -5.0, 120.0]
    y = HSL(**{b: {"hue": s} for b, s in zip(BANDS, shifts, strict=True)}).reference(x)
    after = lch(cs_oklab(y[0, :, :3]))[2]
    np.testing.assert_allclose(hue_diff(after, before), shifts, atol=0.3)


def test_greys_unchanged_for_any_settings(wgpu_backend):
    v = np.linspace(-0.5, 2.0, 97, dtype=np.float32)
    x = np.stack([v, v, v, np.linspace(0, 1, 97, dtype=np.float32)], -1)[None]
    for seed in range(4):
        op = random_hsl(seed)
        np.testing.assert_array_equal(op.reference(x), x)
        np.testing.assert_array_equal(Pipeline([op]).run(x, backend=wgpu_backend), x)


def test_saturation_minus_100_everywhere_gives_grey(wgpu_backend):
    op = HSL(**{b: {"saturation": -100.0} for b in BANDS})
    x = random_rgba((30, 30), seed=15)
    for y in (op.reference(x), Pipeline([op]).run(x, backend=wgpu_backend)):
        rgb = y[..., :3]
        assert (rgb.max(-1) - rgb.min(-1)).max() < 1e-5
        assert lch(cs_oklab(rgb))[1].max() < 5e-4  # chroma 0 in colour-science's OkLab
        np.testing.assert_array_equal(y[..., 3], x[..., 3])
    # lightness kept
    np.testing.assert_allclose(lch(rgb_to_oklab(op.reference(x)[..., :3].astype(float)))[0],
                               lch(rgb_to_oklab(x[..., :3].astype(float)))[0], atol=1e-5)


def test_neutral_is_exact_identity(wgpu_backend):
    op = HSL()
    assert op.is_identity()
    assert not HSL(blue={"luminance": 1}).is_identity()
    x = random_rgba((16, 16), seed=16, low=-0.3, high=1.5)
    np.testing.assert_array_equal(op.reference(x), x)
    np.testing.assert_array_equal(Pipeline([op]).run(x, backend=wgpu_backend), x)


def test_hsl_is_continuous_over_hue():
    """Sweep the hue wheel: the largest output step halves when the hue step halves.

    A jump (at a band border or at 0/360 degrees) would not shrink with the step.
    """
    op = random_hsl(5)

    def max_step(n: int) -> float:
        h = np.linspace(0.0, 360.0, n + 1)
        x = pixels_at_hues(h, lightness=0.7, chroma=0.08)
        y = op.reference(x)[0, :, :3].astype(np.float64)
        return float(np.abs(np.diff(y, axis=0)).max())

    coarse, fine = max_step(3600), max_step(7200)  # 0.1 and 0.05 degree steps
    assert fine < 0.6 * coarse
    assert coarse < 5e-3  # derivative bound: under 0.05 per degree


def test_low_chroma_fades_in_continuously():
    # hue and luminance changes fade to 0 as chroma goes to 0: no jump near grey
    op = HSL(**{b: {"hue": 90.0, "luminance": 100.0} for b in BANDS})
    c = np.linspace(0.0, 0.06, 601)[1:]
    x = np.concatenate([pixels_at_hues([200.0], 0.6, ci) for ci in c], axis=1)
    d = np.abs(op.reference(x) - x)[0, :, :3].max(-1)
    # chroma 1e-4 (about 2e-4 in the op's white-normalised OkLab): weight 3 (C / 0.03)**2 < 2e-4
    assert d[0] < 1e-4 and d[-1] > 0.05
    assert np.abs(np.diff(d)).max() < 2e-3


def test_hsl_parameters_are_validated():
    with pytest.raises(ParameterError, match=r"red\.hue"):
        HSL.from_config({"red": {"hue": 200}})
    with pytest.raises(ParameterError, match="teal"):
        HSL.from_config({"teal": {"hue": 10}})
    with pytest.raises(ParameterError, match="saturation"):
        HSL.from_config({"blue": {"saturation": -101}})


# --- ColorGrading: GPU vs reference ---------------------------------------------------------
@pytest.mark.parametrize("shape", [*SIZES, TALL])
def test_grading_wgpu_matches_reference(shape, wgpu_backend):
    x = random_rgba(shape, seed=21, low=-0.2, high=1.3)
    check_consistency(random_grading(1), x, wgpu_backend, rtol=GRADING_RTOL)


def test_grading_nonfinite_pixels_pass_through(wgpu_backend):
    x = random_rgba((5, 9), seed=22)
    x[0, 0, 0], x[1, 1, 1], x[2, 2, 2] = np.nan, np.inf, -np.inf
    ref = check_consistency(random_grading(2), x, wgpu_backend, rtol=GRADING_RTOL)
    for i in range(3):
        np.testing.assert_array_equal(ref[i, i], x[i, i])


def test_grading_neutral_is_exact_identity(wgpu_backend):
    x = random_rgba((16, 16), seed=23, low=-0.3, high=1.5)
    x[0, 0, :3] = -0.0
    for op in (ColorGrading(), ColorGrading(shadows={"hue": 120}, balance=40, blending=10)):
        assert op.is_identity()
        np.testing.assert_array_equal(op.reference(x).view(np.uint32), x.view(np.uint32))
        np.testing.assert_array_equal(Pipeline([op]).run(x, backend=wgpu_backend), x)
    assert not ColorGrading(midtones={"luminance": 1}).is_identity()


# --- ColorGrading: properties ---------------------------------------------------------------
def greys(levels) -> np.ndarray:
    v = np.asarray(levels, np.float32)
    return np.stack([v, v, v, np.ones_like(v)], -1)[None]


def hsv_hue(rgb) -> float:
    return 360.0 * colorsys.rgb_to_hsv(*(float(c) for c in rgb))[0]


@pytest.mark.parametrize("hue", [0.0, 45.0, 130.0, 200.0, 250.0, 320.0])
def test_shadow_tint_colours_dark_pixels_only(hue):
    op = ColorGrading(shadows={"hue": hue, "saturation": 60})
    x = greys(np.linspace(0.0, 1.0, 101))
    y = op.reference(x)
    luma = x[0, :, :3] @ W2020
    dark = luma <= 0.2
    # dark greys take the wheel's hue (HSV hue of the result), luma kept
    for px in y[0, dark, :3]:
        assert abs(hue_diff(hsv_hue(px), hue)) < 0.5
    np.testing.assert_allclose(y[0, :, :3] @ W2020, luma, atol=1e-6)
    # bright pixels untouched: the shadow mask is 0 above c1 + w = 0.625 (balance 0, blending 50)
    bright = luma >= 0.63
    np.testing.assert_array_equal(y[0, bright], x[0, bright])
    change = np.abs(y - x)[0, :, :3].max(-1)
    assert change[0] > 0.05 and np.all(np.diff(change) <= 1e-7)  # fades out with luma


@pytest.mark.parametrize("hue", [15.0, 180.0, 275.0])
def test_highlight_tint_colours_bright_pixels_only(hue):
    op = ColorGrading(highlights={"hue": hue, "saturation": 60})
    x = greys(np.linspace(0.0, 1.0, 101))
    y = op.reference(x)
    luma = x[0, :, :3] @ W2020
    for px in y[0, luma >= 0.8, :3]:
        assert abs(hue_diff(hsv_hue(px), hue)) < 0.5
    # dark pixels untouched below c2 - w = 0.375
    np.testing.assert_array_equal(y[0, luma <= 0.37], x[0, luma <= 0.37])


def test_global_wheel_applies_everywhere():
    op = ColorGrading(global_={"hue": 100.0, "saturation": 40.0, "luminance": 20.0})
    x = random_rgba((20, 20), seed=24)
    d = op.reference(x)[..., :3].astype(np.float64) - x[..., :3]
    expected = GradingWheel(hue=100.0, saturation=40.0, luminance=20.0).offset()
    np.testing.assert_allclose(d, np.broadcast_to(expected, d.shape), atol=1e-6)
    assert np.abs(expected).min() > 0.01


def test_greys_get_the_tint_on_the_gpu(wgpu_backend):
    op = ColorGrading(midtones={"hue": 30.0, "saturation": 100.0})
    x = greys([0.45, 0.5, 0.55])
    y = Pipeline([op]).run(x, backend=wgpu_backend)
    for px in y[0, :, :3]:
        assert px[0] > px[1] > px[2]  # orange: R > G > B
        assert abs(hue_diff(hsv_hue(px), 30.0)) < 0.5


def test_tint_strength_grows_with_saturation():
    x = greys([0.1, 0.5, 0.9])
    strength = []
    for s in range(0, 101, 10):
        op = ColorGrading(shadows={"hue": 210, "saturation": s},
                          midtones={"hue": 210, "saturation": s},
                          highlights={"hue": 210, "saturation": s})
        rgb = op.reference(x)[0, :, :3]
        strength.append(rgb.max(-1) - rgb.min(-1))
    strength_arr = np.array(strength)
    assert np.all(strength_arr[0] == 0.0)
    assert np.all(np.diff(strength_arr, axis=0) > 0.0)


def _half_point(op: ColorGrading) -> float:
    """Luma where the shadow wheel's effect on greys falls to half its full effect.

    The full effect is measured with the same wheel as the global wheel (mask 1).
    """
    v = np.linspace(0.0, 1.0, 2001)
    x = greys(v)
    change = np.abs(op.reference(x) - x)[0, :, :3].max(-1)
    full = np.abs(ColorGrading(global_=op.shadows).reference(x) - x)[0, :, :3].max(-1)
    return float(v[np.argmax(change < 0.5 * full)])


def test_balance_moves_the_split():
    points = {b: _half_point(ColorGrading(shadows={"hue": 240, "saturation": 80}, balance=b))
              for b in (-100, -50, 0, 50, 100)}
    values = [points[b] for b in (-100, -50, 0, 50, 100)]
    assert np.all(np.diff(values) < 0)  # more balance -> shadows reach less far
    # measured: the split moves 0.2 luma per 100 of balance (c1 = 0.3 - 0.2 b)
    assert abs(points[0] - 0.3) < 0.01
    assert abs((points[-100] - points[100]) - 0.4) < 0.02


def test_blending_widens_the_masks():
    x = greys(np.linspace(0.0, 1.0, 1001))

    def reach(blending: float) -> float:
        op = ColorGrading(shadows={"hue": 0, "saturation": 80}, blending=blending)
        change = np.abs(op.reference(x) - x)[0, :, :3].max(-1)
        return float(np.linspace(0.0, 1.0, 1001)[change > 0].max())

    assert reach(0) < reach(50) < reach(100)


def test_output_luma_never_reverses_tones():
    x = greys(np.linspace(0.0, 1.0, 2001))
    for seed in range(20):
        y = random_grading(seed).reference(x)[0, :, :3].astype(np.float64) @ W2020
        assert np.diff(y).min() > -1e-6


def test_grading_global_alias_and_validation():
    op = ColorGrading.from_config({"global": {"hue": 30, "saturation": 10}, "balance": 20})
    assert op.global_ == GradingWheel(hue=30, saturation=10)
    assert ColorGrading(global_={"hue": 30, "saturation": 10}).global_ == op.global_
    assert "global" in op.model_dump(by_alias=True)
    with pytest.raises(ParameterError, match="hue"):
        ColorGrading.from_config({"shadows": {"hue": 361}})
    with pytest.raises(ParameterError, match="saturation"):
        ColorGrading.from_config({"highlights": {"saturation": -1}})
    with pytest.raises(ParameterError, match="blending"):
        ColorGrading.from_config({"blending": 101})


# --- both, fused ----------------------------------------------------------------------------
def test_chain_fuses_into_one_kernel(wgpu_backend):
    chain = [ops.Exposure(stops=0.3), random_hsl(7), random_grading(7),
             ops.Saturation(saturation=1.2, weights="rec2020")]
    x = random_rgba((33, 47), seed=25)
    ref = Pipeline(chain).run(x, backend="cpu")
    got = Pipeline(chain).run(x, backend=wgpu_backend)
    assert wgpu_backend.kernels_dispatched == 1
    assert_close(got, ref, HSL_RTOL, what="exposure -> hsl -> color_grading -> saturation")
