"""Dehaze (dark channel prior + guided filter).

Tolerances:
- dark channel (min filters) and airlight: exact on both backends and
  against scipy.ndimage.minimum_filter (rtol 0);
- reference vs WebGPU output: RTOL_GPU = 1e-4 (absolute below 1, relative
  above). The box means are float32 running sums of deviations on the GPU
  (RTOL_BOX below) and the recovered radiance (I - A) / t divides by
  t >= 0.1, which scales a transmission error by up to (I - A) / t**2, i.e.
  100x; measured on llvmpipe: <= 1.2e-6 on random images, the hazed photo
  and the smooth HDR ramps;
- box means alone, WebGPU vs the float64 reference: RTOL_BOX = 2e-6,
  measured <= 6e-7;
- reference vs a direct float64 guided filter built on
  scipy.ndimage.uniform_filter: 1e-4 (same amplification of float32 rounding
  in the reference); measured <= 2e-7.
"""

from typing import ClassVar

import numpy as np
import pytest
import scipy.ndimage as ndi
from PIL import Image

from pixelpipe import ParameterError, Pipeline, ops
from pixelpipe.ops.base import Op
from pixelpipe.ops.spatial import dehaze as dh
from pixelpipe.ops.spatial.separable import separable_reference
from tests.helpers import SIZES, TALL, assert_close, check_consistency, random_rgba

RTOL_GPU = 1e-4


class _DarkChannel(Op):
    """Test-only op: the statistics' dark channel in channel 0 (exactness of the min passes).

    ``r``: the window radius, 0 = the image's ``dark_radius``.
    """

    kind: ClassVar = ops.BoxBlur.kind  # neighbourhood
    r: int = 0

    def _radius(self, height, width):
        return self.r or dh.dark_radius(height, width)

    def reference(self, x):
        h, w = x.shape[:2]
        rgb = x[..., :3]
        d = dh.min_filter(np.minimum(np.minimum(rgb[..., 0], rgb[..., 1]), rgb[..., 2]),
                          self._radius(h, w))
        out = np.zeros_like(x)
        out[..., 0] = d
        return out

    def gpu_passes(self, height, width):
        r = self._radius(height, width)
        params = np.zeros((2, 4), np.float32)
        params[0, 0] = r
        return dh.min_passes(height, width, r, ("tap_rgb", "tap_x"), "finish_plain", params)


class _BoxMean(Op):
    """Test-only op: the guided filter's box mean of radius ``r`` (the box passes alone)."""

    kind: ClassVar = ops.BoxBlur.kind
    r: int = 1

    def reference(self, x):
        return separable_reference(x, dh.box_weights(self.r), "mirror")

    def gpu_passes(self, height, width):
        params = np.zeros((1, 4), np.float32)
        params[0, 0] = self.r
        return dh.box_passes(height, width, self.r, "in", "fin_mean", params)


def _linear(srgb):
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


@pytest.fixture(scope="module")
def hazed(data_dir):
    """(clean J, hazed I): chelsea.png in linear RGB, I = J t + A (1 - t), t a depth ramp."""
    srgb = np.asarray(Image.open(data_dir / "photos" / "chelsea.png").convert("RGB"),
                      np.float64) / 255.0
    h, w = srgb.shape[:2]
    clean = np.ones((h, w, 4), np.float32)
    clean[..., :3] = _linear(srgb)
    t = (0.3 + 0.6 * np.arange(w) / (w - 1))[None, :, None]  # 0.3 (far, left) .. 0.9
    airlight = np.array([0.8, 0.85, 0.9])
    hz = clean.copy()
    hz[..., :3] = clean[..., :3] * t + airlight * (1 - t)
    return clean, hz


def _rmse(a, b):
    return float(np.sqrt(np.mean((a[..., :3].astype(np.float64) - b[..., :3]) ** 2)))


def _local_contrast(a, n=15):
    """Mean RMS contrast (std of Rec. 2020 luma) over n x n blocks."""
    y = dh.luma(a).astype(np.float64)
    hh, ww = (y.shape[0] // n) * n, (y.shape[1] // n) * n
    return float(y[:hh, :ww].reshape(hh // n, n, ww // n, n).std(axis=(1, 3)).mean())


# --- reference vs WebGPU ---------------------------------------------------------------

@pytest.mark.parametrize("amount", [100.0, 37.0, -60.0])
@pytest.mark.parametrize("shape", SIZES)
def test_dehaze_wgpu_matches_reference(shape, amount, wgpu_backend):
    x = random_rgba(shape, seed=31, low=0.0, high=1.2)
    check_consistency(ops.Dehaze(amount=amount), x, wgpu_backend, rtol=RTOL_GPU)


def test_dehaze_wgpu_tall(wgpu_backend):
    # 1,100,000 x 2: dark radius 1, guide radius 4, 2,200 top pixels for the airlight;
    # the statistics (GPU radix select) run on the whole image before the passes
    x = random_rgba(TALL, seed=32, low=0.0, high=1.0)
    check_consistency(ops.Dehaze(amount=80.0), x, wgpu_backend, rtol=RTOL_GPU)


def test_dehaze_wgpu_hazed_photo_and_hdr(hazed, wgpu_backend):
    _, hz = hazed
    check_consistency(ops.Dehaze(amount=100.0), hz, wgpu_backend, rtol=RTOL_GPU)
    # smooth HDR ramps: tiny local variance, so the guided filter leans on eps
    x = np.ones((64, 200, 4), np.float32)
    x[..., 0] = np.linspace(0.0, 3.0, 200)[None, :]
    x[..., 1] = 0.5
    x[..., 2] = np.linspace(0.2, 0.21, 64)[:, None]
    check_consistency(ops.Dehaze(amount=70.0), x, wgpu_backend, rtol=RTOL_GPU)


@pytest.mark.parametrize("shape", [(1, 1), (7, 5), (33, 47), (70, 129), (300, 20)])
def test_dark_channel_wgpu_is_exact(shape, wgpu_backend):
    x = random_rgba(shape, seed=33, low=-0.5, high=2.0)
    check_consistency(_DarkChannel(), x, wgpu_backend, rtol=0.0)


# (shape, radius): windows wider than the image, several workgroup shapes of
# min_wg (long rows, short rows, 16/4/1 columns), and windows too wide for
# workgroup memory (the direct-scan fallback, min_main)
@pytest.mark.parametrize(("shape", "r"), [((70, 129), 20), ((40, 300), 47), ((9, 6), 30),
                                          ((150, 3), 100), ((5, 40), 700), ((12, 2), 900)])
def test_min_filter_wgpu_is_exact_for_wide_windows(shape, r, wgpu_backend):
    x = random_rgba(shape, seed=42, low=-0.5, high=2.0)
    ref = check_consistency(_DarkChannel(r=r), x, wgpu_backend, rtol=0.0)
    want = ndi.minimum_filter(x[..., :3].min(axis=-1), size=2 * r + 1, mode="nearest")
    np.testing.assert_array_equal(ref[..., 0], want)
    x[shape[0] // 2, shape[1] // 3, 1] = np.nan  # spreads over its window (numpy.minimum)
    got = check_consistency(_DarkChannel(r=r), x, wgpu_backend, rtol=0.0)
    assert np.isnan(got[..., 0]).any()


#: box means, WebGPU (float32 running sums of deviations) vs the float64 reference
#: (absolute below 1, relative above); measured <= 6e-7 on llvmpipe
RTOL_BOX = 2e-6


# (shape, radius): several runs along both axes, windows wider than the image
# (the mirror extension repeats periodically), 1-pixel lines, the longest runs
@pytest.mark.parametrize(("shape", "r"), [((1, 1), 3), ((7, 5), 9), ((70, 129), 4),
                                          ((33, 47), 20), ((300, 20), 40), ((2, 300), 100),
                                          ((300, 1), 7), ((260, 270), 188)])
def test_box_mean_wgpu_matches_reference(shape, r, wgpu_backend):
    x = random_rgba(shape, seed=43, low=-1.0, high=2.0)
    check_consistency(_BoxMean(r=r), x, wgpu_backend, rtol=RTOL_BOX)


def test_dehaze_wgpu_memory_and_passes(wgpu_backend):
    # at most 3 image buffers at any pass (input, output and one more) and 6 passes
    x = random_rgba((96, 130), seed=44, low=0.0, high=1.0)
    check_consistency(ops.Dehaze(amount=60.0), x, wgpu_backend, rtol=RTOL_GPU)
    assert wgpu_backend.kernels_dispatched == 6
    assert wgpu_backend.last_run_bytes < 4 * x.nbytes


def _gpu_airlight(x, be):
    buf = be.pool.acquire(x.nbytes)
    try:
        be.staging.upload(np.ascontiguousarray(x), buf)
        return ops.Dehaze(amount=50.0).gpu_statistics(be, buf, *x.shape[:2])
    finally:
        be.pool.release(buf)


def _stats_images():
    yield "random", random_rgba((33, 47), seed=38, low=-0.5, high=2.0)
    ties = np.round(random_rgba((70, 129), seed=39) * 4) / 4  # many equal values
    yield "ties", ties.astype(np.float32)
    special = random_rgba((50, 60), seed=40)
    special[3, 4, 0], special[10, 10, 1], special[20, 20, :3] = np.nan, np.inf, -np.inf
    yield "nan-inf", special
    yield "black", np.zeros((10, 10, 4), np.float32)
    yield "all-nan", np.full((4, 5, 4), np.nan, np.float32)
    yield "tall", random_rgba(TALL, seed=41)


@pytest.mark.parametrize(("name", "x"), list(_stats_images()), ids=lambda v: v
                         if isinstance(v, str) else "")
def test_airlight_same_on_both_paths(name, x, wgpu_backend):
    # exact: order keys, integer counts and atomics on the GPU; tall: 1,100,000 x 2
    np.testing.assert_array_equal(_gpu_airlight(x, wgpu_backend), dh.airlight(x), err_msg=name)


def test_airlight_same_on_hazed_photo(hazed, wgpu_backend):
    _, hz = hazed
    np.testing.assert_array_equal(_gpu_airlight(hz, wgpu_backend), dh.airlight(hz))



def _key_float(key):
    return float(dh._from_order_key(key))


def _levels_image(levels, background, seed):
    """(41, 201) image (k = 9) whose dark channel (r = 1) takes each level
    ``value`` at exactly ``blocks`` pixels: the centres of ``blocks`` 3 x 3
    blocks of that minimum channel, set apart on a lower background. The
    other two channels add one of ``adds`` (default 0, 0.25, 0.5: intensity
    ties)."""
    rng = np.random.default_rng(seed)
    x = np.full((41, 201, 4), background, np.float32)
    x[..., 3] = 1.0
    slots = rng.permutation(10 * 50)
    used = 0
    for value, blocks, *adds in levels:
        for slot in slots[used:used + blocks]:
            by, bx = divmod(int(slot), 50)
            add = rng.choice(adds[0] if adds else [0.0, 0.25, 0.5], 3).astype(np.float32)
            rgb = np.where(add > 0, np.float32(value) + add, np.float32(value))  # keeps -0
            rgb[rng.integers(3)] = np.float32(value)
            x[1 + 4 * by:4 + 4 * by, 1 + 4 * bx:4 + 4 * bx, :3] = rgb
        used += blocks
    dark = dh.min_filter(x[..., :3].min(axis=-1), 1)
    bits = dark.view(np.uint32)
    for value, blocks, *_ in levels:  # the construction holds (bitwise: -0 apart from +0)
        assert (bits == np.float32(value).view(np.uint32)).sum() == blocks
    return x


K9 = 9  # ceil(41 * 201 / 1000)
HALF = 0xBF000000  # order key of 0.5: digit 0xBF0, the lowest bin of a group of 16


@pytest.mark.parametrize(("levels", "background"), [
    # the top level holds exactly k pixels; the next key down is in the next group of bins
    ([(_key_float(HALF), K9), (_key_float(HALF - 1), 20)], 0.1),
    # k - 1 above: the k-th largest is the first bin of the next group, digits 0xFFF, 0xFF
    ([(_key_float(HALF), K9 - 1), (_key_float(HALF - 1), 5)], 0.1),
    # round 2's digit crosses 0x100 / 0x0FF; the count reaches k exactly
    ([(_key_float(HALF | 0x10000), K9 - 2), (_key_float(HALF | 0xFFFF), 2),
      (_key_float(HALF | 0xFF00), 4)], 0.1),
    # round 3's digit: k reached exactly at the lowest digit with one pixel
    ([(_key_float(HALF | 0xFF), 2), (_key_float(HALF | 0x80), K9 - 3),
      (_key_float(HALF), 1), (_key_float(HALF - 1), 3)], 0.1),
    # signed zeros tie (as floats): k pixels at +0, brighter ones at -0 are
    # candidates too; negatives below
    ([(0.0, K9, [0.0, 0.25]), (-0.0, 4, [0.5, 1.0]), (-1e-45, 3), (-0.25, 10)], -1.0),
], ids=["exact-k-group-edge", "next-group", "round2-edge", "round3-exact", "signed-zero"])
def test_airlight_same_on_both_paths_at_digit_boundaries(levels, background, wgpu_backend):
    x = _levels_image(levels, background, seed=45)
    np.testing.assert_array_equal(_gpu_airlight(x, wgpu_backend), dh.airlight(x))


def test_gpu_airlight_submits_once_and_reads_back_once(wgpu_backend, monkeypatch):
    # the statistics' host round trips: every buffer write before one submit,
    # then one map (of the 32-byte result)
    x = random_rgba((60, 70), seed=46, low=0.0, high=1.0)
    be = wgpu_backend
    buf = be.pool.acquire(x.nbytes)
    try:
        be.staging.upload(np.ascontiguousarray(x), buf)
        events, inside_map = [], []
        queue_cls, buffer_cls = type(be.device.queue), type(buf)
        for cls, name in ((queue_cls, "submit"), (queue_cls, "write_buffer"),
                          (buffer_cls, "map_sync")):
            orig = getattr(cls, name)

            def wrapped(self, *a, _orig=orig, _name=name, **kw):
                if not any(inside_map):  # map_sync may submit an empty command buffer itself
                    events.append(_name)
                inside_map.append(_name == "map_sync")
                try:
                    return _orig(self, *a, **kw)
                finally:
                    inside_map.pop()
            monkeypatch.setattr(cls, name, wrapped)
        for _ in range(2):  # first call (pipelines built) and a cached one
            events.clear()
            got = dh.gpu_airlight(be, buf, *x.shape[:2])
            assert events.count("submit") == 1, str(events)
            assert events.count("map_sync") == 1, events
            assert events.index("submit") > max(
                i for i, e in enumerate(events) if e == "write_buffer"), events
            assert events[-1] == "map_sync", events
            np.testing.assert_array_equal(got, dh.airlight(x))
    finally:
        be.pool.release(buf)


# --- reference vs trusted libraries ------------------------------------------------------

@pytest.mark.parametrize("shape", [(1, 1), (5, 3), (40, 31), (64, 70)])
@pytest.mark.parametrize("r", [1, 3, 12])
def test_min_filter_matches_scipy(shape, r):
    d = random_rgba(shape, seed=34, low=-1.0, high=1.0)[..., 0]
    want = ndi.minimum_filter(d, size=2 * r + 1, mode="nearest")
    np.testing.assert_array_equal(dh.min_filter(d, r), want)


def test_apply_matches_direct_float64_guided_filter(hazed):
    # the paper's formulas in float64, box = scipy.ndimage.uniform_filter (mode mirror)
    _, hz = hazed
    hz = hz[::2, ::2].copy()
    op = ops.Dehaze(amount=80.0)
    a = op.statistics(hz).astype(np.float64)
    h, w = hz.shape[:2]
    rgb = hz[..., :3].astype(np.float64)
    dark = ndi.minimum_filter((rgb / a).min(axis=-1), size=2 * dh.dark_radius(h, w) + 1,
                              mode="nearest")
    p = 1.0 - 0.95 * 0.8 * dark
    g = rgb @ np.array([0.2627, 0.6780, 0.0593])

    def box(v):
        return ndi.uniform_filter(v, size=2 * dh.guide_radius(h, w) + 1, mode="mirror")

    mi, mp = box(g), box(p)
    ca = (box(g * p) - mi * mp) / (box(g * g) - mi * mi + 1e-3)
    cb = mp - ca * mi
    t = np.clip(box(ca) * g + box(cb), 0.1, 1.0)[..., None]
    want = hz.astype(np.float64).copy()
    want[..., :3] = (rgb - a) / t + a
    assert_close(op.apply(hz, op.statistics(hz)), want, 1e-4, what="dehaze vs float64")


# --- statistics ---------------------------------------------------------------------------

def test_airlight_is_brightest_pixel_of_the_haziest_region():
    rng = np.random.default_rng(35)
    x = np.ones((120, 150, 4), np.float32)
    x[..., :3] = rng.uniform(0.0, 0.3, (120, 150, 3))
    # the haze: bright in all channels; its 600 pixels tie at dark-channel value 0.75,
    # more than the top 0.1 % (18 pixels): ties are all candidates
    x[10:30, 100:130, :3] = 0.75
    x[20, 110, :3] = (0.82, 0.85, 0.88)  # its brightest pixel
    x[60, 60, :3] = (5.0, 0.0, 5.0)  # brighter, but dark channel 0: not a candidate
    a = dh.airlight(x)
    np.testing.assert_array_equal(a, np.array([0.82, 0.85, 0.88], np.float32))


def test_airlight_ties_take_the_first_pixel_and_floor():
    x = np.zeros((10, 10, 4), np.float32)
    np.testing.assert_array_equal(dh.airlight(x), np.full(3, dh.AIRLIGHT_FLOOR, np.float32))
    x[..., :3] = 0.5
    x[2, 3, :3] = (0.9, 0.5, 0.6)  # same intensity as the next one
    x[7, 8, :3] = (0.6, 0.5, 0.9)
    np.testing.assert_array_equal(dh.airlight(x), np.array([0.9, 0.5, 0.6], np.float32))


def test_airlight_skips_non_finite_pixels():
    x = random_rgba((40, 40), seed=36)
    x[5, 5, :3] = (np.inf, np.inf, np.inf)
    x[9, 9, 0] = np.nan
    a = dh.airlight(x)
    assert np.isfinite(a).all()
    y = x.copy()
    y[0:16, 0:16, :3] = 0.0  # dark out the non-finite pixels' windows
    assert np.isfinite(dh.airlight(y)).all()


def test_radii_scale_with_the_short_side():
    assert dh.dark_radius(600, 900) == 7  # He et al.'s 15 x 15 patch
    assert dh.dark_radius(4000, 6000) == 47
    assert dh.dark_radius(2, 1_100_000) == 1
    assert dh.guide_radius(600, 800) == 28


# --- properties ---------------------------------------------------------------------------

def test_dehaze_moves_a_hazed_photo_toward_the_clean_one(hazed):
    clean, hz = hazed
    out = ops.Dehaze(amount=100.0).reference(hz)
    before, after = _rmse(hz, clean), _rmse(out, clean)
    # measured: RMSE 0.291 -> 0.064 (factor 4.5); bound set a bit under it
    assert before / after >= 4.0, (before, after)
    # local RMS contrast: clean 0.047, hazed 0.028, dehazed 0.045 (measured)
    assert _local_contrast(out) >= 1.4 * _local_contrast(hz)
    assert abs(_local_contrast(out) - _local_contrast(clean)) < 0.25 * _local_contrast(clean)
    # a weaker amount removes less
    half = ops.Dehaze(amount=50.0).reference(hz)
    assert after < _rmse(half, clean) < before
    np.testing.assert_array_equal(out[..., 3], hz[..., 3])


def test_negative_amount_adds_haze_of_the_scene_colour(hazed):
    clean, _ = hazed
    op = ops.Dehaze(amount=-60.0)
    out = op.reference(clean)
    assert _local_contrast(out) < 0.7 * _local_contrast(clean)
    a = op.statistics(clean)
    tk = 1.0 - 0.7 * 0.6
    np.testing.assert_allclose(out[..., :3], clean[..., :3] * tk + a * (1 - tk), rtol=1e-6,
                               atol=1e-7)


def test_amount_zero_is_identity(wgpu_backend):
    op = ops.Dehaze()
    assert op.is_identity() and not ops.Dehaze(amount=1.0).is_identity()
    assert not ops.Dehaze(amount=-0.5).is_identity()
    x = random_rgba((9, 13), seed=37)
    np.testing.assert_array_equal(op.reference(x), x)
    np.testing.assert_array_equal(Pipeline([op]).run(x, backend=wgpu_backend), x)


def test_amount_range_is_validated():
    with pytest.raises(ParameterError, match="amount"):
        ops.Dehaze.from_config({"amount": 101})
    with pytest.raises(ParameterError, match="amount"):
        ops.Dehaze.from_config({"amount": float("nan")})
    with pytest.raises(ParameterError, match="unknown parameter"):
        ops.Dehaze.from_config({"omega": 0.9})
