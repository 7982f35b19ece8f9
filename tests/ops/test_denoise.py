"""Denoise: à trous B3-spline wavelet, MAD noise estimate, soft thresholds.

Tolerances:
* reference vs WebGPU: 3e-6 (relative above 1, absolute below; measured
  worst 4.5e-7 on llvmpipe): the reference runs in float64, the GPU in float32
  over 10 passes; 6x headroom for fused multiply-add on other drivers.
* transform reconstruction with zero thresholds: 1e-6 absolute.
* noise sigma estimate on Gaussian noise of known sigma: 5 %.
"""

import numpy as np
import pytest
import scipy.ndimage as ndi
from colour import RGB_to_YCbCr
from colour.models import WEIGHTS_YCBCR

from pixelpipe import ParameterError, Pipeline, ops
from pixelpipe.ops.spatial import denoise as dn
from tests.helpers import SIZES, TALL, assert_close, check_consistency, random_rgba

RTOL = 3e-6
#: ITU-R BT.2020-2, table 4
KR, KB = 0.2627, 0.0593
KG = 1.0 - KR - KB


@pytest.mark.parametrize("shape", [*SIZES, TALL])
def test_denoise_wgpu_matches_reference(shape, wgpu_backend):
    x = random_rgba(shape, seed=4, low=-0.2, high=1.5)
    ref = check_consistency(ops.Denoise(luminance=70, color=55, detail=40), x,
                            wgpu_backend, rtol=RTOL)
    if shape[0] * shape[1] > 1:  # a 1x1 image has no detail and no noise
        assert np.abs(ref - x).max() > 0.05  # the op did something


@pytest.mark.parametrize("sliders", [(100, 0, 0), (0, 100, 100), (30, 80, 100)])
def test_denoise_slider_settings_wgpu_match_reference(sliders, wgpu_backend):
    lum, col, det = sliders
    x = random_rgba((40, 37), seed=5, low=0.0, high=2.0)
    check_consistency(ops.Denoise(luminance=lum, color=col, detail=det), x, wgpu_backend,
                      rtol=RTOL)


def test_nonfinite_pixels_pass_through(wgpu_backend):
    x = random_rgba((24, 31), seed=6)
    x[3, 4, 0], x[10, 20, 1], x[20, 2, 2] = np.nan, np.inf, -np.inf
    x[15, 15, 3] = np.nan  # alpha is not looked at
    ref = check_consistency(ops.Denoise(luminance=60, color=60), x, wgpu_backend, rtol=RTOL)
    bad = ~np.all(np.isfinite(x[..., :3]), axis=-1)
    np.testing.assert_array_equal(ref[bad], x[bad])
    assert np.all(np.isfinite(ref[~bad][:, :3]))


def test_alpha_untouched_and_identity_exact(wgpu_backend):
    x = random_rgba((19, 23), seed=7)
    for be in ("cpu", wgpu_backend):
        out = Pipeline([ops.Denoise(luminance=50, color=20)]).run(x, backend=be)
        np.testing.assert_array_equal(out[..., 3], x[..., 3])
        ident = Pipeline([ops.Denoise(detail=80)]).run(x, backend=be)
        np.testing.assert_array_equal(ident, x)
    assert ops.Denoise().is_identity() and ops.Denoise(detail=100).is_identity()
    assert not ops.Denoise(luminance=1).is_identity()
    assert not ops.Denoise(color=0.5).is_identity()


def test_gpu_holds_three_images_at_most(wgpu_backend):
    # 10 passes; live at any one: the op input or t_{j-1}, t_j and the
    # accumulator (the pool rounds sizes up a little: fewer than 4 images)
    x = random_rgba((48, 53), seed=17)
    check_consistency(ops.Denoise(luminance=40, color=60, detail=20), x, wgpu_backend,
                      rtol=RTOL)
    assert wgpu_backend.kernels_dispatched == 10
    assert wgpu_backend.last_run_bytes < 4 * x.nbytes


def test_gpu_passes_read_at_most_two_images():
    passes = ops.Denoise(luminance=50).gpu_passes_with(20, 30, np.full(3, 0.01))
    assert len(passes) == 10
    assert all(len(p.inputs) <= 2 for p in passes)
    # the accumulator (pass 1) is updated in place by every later along-y pass
    assert [p.in_place for p in passes[3::2]] == ["p1"] * 4
    # the tiles the passes declare match the run length the shaders use
    assert f"const RUN: u32 = {dn.GPU_RUN}u;" in passes[0].shader
    assert passes[0].tile == (16, 16 * dn.GPU_RUN) and passes[1].tile == (16 * dn.GPU_RUN, 16)


def test_atrous_bands_sum_to_input():
    x = random_rgba((45, 38), seed=8, low=-1.0, high=3.0)[..., :3]
    bands, coarse = dn.atrous(x)
    assert len(bands) == 5
    np.testing.assert_allclose(coarse + sum(bands), x, rtol=0, atol=1e-6)
    assert all(np.abs(b).max() > 1e-3 for b in bands)


def test_zero_thresholds_reconstruct_input(wgpu_backend):
    # big flat blocks: the finest band is zero at most pixels, so the MAD
    # noise estimate is 0, every threshold is 0, and the GPU transform must
    # give its input back
    rng = np.random.default_rng(9)
    blocks = rng.uniform(0.0, 1.0, (6, 5, 4)).astype(np.float32)
    x = np.repeat(np.repeat(blocks, 12, axis=0), 14, axis=1)
    op = ops.Denoise(luminance=100, color=100)
    np.testing.assert_allclose(op.statistics(x), 0.0, rtol=0, atol=1e-12)
    for be in ("cpu", wgpu_backend):
        out = Pipeline([op]).run(x, backend=be)
        np.testing.assert_allclose(out, x, rtol=0, atol=1e-6)


@pytest.mark.parametrize("shape", [(7, 5), (40, 33)])
@pytest.mark.parametrize("dilation", [1, 4, 16])
def test_smoothing_step_matches_scipy_mirror(shape, dilation):
    x = random_rgba(shape, seed=10)[..., :3].astype(np.float64)
    kernel = np.zeros(4 * dilation + 1)
    kernel[::dilation] = [1, 4, 6, 4, 1]
    kernel /= 16.0
    expected = ndi.correlate1d(ndi.correlate1d(x, kernel, axis=1, mode="mirror"),
                               kernel, axis=0, mode="mirror")
    np.testing.assert_allclose(dn.smooth(x, dilation), expected, rtol=0, atol=1e-12)


def test_ycbcr_matches_colour_science():
    rgb = random_rgba((10, 10), seed=11, low=-0.2, high=1.2)[..., :3].astype(np.float64)
    expected = RGB_to_YCbCr(rgb, K=WEIGHTS_YCBCR["ITU-R BT.2020"], out_legal=False,
                            out_int=False)
    np.testing.assert_allclose(dn.rgb_to_ycbcr(rgb), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(dn.ycbcr_to_rgb(dn.rgb_to_ycbcr(rgb)), rgb, rtol=0,
                               atol=1e-12)


def test_band_noise_factors_match_published_table():
    # Starck & Murtagh, Astronomical Image and Data Analysis: B3-spline à
    # trous, standard deviation of the bands of unit Gaussian white noise
    published = [0.889, 0.200, 0.086, 0.041, 0.020]
    np.testing.assert_allclose(dn.band_noise_factors(), published, rtol=0, atol=0.0025)


def test_band_noise_factors_match_simulated_noise():
    noise = np.random.default_rng(12).normal(0.0, 1.0, (512, 512, 1))
    bands, _ = dn.atrous(noise)
    measured = [b[64:-64, 64:-64].std() for b in bands]  # away from the mirrored edges
    np.testing.assert_allclose(measured, dn.band_noise_factors(), rtol=0.05)


def test_noise_sigma_estimate_within_5_percent():
    rng = np.random.default_rng(13)
    sigma = 0.03
    # the same noise in R, G and B: luminance noise only (Y = n, Cb = Cr = 0)
    grey = np.full((256, 256, 4), 0.5, np.float32)
    grey[..., :3] += rng.normal(0.0, sigma, (256, 256, 1)).astype(np.float32)
    est = dn.noise_sigma(grey)
    assert abs(est[0] / sigma - 1) < 0.05, est
    assert np.all(np.abs(est[1:]) < 1e-6), est
    # independent noise per channel: std of Y, Cb, Cr from the weights
    rgb = np.full((256, 256, 4), 0.5, np.float32)
    rgb[..., :3] += rng.normal(0.0, sigma, (256, 256, 3)).astype(np.float32)
    expected = sigma * np.array([
        np.sqrt(KR**2 + KG**2 + KB**2),
        np.sqrt(KR**2 + KG**2 + (1 - KB) ** 2) / (2 * (1 - KB)),
        np.sqrt((1 - KR) ** 2 + KG**2 + KB**2) / (2 * (1 - KR)),
    ])
    np.testing.assert_allclose(dn.noise_sigma(rgb), expected, rtol=0.05)
    np.testing.assert_array_equal(ops.Denoise(luminance=1).statistics(rgb), dn.noise_sigma(rgb))


def _rise_10_90(img, w):
    """10-90 % rise width (pixels) of the mean row profile of a left-to-right step."""
    prof = img[8:-8, :, :3].mean(axis=(0, 2))
    lo, hi = prof[: w // 2 - 10].mean(), prof[w // 2 + 10:].mean()

    def crossing(f):
        v = lo + f * (hi - lo)
        i = int(np.flatnonzero(prof >= v)[0])
        return i - 1 + (v - prof[i - 1]) / (prof[i] - prof[i - 1])

    return crossing(0.9) - crossing(0.1)


def test_denoise_lowers_noise_and_keeps_the_edge():
    # step 0.2 -> 0.7 plus independent Gaussian noise sigma 0.05 per channel.
    # Measured (seeds 0..5): luminance 50 lowers the luminance noise in flat
    # regions 4.7-4.9x, color 50 the Cb/Cr noise 6-9x; the 10-90 % rise
    # of the edge goes from 0.8 px (clean) to 2.2-2.6 px
    h, w = 96, 128
    clean = np.ones((h, w, 4), np.float32)
    clean[..., :3] = 0.2
    clean[:, w // 2:, :3] = 0.7
    noisy = clean.copy()
    noisy[..., :3] += np.random.default_rng(0).normal(0.0, 0.05, (h, w, 3)).astype(np.float32)
    flat = (slice(4, -4), np.r_[4: w // 2 - 12, w // 2 + 12: w - 4])

    def noise_ycc(a):
        return dn.rgb_to_ycbcr(a[..., :3] - clean[..., :3])[flat].reshape(-1, 3).std(axis=0)

    before = noise_ycc(noisy)
    lum = ops.Denoise(luminance=50).reference(noisy)
    after = noise_ycc(lum)
    assert before[0] / after[0] >= 4.0, (before, after)
    np.testing.assert_allclose(after[1:], before[1:], rtol=0.05)  # colour left alone
    assert _rise_10_90(lum, w) - _rise_10_90(clean, w) <= 2.0

    both = ops.Denoise(luminance=50, color=50).reference(noisy)
    after = noise_ycc(both)
    assert np.all(before / after >= 4.0), (before, after)
    assert _rise_10_90(both, w) - _rise_10_90(clean, w) <= 2.0

    # detail keeps more of the fine band: less smoothing than without it
    kept = ops.Denoise(luminance=50, detail=100).reference(noisy)
    assert noise_ycc(kept)[0] > noise_ycc(lum)[0]


def test_denoise_parameters_validated():
    for field, value in (("luminance", 101), ("color", -1), ("detail", 100.5)):
        with pytest.raises(ParameterError, match=field):
            ops.Denoise.from_config({field: value})
    with pytest.raises(ParameterError, match="strength"):
        ops.Denoise.from_config({"strength": 10})
    assert ops.get_op_class("denoise") is ops.Denoise
    assert ops.Denoise().radius() == 62


def test_thresholds_follow_the_sliders():
    sigma = np.array([0.04, 0.02, 0.01])
    e = dn.band_noise_factors()
    t = ops.Denoise(luminance=100, color=50, detail=100).thresholds(sigma)
    assert t.shape == (5, 3)
    np.testing.assert_allclose(t[:, 0], 3.0 * (1 - 0.5 ** np.arange(1, 6)) * 0.04 * e)
    np.testing.assert_allclose(t[:, 1], 1.5 * 0.02 * e)
    np.testing.assert_allclose(t[:, 2], 1.5 * 0.01 * e)
    assert_close(ops.Denoise(luminance=0, color=10).thresholds(sigma)[:, 0], np.zeros(5), 0.0)


def _gpu_sigma(be, x):
    h, w = x.shape[:2]
    buf = be.pool.acquire(x.nbytes)
    be.staging.upload(np.ascontiguousarray(x), buf)
    try:
        return dn.gpu_noise_sigma(be, buf, h, w)
    finally:
        be.pool.release(buf)


def test_gpu_noise_sigma_band_tiles_fold_into_the_dispatch(wgpu_backend, monkeypatch):
    # 30 tiles of 16 x 16 over at most 4 workgroups per row: a 4 x 8 grid whose
    # last two workgroups have no tile; the same keys as the unfolded dispatch
    x = random_rgba((70, 90), seed=19, low=0.0, high=1.0)
    unfolded = _gpu_sigma(wgpu_backend, x)
    monkeypatch.setattr(wgpu_backend, "max_groups", 4)
    folded = _gpu_sigma(wgpu_backend, x)
    np.testing.assert_array_equal(folded, unfolded)
    np.testing.assert_allclose(folded, dn.noise_sigma(x), rtol=1e-5, atol=2e-7)


@pytest.mark.parametrize("shape", [*SIZES, (64, 65)])
def test_gpu_noise_sigma_matches_reference(shape, wgpu_backend):
    # the GPU computes w1 in float32 and finds its exact median (even and
    # odd pixel counts); the reference works in float64: 1e-5 relative, or
    # absolute one float32 rounding of values near 1 (1.2e-7) / 0.6745 / e_1
    x = random_rgba(shape, seed=14, low=0.0, high=1.0)
    x[..., :3] += np.random.default_rng(15).normal(0.0, 0.02, (*shape, 3)).astype(np.float32)
    if shape[0] * shape[1] > 20:
        x[2, 3, 1] = np.nan
        x[4, 1, 0] = -np.inf
    got = _gpu_sigma(wgpu_backend, x)
    expected = dn.noise_sigma(x)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=2e-7)


def test_gpu_noise_sigma_of_grey_noise(wgpu_backend):
    rng = np.random.default_rng(16)
    x = np.full((128, 96, 4), 0.4, np.float32)
    x[..., :3] += rng.normal(0.0, 0.03, (128, 96, 1)).astype(np.float32)
    got = _gpu_sigma(wgpu_backend, x)
    assert abs(got[0] / 0.03 - 1) < 0.05
    np.testing.assert_allclose(got, dn.noise_sigma(x), rtol=1e-5, atol=1e-7)


def test_gpu_noise_sigma_one_submit_one_readback(wgpu_backend, monkeypatch):
    # the whole estimate is one submit with every upload before it and one
    # map (read-back) after it: log the calls on the buffer and queue classes
    # (map_async is under map_sync, queue.read_buffer and staging downloads)
    be = wgpu_backend
    x = random_rgba((40, 56), seed=17, low=0.0, high=1.0)
    h, w = x.shape[:2]
    buf = be.pool.acquire(x.nbytes)
    be.staging.upload(np.ascontiguousarray(x), buf)
    events: list[str] = []
    inside_map: list[bool] = []  # wgpu-py's map_async submits an empty buffer itself
    buffer_cls, queue_cls = type(buf), type(be.device.queue)

    def logged(cls, name):
        original = getattr(cls, name)

        def wrapper(self, *args, **kwargs):
            if not inside_map:
                events.append(name)
            if name == "map_async":
                inside_map.append(True)
            try:
                return original(self, *args, **kwargs)
            finally:
                if name == "map_async":
                    inside_map.pop()

        monkeypatch.setattr(cls, name, wrapper)

    logged(buffer_cls, "map_async")
    logged(queue_cls, "submit")
    logged(queue_cls, "write_buffer")
    logged(queue_cls, "read_buffer")
    try:
        got = dn.gpu_noise_sigma(be, buf, h, w)
    finally:
        monkeypatch.undo()
        be.pool.release(buf)
    assert events.count("submit") == 1, events
    assert events.count("map_async") == 1, events
    assert "read_buffer" not in events
    assert events.index("submit") < events.index("map_async")
    assert all(events.index("submit") > i for i, e in enumerate(events) if e == "write_buffer")
    np.testing.assert_allclose(got, dn.noise_sigma(x), rtol=1e-5, atol=2e-7)


@pytest.mark.parametrize("shape", [(64, 64), (63, 65)])
@pytest.mark.parametrize("noisy_rows", [0, 8])
def test_gpu_noise_sigma_with_ties_across_the_median(shape, noisy_rows, wgpu_backend):
    # a 2 x 2 periodic pattern (reflect-101 edges keep period 2) gives all
    # pixels of one phase the same band value, computed from the same inputs
    # in the same order on the GPU too: per channel 4 values shared by about
    # n / 4 pixels each, so both middle ranks sit inside large ties (for
    # 64 x 64 without noise they fall in different tied classes). With
    # noisy_rows, rows of large values (0 .. 50) add distinct band values above
    # the ties and move the median into the third class. Tolerance as in
    # the tests above (the float32 rounding of w1): 1e-5 relative / 2e-7.
    h, w = shape
    rng = np.random.default_rng(18)
    tile = rng.uniform(0.0, 1.0, (2, 2, 3)).astype(np.float32)
    x = np.ones((h, w, 4), np.float32)
    x[..., :3] = np.tile(tile, (h // 2 + 1, w // 2 + 1, 1))[:h, :w]
    x[:noisy_rows, :, :3] = rng.uniform(0.0, 50.0, (noisy_rows, w, 3))
    # the ties exist as designed: each middle order statistic has >= n / 8 copies
    c0 = dn._transform_input(x)
    a = np.sort(np.abs(c0 - dn.smooth(c0, 1)).reshape(-1, 3), axis=0)
    n = h * w
    for r in ((n - 1) // 2, n // 2):
        assert np.all(np.sum(a == a[r], axis=0) >= n // 8)
    got = _gpu_sigma(wgpu_backend, x)
    np.testing.assert_allclose(got, dn.noise_sigma(x), rtol=1e-5, atol=2e-7)
