"""Detail ops: texture, clarity, sharpen (luma of perceptual RGB).

Tolerances: reference vs WebGPU rtol 1e-5 (relative above 1, absolute
below; float32 blur sums in a different order, knees of bounded slope;
measured <= 2.3e-6). Reference vs the same formulas built on scipy.ndimage:
1e-5 (both blur in float64; measured <= 3e-7). Property bounds are stated
beside each test with the value measured when they were written.
"""

import numpy as np
import pytest
import scipy.ndimage as ndi
from PIL import Image

from pixelpipe import ParameterError, Pipeline, ops
from pixelpipe.ops.spatial.detail import LUMA_WEIGHTS, luma
from tests.helpers import SIZES, TALL, assert_close, check_consistency, random_rgba

RTOL_GPU = 1e-5
RTOL_SCIPY = 1e-5

CONFIGS = [
    ops.Texture(amount=70),
    ops.Texture(amount=-60),
    ops.Clarity(amount=80),
    ops.Clarity(amount=-100),
    ops.Sharpen(amount=60, radius=1.3, threshold=30),
    ops.Sharpen(amount=100, radius=2.5, threshold=50, masking=60),
    ops.Sharpen(amount=100, radius=0.5, masking=100),
]


def rgba(y, alpha=1.0):
    """Grey float32 (H, W, 4) image with R = G = B = ``y``."""
    x = np.empty((*y.shape, 4), np.float32)
    x[..., :3] = y[..., None]
    x[..., 3] = alpha
    return x


@pytest.fixture(scope="module")
def chelsea(data_dir):
    """chelsea.png downscaled 3x (100 x 151), sRGB-encoded values as perceptual input."""
    im = Image.open(data_dir / "photos" / "chelsea.png").convert("RGB").reduce(3)
    rgb = np.asarray(im, np.float32) / 255.0
    return np.concatenate([rgb, np.ones((*rgb.shape[:2], 1), np.float32)], axis=-1)


# --- reference vs WebGPU -------------------------------------------------------------

@pytest.mark.parametrize("shape", SIZES)
@pytest.mark.parametrize("op", CONFIGS, ids=repr)
def test_wgpu_matches_reference(op, shape, wgpu_backend):
    # values a little outside 0..1: perceptual data may be out of gamut
    x = random_rgba(shape, seed=31, low=-0.1, high=1.1)
    check_consistency(op, x, wgpu_backend, rtol=RTOL_GPU)


@pytest.mark.parametrize("op", [ops.Texture(amount=55), ops.Clarity(amount=-40),
                                ops.Sharpen(amount=80, radius=1.0, threshold=20, masking=40)],
                         ids=repr)
def test_wgpu_tall(op, wgpu_backend):
    x = random_rgba(TALL, seed=32)
    check_consistency(op, x, wgpu_backend, rtol=RTOL_GPU)


def test_wgpu_matches_reference_on_a_photo(chelsea, wgpu_backend):
    pipe = [ops.Texture(amount=40), ops.Clarity(amount=60),
            ops.Sharpen(amount=50, radius=1.0, threshold=10, masking=30)]
    check_consistency(pipe, chelsea, wgpu_backend, rtol=RTOL_GPU)


@pytest.mark.parametrize("op", CONFIGS, ids=repr)
def test_nan_inf_spread_over_the_detail_footprint(op, wgpu_backend):
    x = random_rgba((40, 45), seed=33)
    x[5, 6, 0] = np.nan
    x[30, 35, 1] = np.inf
    ref = check_consistency(op, x, wgpu_backend, rtol=RTOL_GPU)
    assert np.isnan(ref[5, 6, :3]).all() and np.isnan(ref[30, 35, :3]).all()
    assert np.isfinite(ref[..., 3]).all()  # alpha untouched
    np.testing.assert_array_equal(ref[..., 3], x[..., 3])
    r = op.radius()
    bad = np.zeros(x.shape[:2], bool)
    bad[max(5 - r, 0): 5 + r + 1, max(6 - r, 0): 6 + r + 1] = True
    bad[max(30 - r, 0): 30 + r + 1, max(35 - r, 0): 35 + r + 1] = True
    assert np.isfinite(ref[~bad][:, :3]).all()  # nothing beyond the op's radius


@pytest.mark.parametrize("op", [ops.Texture(), ops.Clarity(), ops.Sharpen(radius=2.0,
                                                                          masking=50)])
def test_amount_zero_is_an_exact_copy(op, wgpu_backend):
    assert op.is_identity()
    x = random_rgba((19, 23), seed=34, low=-0.5, high=1.5)
    x[3, 4, 1] = np.nan
    x[10, 10, 2] = -np.inf
    for backend in ("cpu", wgpu_backend):
        got = Pipeline([op]).run(x, backend=backend)
        np.testing.assert_array_equal(got.view(np.uint32), x.view(np.uint32))


def test_is_identity_only_at_amount_zero():
    assert not ops.Texture(amount=-0.5).is_identity()
    assert not ops.Clarity(amount=1).is_identity()
    assert not ops.Sharpen(amount=0.1).is_identity()
    assert ops.Sharpen(amount=0, threshold=50, masking=50).is_identity()


# --- the definition against scipy.ndimage -----------------------------------------

def test_luma_weights_are_rec2020_luminance():
    colour = pytest.importorskip("colour")
    y_row = colour.RGB_COLOURSPACES["ITU-R BT.2020"].matrix_RGB_to_XYZ[1]
    np.testing.assert_allclose(LUMA_WEIGHTS, y_row, atol=5e-5)  # BT.2020 gives 4 decimals
    assert abs(sum(LUMA_WEIGHTS) - 1.0) < 1e-12  # white has luma 1


def scipy_luma_blur(x, sigma, truncate=4.0):
    y = luma(x).astype(np.float64)
    return y, ndi.gaussian_filter(y, sigma, truncate=truncate, mode="mirror")


def test_texture_negative_is_scipy_difference_of_gaussians():
    x = random_rgba((37, 41), seed=35)
    _, g1 = scipy_luma_blur(x, 1.0)
    _, g4 = scipy_luma_blur(x, 4.0)
    want = x.astype(np.float64)
    want[..., :3] += (-0.6 * (g1 - g4))[..., None]
    assert_close(ops.Texture(amount=-60).reference(x), want.astype(np.float32), RTOL_SCIPY,
                 what="texture -60 vs scipy")


def test_texture_positive_soft_limit_against_scipy():
    x = random_rgba((37, 41), seed=36)
    _, g1 = scipy_luma_blur(x, 1.0)
    _, g4 = scipy_luma_blur(x, 4.0)
    d = g1 - g4
    want = x.astype(np.float64)
    want[..., :3] += (0.9 * d / (1 + np.abs(d) / 0.15))[..., None]
    assert_close(ops.Texture(amount=90).reference(x), want.astype(np.float32), RTOL_SCIPY,
                 what="texture +90 vs scipy")


@pytest.mark.parametrize("amount", [-70.0, 45.0])
def test_clarity_against_scipy(amount):
    x = random_rgba((60, 53), seed=37)
    _, g4 = scipy_luma_blur(x, 4.0)
    _, b = scipy_luma_blur(x, 16.0, truncate=3.0)
    d = g4 - b
    c = np.clip(b, 0, 1)
    m = 4 * c * (1 - c)
    k = amount / 100
    limited = d / (1 + np.abs(d) / 0.25) if k > 0 else d
    want = x.astype(np.float64)
    want[..., :3] += (k * m * limited)[..., None]
    assert_close(ops.Clarity(amount=amount).reference(x), want.astype(np.float32), RTOL_SCIPY,
                 what=f"clarity {amount} vs scipy")


@pytest.mark.parametrize("radius", [0.5, 1.0, 2.7])
def test_sharpen_without_threshold_or_mask_is_scipy_unsharp_mask_of_luma(radius):
    x = random_rgba((45, 38), seed=38)
    y, b = scipy_luma_blur(x, radius)
    want = x.astype(np.float64)
    want[..., :3] += (1.4 * (y - b))[..., None]  # amount 70 -> gain 1.4
    got = ops.Sharpen(amount=70, radius=radius).reference(x)
    assert_close(got, want.astype(np.float32), RTOL_SCIPY, what=f"sharpen r={radius} vs scipy")


def test_sharpen_edge_strength_is_scipy_gradient_magnitude():
    y1 = ndi.gaussian_filter(luma(random_rgba((30, 33), seed=39)).astype(np.float64), 1.0,
                             mode="mirror")
    gx = ndi.correlate1d(y1, [-0.5, 0.0, 0.5], axis=1, mode="mirror")
    gy = ndi.correlate1d(y1, [-0.5, 0.0, 0.5], axis=0, mode="mirror")
    got = ops.Sharpen.gradient_magnitude(y1.astype(np.float32))
    np.testing.assert_allclose(got, np.hypot(gx, gy), rtol=0, atol=1e-6)


def test_sharpen_mask_against_scipy():
    x = random_rgba((41, 36), seed=43)
    y, b = scipy_luma_blur(x, 1.5)
    y1 = ndi.gaussian_filter(y, 1.0, mode="mirror")
    e = np.hypot(ndi.correlate1d(y1, [-0.5, 0.0, 0.5], axis=1, mode="mirror"),
                 ndi.correlate1d(y1, [-0.5, 0.0, 0.5], axis=0, mode="mirror"))
    # masking 70: knee from 0.7 * 0.11 - 0.06 to + 0.06; threshold 40: 0.4 * 0.08 - 0.04 to + 0.04
    def smooth(t):
        u = np.clip(t, 0, 1)
        return u * u * (3 - 2 * u)
    d = y - b
    dy = 1.6 * d * smooth((np.abs(d) - (0.4 * 0.08 - 0.04)) / 0.04) * smooth(
        (e - (0.7 * 0.11 - 0.06)) / 0.06)
    want = x.astype(np.float64)
    want[..., :3] += dy[..., None]
    got = ops.Sharpen(amount=80, radius=1.5, threshold=40, masking=70).reference(x)
    assert_close(got, want.astype(np.float32), RTOL_SCIPY, what="sharpen with mask vs scipy")


def test_chroma_and_alpha_are_kept():
    x = random_rgba((33, 29), seed=40)
    for op in CONFIGS:
        out = op.reference(x)
        dr, dg, db = (out[..., c].astype(np.float64) - x[..., c] for c in range(3))
        # one float32 rounding of each channel's sum: <= 1 ulp of values <= ~2
        assert np.abs(dr - dg).max() < 3e-7 and np.abs(dr - db).max() < 3e-7, op
        assert np.abs(dr).max() > 1e-3, op  # and something did change
        np.testing.assert_array_equal(out[..., 3], x[..., 3])


def test_radius_bounds_the_footprint():
    # a change to one input pixel changes outputs within radius() of it and no further
    x = random_rgba((110, 120), seed=41)
    x2 = x.copy()
    x2[54, 60, :3] += 0.3
    for op in [*CONFIGS, ops.Sharpen(amount=50, radius=3.0, masking=10)]:
        r = op.radius()
        changed = np.any(op.reference(x) != op.reference(x2), axis=-1)
        ys, xs = np.nonzero(changed)
        reach = max(np.abs(ys - 54).max(), np.abs(xs - 60).max())
        # exact, except that the sharpen mask's ring reaches r - 1 when the detail
        # blur is wider than the mask blur (radius() then counts the padded lane)
        assert reach == r or (isinstance(op, ops.Sharpen) and reach == r - 1), (op, reach)
    assert ops.Texture(amount=1).radius() == 16
    assert ops.Clarity(amount=1).radius() == 48
    assert ops.Sharpen(amount=1, radius=3.0).radius() == 12
    assert ops.Sharpen(amount=1, radius=0.5).radius() == 2
    assert ops.Sharpen(amount=1, radius=0.5, masking=1).radius() == 5
    assert ops.Sharpen(amount=1, radius=3.0, masking=1).radius() == 13


# --- properties ------------------------------------------------------------------

def band_energy(x, s1, s2):
    """Std of the scipy difference of Gaussians (s1 - s2) of the luma: detail at that scale."""
    y = luma(x).astype(np.float64)
    return float(np.std(ndi.gaussian_filter(y, s1) - ndi.gaussian_filter(y, s2)))


def local_contrast(x, size=33):
    """Mean local standard deviation of luma over size x size windows (scipy)."""
    y = luma(x).astype(np.float64)
    m = ndi.uniform_filter(y, size)
    v = ndi.uniform_filter(y * y, size) - m * m
    return float(np.mean(np.sqrt(np.maximum(v, 0.0))))


def test_texture_raises_and_lowers_fine_detail(chelsea):
    # measured on the 100 x 151 photo: 1-4 px band energy x1.40 at +100,
    # x1.20 at +50, x0.69 at -50, x0.41 at -100
    e0 = band_energy(chelsea, 1.0, 4.0)
    ratio = {a: band_energy(ops.Texture(amount=a).reference(chelsea), 1.0, 4.0) / e0
             for a in (100, 50, -50, -100)}
    assert ratio[100] > 1.3 and ratio[50] > 1.12
    assert ratio[-50] < 0.8 and ratio[-100] < 0.5
    assert ratio[100] > ratio[50] > 1 > ratio[-50] > ratio[-100]


def test_clarity_raises_and_lowers_local_contrast(chelsea):
    # measured: mean 33 px local std x1.31 at +100, x1.15 at +50, x0.81 at -50,
    # x0.66 at -100
    c0 = local_contrast(chelsea)
    ratio = {a: local_contrast(ops.Clarity(amount=a).reference(chelsea)) / c0
             for a in (100, 50, -50, -100)}
    assert ratio[100] > 1.2 and ratio[50] > 1.08
    assert ratio[-50] < 0.88 and ratio[-100] < 0.75
    assert ratio[100] > ratio[50] > 1 > ratio[-50] > ratio[-100]


def test_clarity_spares_deep_shadows_and_highlights():
    rng = np.random.default_rng(42)
    y = 0.02 + 0.01 * rng.standard_normal((50, 50))  # a dark, textured patch
    x = rgba(y)
    out = ops.Clarity(amount=100).reference(x)
    mid = rgba(y + 0.48)  # the same texture in the midtones
    out_mid = ops.Clarity(amount=100).reference(mid)
    change_dark = np.abs(out - x)[..., 0].mean()
    change_mid = np.abs(out_mid - mid)[..., 0].mean()
    assert change_dark < 0.1 * change_mid  # weight 4c(1-c): ~0.08 at c = 0.02


def rise_width(profile):
    """10-90 % rise distance (pixels, linear interpolation) of a rising edge profile."""
    lo, hi = profile[:5].mean(), profile[-5:].mean()

    def cross(f):
        t = lo + f * (hi - lo)
        i = int(np.argmax(profile >= t))
        return i - 1 + (t - profile[i - 1]) / (profile[i] - profile[i - 1])

    return cross(0.9) - cross(0.1)


def test_sharpen_shortens_the_rise_of_a_blurred_edge():
    # a 0.2 -> 0.8 step blurred with sigma 2 px: 10-90 % rise 5.10 px.
    # measured after sharpening: 4.62 (amount 50, r 1), 4.20 (100, 1), 2.84 (100, 2)
    step = np.where(np.arange(64) < 32, 0.2, 0.8)
    x = rgba(np.tile(ndi.gaussian_filter1d(step, 2.0, mode="nearest"), (8, 1)))
    w0 = rise_width(x[4, :, 0].astype(np.float64))
    assert 5.0 < w0 < 5.2
    widths = [rise_width(ops.Sharpen(amount=a, radius=r).reference(x)[4, :, 0].astype(np.float64))
              for a, r in [(50, 1.0), (100, 1.0), (100, 2.0)]]
    assert widths[0] < 0.93 * w0
    assert widths[1] < 0.85 * w0
    assert widths[2] < 0.6 * w0


def edge_and_noise(seed, noise, edge_sigma):
    """A 0.25 | 0.75 edge (blurred by ``edge_sigma`` px, 0: sharp) over Gaussian noise, 48 x 64."""
    rng = np.random.default_rng(seed)
    prof = np.where(np.arange(64) < 32, 0.25, 0.75)
    if edge_sigma:
        prof = ndi.gaussian_filter1d(prof, edge_sigma, mode="nearest")
    return rgba(prof[None, :] + rng.normal(0.0, noise, (48, 64)))


FLAT = (slice(None), slice(0, 20))  # 12+ px from the edge: beyond the mask's reach
EDGE = (slice(None), slice(30, 34))


def test_masking_spares_flat_noisy_areas_and_keeps_edges():
    # measured, mean |change| of the flat side: 0.0136 at masking 0, 0.0005 at 50,
    # 0 at 100; at the edge 0.069 (masking 0 and 50) and 0.050 (100)
    x = edge_and_noise(5, 0.01, 1.0)
    change = {m: np.abs(ops.Sharpen(amount=100, masking=m).reference(x) - x)[..., 0]
              for m in (0, 50, 100)}
    assert change[0][FLAT].mean() > 0.01
    assert change[50][FLAT].mean() < 0.1 * change[0][FLAT].mean()
    assert change[100][FLAT].mean() < 0.01 * change[0][FLAT].mean()
    assert change[100][EDGE].mean() > 0.6 * change[0][EDGE].mean()


def test_threshold_suppresses_low_amplitude_noise():
    # a sharp edge this time; measured, mean |change| of the flat side: 0.0148 at
    # threshold 0, 0.0032 at 50, 0 at 100; at the edge 0.180, 0.175, 0.151
    x = edge_and_noise(6, 0.01, 0.0)
    change = {t: np.abs(ops.Sharpen(amount=100, threshold=t).reference(x) - x)[..., 0]
              for t in (0, 50, 100)}
    assert change[0][FLAT].mean() > 0.01
    assert change[50][FLAT].mean() < 0.3 * change[0][FLAT].mean()
    assert change[100][FLAT].mean() < 0.01 * change[0][FLAT].mean()
    assert change[100][EDGE].mean() > 0.6 * change[0][EDGE].mean()


def test_flat_image_stays_flat():
    x = rgba(np.full((20, 30), 0.4))
    for op in CONFIGS:
        np.testing.assert_allclose(op.reference(x), x, rtol=0, atol=1e-6, err_msg=repr(op))


# --- parameters -------------------------------------------------------------------

@pytest.mark.parametrize(("cls", "config", "field"), [
    (ops.Texture, {"amount": 101}, "amount"),
    (ops.Clarity, {"amount": -100.5}, "amount"),
    (ops.Sharpen, {"amount": -1}, "amount"),
    (ops.Sharpen, {"radius": 3.5}, "radius"),
    (ops.Sharpen, {"radius": 0.4}, "radius"),
    (ops.Sharpen, {"threshold": 120}, "threshold"),
    (ops.Sharpen, {"masking": -5}, "masking"),
    (ops.Sharpen, {"sigma": 1}, "sigma"),
])
def test_bad_parameters_raise_parameter_error(cls, config, field):
    with pytest.raises(ParameterError, match=field):
        cls.from_config(config)


def test_sharpen_radius_is_configured_by_name():
    op = ops.Sharpen.from_config({"amount": 40, "radius": 2.0, "threshold": 5, "masking": 20})
    assert op.blur_radius == 2.0 and op.radius() == 9
    assert ops.Sharpen.model_json_schema()["properties"]["radius"]["unit"] == "pixels"
