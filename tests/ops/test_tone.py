"""Tone and ToneCurve: GPU vs reference, properties, and checks against SciPy / colour-science.

Tolerances: GPU vs reference 1e-5 (relative above 1, absolute below) for
both ops (measured about 3e-7); reference properties are checked on float32
outputs, so "unchanged" means bit-equal and straight lines hold to 1e-7.
"""

import itertools

import numpy as np
import pytest
from scipy.interpolate import PchipInterpolator

from pixelpipe import ParameterError, ops
from pixelpipe.ops.tone.curve import fritsch_carlson
from pixelpipe.ops.tone.tone import PIVOT
from tests.helpers import SIZES, TALL, check_consistency, random_rgba

RTOL = 1e-5
SLIDERS = ("contrast", "highlights", "shadows", "whites", "blacks")
REC2020_LUMA = np.array([0.2627, 0.6780, 0.0593])


def grey(values):
    """A 1 x N RGBA image whose R = G = B = ``values`` (float32), alpha 0.5."""
    v = np.asarray(values, np.float32)
    im = np.empty((1, v.size, 4), np.float32)
    im[0, :, :3] = v[:, None]
    im[0, :, 3] = 0.5
    return im


def tone_grey(op, values):
    """``op`` on a grey ramp: the R channel (float64) of the reference result."""
    out = op.reference(grey(values))
    assert np.array_equal(out[0, :, 0], out[0, :, 1]) and np.array_equal(out[0, :, 0], out[0, :, 2])
    return out[0, :, 0].astype(np.float64)


# --- Tone: GPU vs reference ---------------------------------------------------

MIXED = ops.Tone(contrast=37, highlights=-60, shadows=45, whites=20, blacks=-30)


@pytest.mark.parametrize("shape", [*SIZES, TALL])
def test_tone_wgpu_matches_reference(shape, wgpu_backend):
    x = random_rgba(shape, seed=2, low=-0.25, high=1.5)
    check_consistency(MIXED, x, wgpu_backend, rtol=RTOL)


@pytest.mark.parametrize("name", SLIDERS)
@pytest.mark.parametrize("value", [-100.0, 100.0])
def test_tone_each_slider_wgpu_matches_reference(name, value, wgpu_backend):
    x = random_rgba((33, 47), seed=3, low=-0.25, high=1.5)
    check_consistency(ops.Tone(**{name: value}), x, wgpu_backend, rtol=RTOL)


def test_tone_nan_inf(wgpu_backend):
    x = random_rgba((5, 9), seed=4)
    x[0, 0, 0] = np.nan
    x[1, 1, 1] = np.inf
    x[2, 2, 2] = -np.inf
    ref = check_consistency(MIXED, x, wgpu_backend, rtol=RTOL)
    assert np.all(np.isnan(ref[0, 0, :3])) and ref[0, 0, 3] == x[0, 0, 3]
    assert ref[1, 1, 1] == np.inf and np.all(np.isfinite(ref[1, 1, [0, 2]]))
    assert ref[2, 2, 2] == -np.inf and np.all(np.isfinite(ref[2, 2, :2]))


def test_tone_fuses_after_other_pointwise_ops(wgpu_backend):
    """Parameter offsets: tone and tone_curve behind another op in one fused kernel."""
    x = random_rgba((16, 16), seed=5, low=0.0, high=1.2)
    chain = [ops.Exposure(stops=0.3), MIXED,
             ops.ToneCurve(rgb=[(0, 0.05), (0.5, 0.6), (1, 1)], luma=[(0, 0), (0.6, 0.5), (1, 1)])]
    check_consistency(chain, x, wgpu_backend, rtol=RTOL)


# --- Tone: properties -------------------------------------------------------------

RAMP = np.linspace(-0.5, 2.0, 10001)


def test_tone_neutral_is_exact_identity(wgpu_backend):
    op = ops.Tone()
    assert op.is_identity()
    x = random_rgba((7, 5), seed=6, low=-0.5, high=2.0)
    np.testing.assert_array_equal(op.reference(x), x)
    for name in SLIDERS:
        assert not ops.Tone(**{name: 1.0}).is_identity()
        assert not ops.Tone(**{name: -1.0}).is_identity()


def test_pivot_is_srgb_encoding_of_18_percent_grey():
    colour = pytest.importorskip("colour")
    assert PIVOT == pytest.approx(float(colour.cctf_encoding(0.18, function="sRGB")), abs=1e-12)


@pytest.mark.parametrize("contrast", [-100.0, -40.0, 40.0, 100.0])
def test_contrast_spreads_around_fixed_pivot(contrast):
    op = ops.Tone(contrast=contrast)
    assert tone_grey(op, [0.0, PIVOT, 1.0]) == pytest.approx([0.0, PIVOT, 1.0], abs=1e-7)
    y = np.linspace(0.0, 1.0, 201)
    y = y[(np.abs(y - PIVOT) > 0.01) & (y > 0.0) & (y < 1.0)]
    out = tone_grey(op, y)
    spread_in, spread_out = np.abs(y - PIVOT), np.abs(out - PIVOT)
    if contrast > 0:
        assert np.all(spread_out > spread_in)
    else:
        assert np.all(spread_out < spread_in)
    # documented slope at the pivot: 1 + 0.75 * contrast / 100
    e = 1e-4
    lo, hi = tone_grey(op, [PIVOT - e, PIVOT + e])
    assert (hi - lo) / (2 * e) == pytest.approx(1 + 0.75 * contrast / 100, rel=1e-2)


def test_highlights_minus_100_lowers_bright_keeps_dark():
    y = np.linspace(0.0, 1.0, 401)
    out = tone_grey(ops.Tone(highlights=-100), y)
    dark, mid = y <= 0.25, (y > 0.26) & (y < 0.99)
    np.testing.assert_array_equal(out[dark], y[dark].astype(np.float32))  # bound: exactly 0
    assert np.all(out[mid] < y[mid])
    drop = y - out
    assert 0.09 < drop.max() < 0.11 and abs(y[np.argmax(drop)] - 0.75) < 0.05
    assert out[-1] == pytest.approx(1.0, abs=1e-7)  # white stays (whites' job)
    # below 0.3 the change stays under 0.003 (0.9 * (0.05/0.75)^2 * 0.7 = 0.0028 at 0.3)
    assert np.abs(drop[y < 0.3]).max() < 3e-3


def test_shadows_plus_100_raises_dark_keeps_bright():
    y = np.linspace(0.0, 1.0, 401)
    out = tone_grey(ops.Tone(shadows=100), y)
    bright, mid = y >= 0.75, (y > 0.01) & (y < 0.74)
    np.testing.assert_array_equal(out[bright], y[bright].astype(np.float32))
    assert np.all(out[mid] > y[mid])
    lift = out - y
    assert 0.09 < lift.max() < 0.11 and abs(y[np.argmax(lift)] - 0.25) < 0.05
    assert out[0] == 0.0
    assert np.abs(lift[y > 0.7]).max() < 3e-3  # 0.9 * (0.05/0.75)^2 * 0.7 = 0.0028 at 0.7


@pytest.mark.parametrize("whites", [-100.0, 100.0])
def test_whites_move_the_white_point_only(whites):
    y = np.linspace(0.0, 1.0, 201)
    out = tone_grey(ops.Tone(whites=whites), y)
    assert out[-1] == pytest.approx(1.0 + 0.2 * np.sign(whites), abs=1e-6)
    keep = y <= 0.5
    np.testing.assert_array_equal(out[keep], y[keep].astype(np.float32))


@pytest.mark.parametrize("blacks", [-100.0, 100.0])
def test_blacks_move_the_black_point_only(blacks):
    y = np.linspace(0.0, 1.0, 201)
    out = tone_grey(ops.Tone(blacks=blacks), y)
    assert out[0] == pytest.approx(0.1 * np.sign(blacks), abs=1e-7)
    keep = y >= 0.25
    np.testing.assert_array_equal(out[keep], y[keep].astype(np.float32))


@pytest.mark.parametrize("name", SLIDERS)
@pytest.mark.parametrize("value", [-100.0, 100.0])
def test_tone_is_monotone_in_the_input(name, value):
    out = tone_grey(ops.Tone(**{name: value}), RAMP)
    assert np.all(np.diff(out) >= 0.0), f"{name}={value}: tone reversal"
    assert np.all(np.diff(tone_grey(MIXED, RAMP)) >= 0.0)


@pytest.mark.parametrize("name", ["contrast", "highlights", "shadows", "whites"])
def test_gain_stages_keep_rgb_ratios_and_are_monotone_along_rays(name):
    colour_ = np.array([0.9, 0.35, 0.1], np.float32)
    k = np.linspace(0.0, 1.5, 3001, dtype=np.float32)
    im = np.ones((1, k.size, 4), np.float32)
    im[0, :, :3] = k[:, None] * colour_
    for value in (-100.0, 100.0):
        out = ops.Tone(**{name: value}).reference(im)[0, :, :3].astype(np.float64)
        assert np.all(np.diff(out, axis=0) >= -1e-7), f"{name}={value}"
        ratio = out[1:, 1:] / out[1:, :1]
        np.testing.assert_allclose(ratio, np.broadcast_to(colour_[1:] / colour_[0], ratio.shape),
                                   rtol=1e-6)


@pytest.mark.parametrize("name", SLIDERS)
def test_tone_is_monotone_in_each_slider(name):
    values = np.linspace(-100.0, 100.0, 9)
    y = np.linspace(-0.2, 1.3, 301)
    outs = np.array([tone_grey(ops.Tone(**{name: v}), y) for v in values])
    d = np.diff(outs, axis=0)
    if name == "contrast":  # darker below the pivot, brighter above
        assert np.all(d[:, y < PIVOT] <= 0.0) and np.all(d[:, y > PIVOT] >= 0.0)
    else:
        assert np.all(d >= 0.0)


def test_tone_keeps_alpha():
    x = random_rgba((4, 6), seed=7)
    np.testing.assert_array_equal(MIXED.reference(x)[..., 3], x[..., 3])


@pytest.mark.parametrize("config, field", [({"contrast": 101}, "contrast"),
                                           ({"shadows": -100.5}, "shadows"),
                                           ({"whites": float("nan")}, "whites"),
                                           ({"exposure": 1}, "exposure")])
def test_tone_bad_parameters(config, field):
    with pytest.raises(ParameterError, match=field):
        ops.Tone.from_config(config)


# --- ToneCurve: GPU vs reference ---------------------------------------------------

S_CURVE = [(0.0, 0.05), (0.2, 0.1), (0.5, 0.55), (0.8, 0.92), (1.0, 0.97)]
ALL_CURVES = ops.ToneCurve(
    rgb=S_CURVE, red=[(0.0, 0.0), (0.4, 0.5), (1.0, 1.0)], green=[(0.1, 0.0), (0.9, 1.0)],
    blue=[(0.0, 0.1), (0.3, 0.2), (0.6, 0.3), (1.0, 0.8)],
    luma=[(0.0, 0.0), (0.3, 0.25), (0.7, 0.8), (1.0, 1.0)])


@pytest.mark.parametrize("shape", [*SIZES, TALL])
def test_tone_curve_wgpu_matches_reference(shape, wgpu_backend):
    # non-negative input: the luma ratio L(Y)/Y is ill-conditioned where
    # negative channels cancel to a luma near 0 (see the module note)
    x = random_rgba(shape, seed=8, low=0.0, high=1.5)
    check_consistency(ALL_CURVES, x, wgpu_backend, rtol=RTOL)


def test_tone_curve_channels_outside_range_and_32_points(wgpu_backend):
    rng = np.random.default_rng(9)
    xs = np.concatenate([[0.0], np.sort(rng.uniform(0.02, 0.98, 30)), [1.0]])
    ys = np.sort(rng.uniform(0.0, 1.0, 32))
    op = ops.ToneCurve(rgb=list(zip(xs, ys, strict=True)),
                       red=[(0.2, 0.1), (0.5, 0.7), (0.7, 0.2), (0.9, 0.8)])
    x = random_rgba((33, 47), seed=10, low=-0.5, high=1.5)
    check_consistency(op, x, wgpu_backend, rtol=RTOL)


def test_tone_curve_nan_inf_black_and_negative_luma(wgpu_backend):
    x = random_rgba((4, 8), seed=11)
    x[0, 0, 0] = np.nan
    x[1, 1, 1] = np.inf
    x[2, 2, 2] = -np.inf
    x[3, 0, :3] = 0.0  # black: luma 0
    x[3, 1, :3] = (-0.2, 0.01, 0.05)  # negative luma
    flat_end = ops.ToneCurve(rgb=[(0.0, 0.0), (0.5, 0.7), (0.8, 1.0), (1.0, 1.0)])
    ref = check_consistency(flat_end, x, wgpu_backend, rtol=RTOL)
    assert np.isnan(ref[0, 0, 0]) and ref[1, 1, 1] == 1.0 and ref[2, 2, 2] == -np.inf
    lift = ops.ToneCurve(luma=[(0.0, 0.1), (1.0, 1.0)])
    ref = check_consistency(lift, x, wgpu_backend, rtol=RTOL)
    np.testing.assert_allclose(ref[3, 0, :3], 0.1, atol=1e-7)  # black lifted along grey
    y = float(x[3, 1, :3].astype(np.float64) @ REC2020_LUMA)
    assert y < 0
    shift = (0.1 + 0.9 * y) - y
    np.testing.assert_allclose(ref[3, 1, :3], x[3, 1, :3] + shift, atol=1e-6)
    # non-finite luma: the luma curve leaves the pixel as it is
    np.testing.assert_array_equal(ref[1, 1, :3], x[1, 1, :3])
    assert np.isnan(ref[0, 0, 0])


# --- ToneCurve: properties and SciPy --------------------------------------------------

def curve_ref(points, values):
    """The rgb curve through ``points`` at ``values`` (reference, float64 of the float32 result)."""
    return tone_grey(ops.ToneCurve(rgb=points), values)


@pytest.mark.parametrize("points", [
    S_CURVE,
    [(0.0, 0.2), (0.3, 0.8), (0.6, 0.1), (1.0, 0.9)],  # not monotone: extrema at knots
    [(0.1, 0.0), (0.15, 0.5), (0.2, 0.52), (0.9, 0.6), (0.95, 1.0)],  # steep and flat runs
    [(0.0, 0.3), (0.4, 0.3), (0.6, 0.7), (1.0, 0.7)],  # flat segments stay flat
])
def test_tone_curve_against_pchip_where_they_must_agree(points):
    p = np.asarray(points)
    pchip = PchipInterpolator(p[:, 0], p[:, 1])
    # both pass through every knot
    np.testing.assert_allclose(curve_ref(points, p[:, 0]), p[:, 1], atol=1e-7)
    np.testing.assert_allclose(pchip(p[:, 0]), p[:, 1], atol=1e-12)
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        t = np.linspace(x0, x1, 101)
        for name, v in (("ours", curve_ref(points, t)), ("pchip", pchip(t))):
            # monotone between the knots, in the direction of the data (flat when
            # the data is), and no overshoot
            steps = np.diff(v) * np.sign(y1 - y0)
            if y1 == y0:
                assert np.all(np.abs(np.diff(v)) <= 1e-7), name
            else:
                assert np.all(steps >= -1e-7), name
            assert v.min() >= min(y0, y1) - 1e-7 and v.max() <= max(y0, y1) + 1e-7, name


def test_two_points_give_the_exact_straight_line_everywhere(wgpu_backend):
    (x0, y0), (x1, y1) = (0.1, 0.2), (0.9, 0.6)
    v = np.linspace(-0.5, 1.5, 401)
    expected = (y0 + (y1 - y0) / (x1 - x0) * (v.astype(np.float32) - x0)).astype(np.float32)
    np.testing.assert_allclose(curve_ref([(x0, y0), (x1, y1)], v), expected, atol=1e-7)
    # collinear extra knots give the same line (Fritsch-Carlson keeps straight data straight)
    three = [(x0, y0), (0.5, 0.4), (x1, y1)]
    np.testing.assert_allclose(curve_ref(three, v), expected, atol=1e-7)
    check_consistency(ops.ToneCurve(rgb=three, luma=[(x0, y0), (x1, y1)]),
                      random_rgba((7, 5), seed=12, low=0.0, high=1.5), wgpu_backend, rtol=RTOL)


def test_tone_curve_identity():
    x = random_rgba((7, 5), seed=13, low=-0.5, high=2.0)
    for op in (ops.ToneCurve(), ops.ToneCurve(rgb=[(0, 0), (1, 1)], luma=[[0, 0], [1, 1]])):
        assert op.is_identity()
        np.testing.assert_array_equal(op.reference(x), x)
    assert not ops.ToneCurve(red=[(0, 0), (1, 0.99)]).is_identity()
    # the identity points are a line of slope 1 through 0, so even out-of-range values are kept
    op = ops.ToneCurve(rgb=[(0, 0), (0.5, 0.5), (1, 1)])
    np.testing.assert_allclose(op.reference(x), x, atol=1e-6)


def test_tone_curve_is_monotone_for_increasing_points():
    rng = np.random.default_rng(14)
    v = np.linspace(-0.5, 1.5, 20001)
    for _ in range(20):
        n = int(rng.integers(2, 33))
        xs = np.sort(rng.choice(np.arange(1, 1000), n, replace=False)) / 1000.0
        ys = np.sort(rng.uniform(0.0, 1.0, n))
        out = curve_ref(list(zip(xs, ys, strict=True)), v)
        assert np.all(np.diff(out) >= 0.0)


def test_tone_curve_extends_linearly_with_the_end_tangent():
    points = [(0.2, 0.1), (0.5, 0.6), (0.8, 0.7)]
    e = 1e-4
    for end, outside in ((0.2, np.array([0.0, 0.05, 0.1, 0.15])),
                         (0.8, np.array([0.85, 0.9, 1.2, 1.5]))):
        out = curve_ref(points, outside)
        slope = np.diff(out) / np.diff(outside)
        np.testing.assert_allclose(slope, slope[0], rtol=1e-4)  # a straight line
        side = -1 if end == 0.2 else 1
        inner = curve_ref(points, [end - side * e, end])
        inside_slope = side * (inner[1] - inner[0]) / e
        assert slope[0] == pytest.approx(inside_slope, rel=1e-2)  # C1 at the end knot
    assert curve_ref(points, [np.inf, -np.inf]).tolist() == [np.inf, -np.inf]


def test_tone_curve_order_rgb_then_channel_then_luma():
    x = random_rgba((9, 11), seed=15, low=0.0, high=1.0)
    rgb, red, luma = S_CURVE, [(0, 0), (0.5, 0.3), (1, 1)], [(0, 0), (0.4, 0.6), (1, 1)]
    both = ops.ToneCurve(rgb=rgb, red=red, luma=luma).reference(x)
    chained = x
    for op in (ops.ToneCurve(rgb=rgb), ops.ToneCurve(red=red), ops.ToneCurve(luma=luma)):
        chained = op.reference(chained)
    np.testing.assert_allclose(both, chained, atol=1e-6)


def test_luma_curve_keeps_ratios_and_maps_rec2020_luma():
    colour = pytest.importorskip("colour")
    weights = colour.RGB_COLOURSPACES["ITU-R BT.2020"].matrix_RGB_to_XYZ[1]
    np.testing.assert_allclose(REC2020_LUMA, weights, atol=1e-4)
    points = [(0.0, 0.0), (0.3, 0.5), (1.0, 1.0)]
    x = random_rgba((6, 7), seed=16, low=0.05, high=1.0)
    out = ops.ToneCurve(luma=points).reference(x)[..., :3].astype(np.float64)
    xin = x[..., :3].astype(np.float64)
    y_in, y_out = xin @ weights, out @ weights
    expected_y = tone_grey(ops.ToneCurve(rgb=points), y_in.ravel()).reshape(y_in.shape)
    np.testing.assert_allclose(y_out, expected_y, atol=1e-5)
    np.testing.assert_allclose(out / out[..., 1:2], xin / xin[..., 1:2], rtol=1e-5)


@pytest.mark.parametrize("points, problem", [
    ([(0.0, 0.0)], "2..32 points, got 1"),
    ([(i / 32, i / 32) for i in range(33)], "2..32 points, got 33"),
    ([(0.0, 0.0), (0.5, 0.5), (0.5, 0.6), (1.0, 1.0)], "strictly increasing"),
    ([(0.0, 0.0), (0.6, 0.5), (0.4, 0.6)], "strictly increasing"),
    ([(0.0, -0.1), (1.0, 1.0)], r"point 0 \(0.0, -0.1\) is outside \[0, 1\]"),
    ([(0.0, 0.0), (1.2, 1.0)], r"point 1 \(1.2, 1.0\) is outside \[0, 1\]"),
    ([(0.0, float("nan")), (1.0, 1.0)], r"point 0 \(0.0, nan\) is outside \[0, 1\]"),
    ([(0.0, 0.0, 0.0), (1.0, 1.0, 1.0)], "luma"),
])
def test_tone_curve_bad_points(points, problem):
    with pytest.raises(ParameterError, match=problem) as err:
        ops.ToneCurve.from_config({"luma": points})
    assert "tone_curve" in str(err.value) and "luma" in str(err.value)


def test_tone_curve_from_toml_lists_and_hashable():
    op = ops.ToneCurve.from_config({"rgb": [[0.0, 0.0], [0.25, 0.2], [0.75, 0.8], [1.0, 1.0]]})
    assert isinstance(op, ops.ToneCurve) and op.rgb == ((0.0, 0.0), (0.25, 0.2), (0.75, 0.8),
                                                         (1.0, 1.0))
    assert hash(op) == hash(ops.ToneCurve(rgb=op.rgb))


def test_fritsch_carlson_tangents_respect_the_circle_condition():
    rows = fritsch_carlson(((0.0, 0.0), (0.1, 0.9), (0.2, 0.95), (1.0, 1.0)))
    x, y, m = rows[:, 0], rows[:, 1], rows[:, 2]
    d = np.diff(y) / np.diff(x)
    a, b = m[:-1] / d, m[1:] / d
    assert np.all(a * a + b * b <= 9.0 + 1e-9) and np.all(a >= 0) and np.all(b >= 0)
