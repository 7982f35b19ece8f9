"""min / max / mean / special-value counts against NumPy, on the reference and on WebGPU.

Tolerances: min, max and every count exact on both backends. Mean: the
reference against ``numpy.nanmean`` of float64 values 1e-12 relative (both
sum in float64, in different orders); WebGPU against the reference
``24 * 2**-24`` times the mean absolute finite value (float32 partial sums of
16 values per invocation and an 8-level tree, added in float64; see
``pixelpipe.stats.statistics``).
"""

import warnings

import numpy as np
import pytest

from pixelpipe import ParameterError, stats
from pixelpipe.stats import gpu
from pixelpipe.stats.core import prepare
from tests.helpers import SIZES, TALL, random_rgba
from tests.stats.util import rows, with_specials

GPU_MEAN_BOUND = 24 * 2.0**-24


def expected(x):
    """(min, max, mean, count, NaN, +Inf, -Inf) per row, from NumPy's nan-aware reductions."""
    out = []
    for v in rows(x):
        d = v.astype(np.float64)
        with warnings.catch_warnings(), np.errstate(invalid="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows give NaN
            out.append((np.nanmin(d), np.nanmax(d), np.nanmean(d),
                        np.count_nonzero(~np.isnan(v)), np.count_nonzero(np.isnan(v)),
                        np.count_nonzero(v == np.inf), np.count_nonzero(v == -np.inf)))
    return out


def check(st, x, mean_tol):
    for k, (lo, hi, mean, count, nan, pinf, ninf) in enumerate(expected(x)):
        name = st.channels[k]
        np.testing.assert_array_equal(st.min[k], lo, err_msg=name)
        np.testing.assert_array_equal(st.max[k], hi, err_msg=name)
        assert (st.count[k], st.nan_count[k], st.posinf_count[k], st.neginf_count[k]) == (
            count, nan, pinf, ninf), name
        if np.isfinite(mean):
            v = rows(x)[k]
            scale = np.mean(np.abs(v[np.isfinite(v)].astype(np.float64)))
            assert abs(st.mean[k] - mean) <= mean_tol * max(scale, 1e-30), (name, st.mean[k], mean)
        else:
            np.testing.assert_array_equal(st.mean[k], mean, err_msg=name)


@pytest.mark.parametrize("specials", [False, True])
def test_reference_matches_numpy(specials):
    x = random_rgba((33, 47), seed=3, low=-2.0, high=5.0)
    if specials:
        x = with_specials(x)
    check(stats.statistics(x, backend="cpu"), x, 1e-12)


@pytest.mark.parametrize("shape", SIZES)
def test_wgpu_matches_reference(shape, wgpu_backend):
    x = random_rgba(shape, seed=shape[0] + shape[1], low=-1.0, high=3.0)
    got = stats.statistics(x, backend=wgpu_backend)
    check(got, x, GPU_MEAN_BOUND)
    ref = stats.statistics(x, backend="cpu")
    for field in ("min", "max", "count", "nan_count", "posinf_count", "neginf_count"):
        np.testing.assert_array_equal(getattr(got, field), getattr(ref, field), err_msg=field)


def test_wgpu_tall_image(wgpu_backend):
    x = with_specials(random_rgba(TALL, seed=11, low=-0.5, high=2.0))
    x[..., 3] = np.abs(x[..., 3])  # alpha: finite values only from here
    x[..., 3][~np.isfinite(x[..., 3])] = 0.25
    check(stats.statistics(x, backend=wgpu_backend), x, GPU_MEAN_BOUND)


def test_specials_decide_mean(wgpu_backend):
    x = random_rgba((9, 13), seed=1)
    x[0, 0, 0] = np.nan  # R: NaN is skipped
    x[0, 1, 1] = np.inf  # G: +inf -> mean +inf
    x[0, 2, 2] = -np.inf  # B: -inf -> mean -inf; luma has +inf and -inf -> NaN
    x[:, :, 3] = np.nan  # A: no value at all -> NaN everywhere
    for backend in ("cpu", wgpu_backend):
        st = stats.statistics(x, backend=backend)
        assert np.isfinite(st.mean[0]) and st.nan_count[0] == 1 and st.count[0] == 9 * 13 - 1
        assert st.mean[1] == np.inf and st.max[1] == np.inf
        assert st.mean[2] == -np.inf and st.min[2] == -np.inf
        assert np.isnan(st.mean[4]) and st.posinf_count[4] == 1 and st.neginf_count[4] == 1
        assert np.isnan([st.min[3], st.max[3], st.mean[3]]).all() and st.count[3] == 0
        check(st, x, GPU_MEAN_BOUND)


def test_signed_zero_and_extremes(wgpu_backend):
    big = np.finfo(np.float32).max
    tiny = np.finfo(np.float32).smallest_normal
    x = np.float32([-0.0, 0.0, big, -big, tiny, -tiny, 1.0])[None, :, None].repeat(3, axis=2)
    for backend in ("cpu", wgpu_backend):
        st = stats.statistics(x, backend=backend)
        assert st.min[0] == -big and st.max[0] == big
        # float32 partials may lose the 1.0 next to +-big: the bound is relative
        # to the mean absolute value, here 2 * big / 7
        check(st, x, 1e-12 if backend == "cpu" else GPU_MEAN_BOUND)
    assert stats.statistics(x, backend="cpu").mean[0] == 1.0 / 7


def test_grey_image_and_chunks(wgpu_backend):
    x = random_rgba((70, 129), seed=2, low=-1.0, high=1.0)[..., 0]
    st = stats.statistics(x, backend=wgpu_backend)
    assert st.channels == ("Y", "luma")
    check(st, x, GPU_MEAN_BOUND)
    r = gpu.run(wgpu_backend, prepare(x, "rec709"), chunk_pixels=777)
    try:
        m = r.moments()[0]
    finally:
        r.release()
    np.testing.assert_array_equal(m.lo, st.min)
    np.testing.assert_array_equal(m.hi, st.max)
    np.testing.assert_allclose(m.mean(), st.mean, rtol=GPU_MEAN_BOUND)


def test_bad_input():
    with pytest.raises(ParameterError, match="luma"):
        stats.statistics(random_rgba((2, 2)), luma="bt601")
    with pytest.raises(ParameterError, match="empty"):
        stats.statistics(np.zeros((3, 0), np.float32))
