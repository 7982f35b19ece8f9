"""Spatial ops: Gaussian blur, box blur, unsharp mask.

Tolerances: reference vs WebGPU rtol 1e-5 (float32 sums in a different
order; measured <= 3e-7); reference vs scipy.ndimage 1e-5 (both accumulate
in float64; measured <= 6e-8).
"""

import numpy as np
import pytest
import scipy.ndimage as ndi

from pixelpipe import ParameterError, Pipeline, ops
from tests.helpers import SIZES, TALL, assert_close, check_consistency, random_rgba

MODES = ("mirror", "reflect", "nearest", "wrap", "constant")
RTOL_GPU = 1e-5
RTOL_SCIPY = 1e-5


# --- Gaussian blur ------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape", SIZES)
def test_gaussian_wgpu_matches_reference(shape, mode, wgpu_backend):
    # sigma 3 -> radius 12: wider than the small images, which exercises the
    # periodic extension of every edge mode
    x = random_rgba(shape, seed=11, low=-0.5, high=2.0)
    check_consistency(ops.GaussianBlur(sigma=3.0, mode=mode, cval=0.25), x, wgpu_backend,
                      rtol=RTOL_GPU)


@pytest.mark.parametrize(("sigma", "mode"), [(20.0, "mirror"), (20.0, "constant"),
                                             (200.0, "wrap"), (0.3, "reflect")])
def test_gaussian_wgpu_large_and_tiny_radius(sigma, mode, wgpu_backend):
    # radius 80 and 800 stream the window through workgroup memory in several
    # chunks; sigma 0.3 has radius 1
    x = random_rgba((37, 53), seed=12)
    check_consistency(ops.GaussianBlur(sigma=sigma, mode=mode, cval=-1.0), x, wgpu_backend,
                      rtol=RTOL_GPU)


@pytest.mark.parametrize("mode", ["mirror", "reflect", "wrap"])
def test_gaussian_wgpu_left_edge_of_wide_image(mode, wgpu_backend):
    # the periodic modes fold negative positions with a remainder; a signed
    # remainder of a negative value was once miscompiled on a hardware
    # driver for widths like this one, breaking only the left/top border
    x = random_rgba((20, 512), seed=16)
    check_consistency(ops.GaussianBlur(sigma=2.0, mode=mode), x, wgpu_backend, rtol=RTOL_GPU)


def test_gaussian_wgpu_tall(wgpu_backend):
    x = random_rgba(TALL, seed=13)
    check_consistency(ops.GaussianBlur(sigma=1.0, mode="mirror"), x, wgpu_backend,
                      rtol=RTOL_GPU)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("shape", "sigma", "truncate"),
                         [((40, 31), 2.0, 4.0), ((6, 9), 2.5, 3.0), ((64, 70), 7.3, 2.5)])
def test_gaussian_reference_matches_scipy(shape, sigma, truncate, mode):
    x = random_rgba(shape, seed=14, low=-1.0, high=3.0)
    got = ops.GaussianBlur(sigma=sigma, truncate=truncate, mode=mode, cval=0.7).reference(x)
    want = ndi.gaussian_filter(x, (sigma, sigma, 0), truncate=truncate, mode=mode, cval=0.7)
    assert_close(got, want, RTOL_SCIPY, what=f"gaussian {mode} {shape}")


@pytest.mark.parametrize("sigma", [0.2, 0.7, 1.0, 3.3, 12.0])
def test_gaussian_weights_are_scipys_impulse_response(sigma):
    op = ops.GaussianBlur(sigma=sigma)
    r = op.radius()
    impulse = np.zeros(4 * r + 3)
    impulse[2 * r + 1] = 1.0
    response = ndi.gaussian_filter1d(impulse, sigma, truncate=4.0, mode="constant")
    w = op.weights()
    assert len(w) == 2 * r + 1
    np.testing.assert_allclose(w, response[r + 1: 3 * r + 2], rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(response[: r + 1], 0.0)  # nothing beyond the radius
    assert abs(w.sum() - 1.0) < 1e-12


def test_gaussian_nan_inf_spread_over_footprint(wgpu_backend):
    x = random_rgba((30, 41), seed=15)
    x[5, 7, 0] = np.nan
    x[20, 30, 1] = np.inf
    x[21, 2, 2] = -np.inf
    op = ops.GaussianBlur(sigma=1.2, mode="reflect")
    ref = check_consistency(op, x, wgpu_backend, rtol=RTOL_GPU)
    want = ndi.gaussian_filter(x, (1.2, 1.2, 0), mode="reflect")
    assert_close(ref, want, RTOL_SCIPY, what="gaussian with NaN/Inf vs scipy")
    r = op.radius()
    assert np.isnan(ref[5 - r: 5 + r + 1, 7 - r: 7 + r + 1, 0]).all()
    assert np.isfinite(ref[..., 0]).sum() == ref[..., 0].size - (2 * r + 1) ** 2
    assert (ref[20 - r: 20 + r + 1, 30 - r: 30 + r + 1, 1] == np.inf).all()
    assert np.isfinite(ref[..., 3]).all()  # channels are independent


def test_gaussian_keeps_flat_image_flat():
    x = np.full((9, 12, 4), 0.375, np.float32)
    for mode in MODES:
        y = ops.GaussianBlur(sigma=2.0, mode=mode, cval=0.375).reference(x)
        np.testing.assert_allclose(y, 0.375, rtol=1e-6)


# --- box blur -------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape", SIZES)
def test_box_wgpu_matches_reference(shape, mode, wgpu_backend):
    x = random_rgba(shape, seed=21, low=-0.5, high=2.0)
    check_consistency(ops.BoxBlur(radius=9, mode=mode, cval=-0.5), x, wgpu_backend,
                      rtol=RTOL_GPU)


def test_box_wgpu_tall(wgpu_backend):
    x = random_rgba(TALL, seed=22)
    check_consistency(ops.BoxBlur(radius=2, mode="wrap"), x, wgpu_backend, rtol=RTOL_GPU)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("shape", "radius"), [((40, 31), 3), ((5, 8), 6), ((50, 66), 0)])
def test_box_reference_matches_scipy(shape, radius, mode):
    x = random_rgba(shape, seed=23, low=-1.0, high=3.0)
    got = ops.BoxBlur(radius=radius, mode=mode, cval=0.1).reference(x)
    n = 2 * radius + 1
    want = ndi.uniform_filter(x.astype(np.float64), (n, n, 1), mode=mode, cval=0.1)
    assert_close(got, want.astype(np.float32), RTOL_SCIPY, what=f"box {mode} {shape}")


@pytest.mark.parametrize("mode", MODES)
def test_box_nan_spreads_over_the_window(mode, wgpu_backend):
    x = random_rgba((23, 29), seed=24)
    x[3, 25, 2] = np.nan
    x[12, 12, 0] = np.nan
    ref = check_consistency(ops.BoxBlur(radius=2, mode=mode), x, wgpu_backend, rtol=RTOL_GPU)
    expected = ndi.maximum_filter(np.isnan(x).astype(np.uint8), (5, 5, 1), mode=mode) > 0
    np.testing.assert_array_equal(np.isnan(ref), expected)


def test_box_radius_zero_is_identity():
    x = random_rgba((6, 7), seed=25)
    np.testing.assert_array_equal(ops.BoxBlur(radius=0).reference(x), x)


# --- unsharp mask ----------------------------------------------------------------

def scipy_unsharp(x, amount, sigma, threshold, mode="mirror"):
    """The unsharp-mask formula of unsharp_mask.py built on scipy's Gaussian."""
    rgb = x[..., :3]
    b = ndi.gaussian_filter(rgb, (sigma, sigma, 0), mode=mode)
    d = rgb - b
    out = x.copy()
    out[..., :3] = np.where(np.abs(d) < np.float32(threshold), rgb,
                            rgb + np.float32(amount) * d)
    return out, np.abs(d)


def threshold_in_gap(absd, near):
    """A threshold near ``near`` at least 1e-4 away from every |detail| value."""
    v = np.sort(absd.ravel())
    gaps = np.diff(v)
    ok = np.flatnonzero(gaps > 2e-4)
    i = ok[np.argmin(np.abs(v[ok] - near))]
    return float((v[i] + v[i + 1]) / 2)


@pytest.mark.parametrize("shape", SIZES)
def test_unsharp_wgpu_matches_reference(shape, wgpu_backend):
    x = random_rgba(shape, seed=31, low=0.0, high=1.0)
    _, absd = scipy_unsharp(x, 1.5, 2.0, 0.0)
    # keep |detail| away from the threshold: a decision within rounding of
    # the threshold may legitimately differ between backends
    t = threshold_in_gap(absd, 0.1) if absd.size > 3 else 0.0
    check_consistency(ops.UnsharpMask(amount=1.5, sigma=2.0, threshold=t), x, wgpu_backend,
                      rtol=RTOL_GPU)


def test_unsharp_wgpu_tall(wgpu_backend):
    x = random_rgba(TALL, seed=32)
    check_consistency(ops.UnsharpMask(amount=0.8, sigma=0.8, mode="nearest"), x, wgpu_backend,
                      rtol=RTOL_GPU)


@pytest.mark.parametrize("mode", MODES[:4])
def test_unsharp_reference_matches_scipy_formula(mode):
    x = random_rgba((45, 38), seed=33)
    _, absd = scipy_unsharp(x, 2.0, 1.7, 0.0, mode)
    t = threshold_in_gap(absd, 0.15)
    want, _ = scipy_unsharp(x, 2.0, 1.7, t, mode)
    got = ops.UnsharpMask(amount=2.0, sigma=1.7, threshold=t, mode=mode).reference(x)
    assert_close(got, want, RTOL_SCIPY, what=f"unsharp {mode}")
    assert (got != x).any() and (got == x).any()  # the threshold did split the pixels


def test_unsharp_amount_zero_is_identity():
    x = random_rgba((17, 21), seed=34)
    np.testing.assert_array_equal(ops.UnsharpMask(amount=0.0, sigma=3.0).reference(x), x)


@pytest.mark.parametrize("mode", MODES[:4])
def test_unsharp_leaves_flat_image_unchanged(mode, wgpu_backend):
    x = np.full((20, 19, 4), 0.6, np.float32)
    x[..., 3] = 0.5
    op = ops.UnsharpMask(amount=3.0, sigma=2.5, mode=mode)
    np.testing.assert_allclose(op.reference(x), x, rtol=1e-6)
    np.testing.assert_allclose(Pipeline([op]).run(x, backend=wgpu_backend), x, rtol=1e-6)


def test_unsharp_threshold_suppresses_small_detail():
    rng = np.random.default_rng(35)
    x = np.full((40, 40, 4), 0.2, np.float32)
    x[:, 20:, :3] = 0.8  # a strong vertical edge
    x[..., :3] += rng.uniform(-0.005, 0.005, (40, 40, 3)).astype(np.float32)  # faint grain
    op = ops.UnsharpMask(amount=1.0, sigma=1.0, threshold=0.05)
    y = op.reference(x)
    far = np.r_[0:14, 26:40]  # columns more than 2 radii from the edge
    np.testing.assert_array_equal(y[:, far], x[:, far])  # grain not sharpened
    assert (y[:, 19, :3] < x[:, 19, :3] - 0.05).all()  # dark side of the edge darker
    assert (y[:, 20, :3] > x[:, 20, :3] + 0.05).all()  # bright side brighter
    no_threshold = ops.UnsharpMask(amount=1.0, sigma=1.0).reference(x)
    assert (no_threshold[:, far] != x[:, far]).any()  # without it the grain is sharpened


def test_unsharp_keeps_alpha_and_propagates_nan(wgpu_backend):
    x = random_rgba((25, 26), seed=36)
    x[10, 10, 1] = np.nan
    op = ops.UnsharpMask(amount=1.0, sigma=1.0, threshold=0.2)
    ref = check_consistency(op, x, wgpu_backend, rtol=RTOL_GPU)
    np.testing.assert_array_equal(ref[..., 3], x[..., 3])
    r = op.radius()
    assert np.isnan(ref[10 - r: 10 + r + 1, 10 - r: 10 + r + 1, 1]).all()
    assert np.isfinite(ref[..., [0, 2]]).all()


# --- parameters ------------------------------------------------------------------

@pytest.mark.parametrize(("cls", "config", "field"), [
    (ops.GaussianBlur, {"sigma": 0}, "sigma"),
    (ops.GaussianBlur, {"sigma": 250}, "sigma"),
    (ops.GaussianBlur, {"sigma": 1, "mode": "bogus"}, "mode"),
    (ops.GaussianBlur, {"sigma": 1, "truncate": 0}, "truncate"),
    (ops.BoxBlur, {"radius": -1}, "radius"),
    (ops.BoxBlur, {"radius": 2.5}, "radius"),
    (ops.UnsharpMask, {"amount": 6}, "amount"),
    (ops.UnsharpMask, {"threshold": 1.5}, "threshold"),
    (ops.UnsharpMask, {"sigma": -1}, "sigma"),
])
def test_bad_parameters_raise(cls, config, field):
    with pytest.raises(ParameterError, match=field):
        cls.from_config(config)


def test_radius_is_the_planners_halo():
    assert ops.GaussianBlur(sigma=8.0).radius() == 32
    assert ops.GaussianBlur(sigma=2.0, truncate=3.0).radius() == 6
    assert ops.BoxBlur.from_config({"radius": 7}).radius() == 7
    assert ops.UnsharpMask(sigma=1.0).radius() == 4
    plan = Pipeline([ops.GaussianBlur(sigma=1.0), ops.BoxBlur(radius=3)]).plan()
    assert plan.halo == 7
