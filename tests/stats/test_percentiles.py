"""Percentiles: the reference against numpy.nanpercentile, WebGPU identical to the reference.

Tolerances: WebGPU equals the reference exactly (same order statistics,
same host-side interpolation). The reference against
``numpy.nanpercentile(method="linear")``: 1e-12 of the row's value range
(numpy computes the fractional rank in float64 from q/100, the reference
exactly; that moves the interpolation by a few float64 ulps).
"""

import numpy as np
import pytest

from pixelpipe import ParameterError, stats
from pixelpipe.stats import gpu
from pixelpipe.stats.core import prepare
from tests.helpers import SIZES, TALL, random_rgba
from tests.stats.util import rows, with_specials

Q = (0.0, 0.1, 1.0, 25.0, 50.0, 99.0, 99.9, 100.0)


def check_numpy(p, x, q):
    for k, v in enumerate(rows(x)):
        v = v[~np.isnan(v)].astype(np.float64)
        if v.size == 0:
            assert np.isnan(p.values[k]).all()
            continue
        want = np.percentile(v, q, method="linear")
        finite = v[np.isfinite(v)]
        span = float(finite.max() - finite.min()) if finite.size else 0.0
        both_inf = np.isinf(want) & (want == p.values[k])
        err = np.where(both_inf, 0.0, np.abs(p.values[k] - want))
        assert (err <= 1e-12 * max(span, 1e-30)).all(), (p.channels[k], p.values[k], want)


@pytest.mark.parametrize("specials", [False, True])
def test_reference_matches_numpy(specials):
    x = random_rgba((33, 47), seed=21, low=-1.0, high=3.0)
    if specials:
        x = with_specials(x, seed=3)
        x[x == np.inf] = 7.0  # numpy's lerp turns inf neighbours into NaN; ours keeps inf
        x[x == -np.inf] = -7.0
    p = stats.percentiles(x, q=Q, backend="cpu")
    assert p.values.shape == (5, len(Q)) and p.method == "linear"
    check_numpy(p, x, Q)


@pytest.mark.parametrize("shape", SIZES)
def test_wgpu_equals_reference(shape, wgpu_backend):
    x = with_specials(random_rgba(shape, seed=shape[1], low=-1.0, high=2.0), seed=shape[0])
    got = stats.percentiles(x, q=Q, backend=wgpu_backend)
    ref = stats.percentiles(x, q=Q, backend="cpu")
    np.testing.assert_array_equal(got.values, ref.values)


def test_wgpu_tall_image(wgpu_backend):
    x = random_rgba(TALL, seed=31, low=-0.1, high=1.1)
    got = stats.percentiles(x, backend=wgpu_backend)
    ref = stats.percentiles(x, backend="cpu")
    np.testing.assert_array_equal(got.values, ref.values)
    check_numpy(got, x, stats.DEFAULT_Q)


@pytest.mark.parametrize("data", ["uniform", "ties", "specials", "negative", "constant"])
def test_refinement_levels_are_exact(data, wgpu_backend):
    # a gather limit of 8 values and 4 bins per step force many refinement
    # levels, ranges of one repeated value and ranges of one key
    rng = np.random.default_rng(5)
    x = random_rgba((40, 61), seed=7, low=-1.0, high=1.0)
    if data == "ties":
        x = np.round(x * 4) / 4  # nine distinct values, -0.0 among them
    elif data == "specials":
        x = with_specials(x, seed=8)
    elif data == "negative":
        x = -np.abs(x) * np.float32(1e-30)
    elif data == "constant":
        x[:] = np.float32(0.3)
    x = x.astype(np.float32)
    q = (*rng.uniform(0, 100, 6).tolist(), 0.0, 50.0, 100.0)
    r = gpu.run(wgpu_backend, prepare(x, "rec709"), chunk_pixels=900)
    try:
        got = r.percentiles(q, cap=8, refine_bins=4)
    finally:
        r.release()
    np.testing.assert_array_equal(got, stats.percentiles(x, q=q, backend="cpu").values)


def test_rows_without_values(wgpu_backend):
    x = random_rgba((5, 6), seed=2)
    x[..., 1] = np.nan
    for backend in ("cpu", wgpu_backend):
        p = stats.percentiles(x, q=[50], backend=backend)
        assert np.isnan(p.row("G")).all() and np.isnan(p.row("luma")).all()
        assert np.isfinite(p.row("R")).all()


@pytest.mark.parametrize("q", [[], [101], [-1], [float("nan")], ["x"]])
def test_bad_q(q):
    with pytest.raises(ParameterError, match="q"):
        stats.percentiles(random_rgba((3, 3)), q=q, backend="cpu")
