"""Histogram counts: exact against numpy.histogram, on the reference and on WebGPU.

numpy.histogram of float32 values with ``range`` uses float32 edges
(``linspace`` in float64 rounded to float32) and float32 comparisons; the
expected counts below are numpy.histogram of each channel and of the luma
computed independently in float32 (tests/stats/util.py). Counts must be
equal, not close.
"""

import numpy as np
import pytest

from pixelpipe import Image, ParameterError, stats
from pixelpipe.stats import gpu
from pixelpipe.stats.core import prepare
from tests.helpers import SIZES, TALL, random_rgba
from tests.stats.util import rows, with_specials

BINS = (1, 7, 256, 1000, 4096)


def assert_matches_numpy(h, x, bins, value_range, luma="rec709"):
    for k, v in enumerate(rows(x, luma)):
        counts, edges = np.histogram(v, bins=bins, range=value_range)
        name = h.channels[k]
        np.testing.assert_array_equal(h.counts[k], counts, err_msg=f"row {name}")
        np.testing.assert_array_equal(h.edges, edges)
        assert h.underflow[k] == np.count_nonzero(v < edges[0]), name
        assert h.overflow[k] == np.count_nonzero(v > edges[-1]), name
        assert h.nan[k] == np.count_nonzero(np.isnan(v)), name
        assert h.counts[k].sum() + h.underflow[k] + h.overflow[k] + h.nan[k] == v.size
    assert h.counts.dtype == np.int64 and h.counts.shape == (len(h.channels), bins)


@pytest.mark.parametrize("bins", BINS)
def test_reference_matches_numpy(bins):
    x = with_specials(random_rgba((33, 47), seed=bins, low=-0.2, high=1.2), seed=bins)
    for value_range in ((0.0, 1.0), (0.1, 0.7), (-0.15, 1.05)):
        h = stats.histogram(x, bins=bins, range=value_range, backend="cpu")
        assert_matches_numpy(h, x, bins, value_range)


@pytest.mark.parametrize("bins", BINS)
@pytest.mark.parametrize("shape", SIZES)
def test_wgpu_matches_numpy(shape, bins, wgpu_backend):
    x = with_specials(random_rgba(shape, seed=bins + shape[1], low=-0.2, high=1.2))
    value_range = (0.1, 0.7) if bins == 7 else (0.0, 1.0)
    h = stats.histogram(x, bins=bins, range=value_range, backend=wgpu_backend)
    assert_matches_numpy(h, x, bins, value_range)
    ref = stats.histogram(x, bins=bins, range=value_range, backend="cpu")
    np.testing.assert_array_equal(h.counts, ref.counts)


def test_wgpu_tall_image(wgpu_backend):
    x = with_specials(random_rgba(TALL, seed=5, low=-0.1, high=1.1))
    h = stats.histogram(x, bins=1000, backend=wgpu_backend)
    assert_matches_numpy(h, x, 1000, (0.0, 1.0))


@pytest.mark.parametrize("value_range, bins", [((0.0, 1.0), 1000), ((0.1, 0.7), 7),
                                                ((-3.0, 5.0), 4096), ((0.2, 0.2001), 256)])
def test_values_on_and_next_to_every_edge(value_range, bins, wgpu_backend):
    # the cases where float rounding decides the bin: each edge, its float32
    # neighbours, the range ends, signed zeros and subnormal-free extremes
    edges = np.histogram(np.zeros(1, np.float32), bins=bins, range=value_range)[1]
    vals = np.concatenate([edges, np.nextafter(edges, np.float32(-np.inf)),
                           np.nextafter(edges, np.float32(np.inf)),
                           np.float32([0.0, -0.0, 3e38, -3e38])]).astype(np.float32)
    x = np.stack([vals, vals[::-1], np.roll(vals, 7), np.roll(vals, 3)], axis=-1)[None]
    for backend in ("cpu", wgpu_backend):
        h = stats.histogram(x, bins=bins, range=value_range, backend=backend)
        assert_matches_numpy(h, x, bins, value_range)


@pytest.mark.parametrize("channels", [None, 1, 2, 3])
def test_channel_layouts(channels, wgpu_backend):
    x = random_rgba((17, 23), seed=2)
    x = x[..., 0] if channels is None else x[..., :channels]
    for backend in ("cpu", wgpu_backend):
        h = stats.histogram(x, bins=64, backend=backend)
        assert_matches_numpy(h, x, 64, (0.0, 1.0))
    n = 1 if channels is None else channels
    assert h.channels[-1] == "luma" and len(h.channels) == n + 1
    if n < 3:  # grey: the luma row is the grey channel
        np.testing.assert_array_equal(h.row("luma"), h.counts[0])


def test_rec2020_luma_and_image_input(wgpu_backend):
    x = random_rgba((19, 31), seed=4)[..., :3]
    for backend in ("cpu", wgpu_backend):
        h = stats.histogram(Image(x), bins=300, luma="rec2020", backend=backend)
        assert h.luma == "rec2020" and h.channels == ("R", "G", "B", "luma")
        assert_matches_numpy(h, x, 300, (0.0, 1.0), luma="rec2020")
    assert not np.array_equal(h.row("luma"),
                              stats.histogram(x, bins=300, backend="cpu").row("luma"))


def test_luma_is_rounded_like_the_reference_not_fused(wgpu_backend):
    # values whose luma lands within an ulp of a bin edge: a fused
    # multiply-add on the GPU would move some of them to the other bin
    rng = np.random.default_rng(9)
    x = rng.uniform(0, 1, (200_000, 3)).astype(np.float32)
    luma = rows(x[None])[-1]
    edges = np.linspace(0.0, 1.0, 4097).astype(np.float32)
    i = np.clip(np.searchsorted(edges, luma), 1, edges.size - 1)
    near = np.minimum(np.abs(luma - edges[i]), np.abs(luma - edges[i - 1])) < 2e-7
    x = x[near][None]
    assert x.shape[1] > 50
    h = stats.histogram(x, bins=4096, backend=wgpu_backend)
    assert_matches_numpy(h, x, 4096, (0.0, 1.0))


def test_histogram_split_when_workgroup_memory_is_small(wgpu_backend, monkeypatch):
    # 1000 counters per workgroup: 4096 bins need 5 windows per row
    monkeypatch.setattr(gpu.kernels(wgpu_backend), "counters", 1000)
    x = with_specials(random_rgba((70, 129), seed=8))
    for bins in (7, 256, 4096):
        h = stats.histogram(x, bins=bins, backend=wgpu_backend)
        assert_matches_numpy(h, x, bins, (0.0, 1.0))


def test_histogram_in_chunks(wgpu_backend):
    x = with_specials(random_rgba((70, 129), seed=6))
    r = gpu.run(wgpu_backend, prepare(x, "rec709"), chunk_pixels=1000)
    try:
        counts, under, over, nan = r.histogram(np.linspace(0, 1, 101).astype(np.float32))
    finally:
        r.release()
    ref = stats.histogram(x, bins=100, backend="cpu")
    np.testing.assert_array_equal(counts, ref.counts)
    np.testing.assert_array_equal(under, ref.underflow)
    np.testing.assert_array_equal(over, ref.overflow)
    np.testing.assert_array_equal(nan, ref.nan)


@pytest.mark.parametrize("kwargs, match", [
    ({"bins": 0}, "bins"), ({"bins": 4097}, "bins"), ({"bins": 2.5}, "bins"),
    ({"bins": True}, "bins"), ({"range": (1.0, 0.0)}, "range"),
    ({"range": (0.0, float("nan"))}, "range"), ({"range": (0.0, 1e39)}, "range"),
    ({"range": (1.0, 1.0000001), "bins": 4096}, "too narrow"), ({"range": 5}, "range"),
    ({"luma": "rec601"}, "luma"), ({"backend": "nope"}, "backend"),
])
def test_bad_parameters(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        stats.histogram(random_rgba((4, 4)), **kwargs)


@pytest.mark.parametrize("x, match", [
    (np.zeros((4, 4, 5), np.float32), "shape"), (np.zeros((0, 4, 3), np.float32), "empty"),
    (np.zeros(7, np.float32), "shape"), (np.zeros((2, 2), np.complex64), "dtype"),
    ("not an image", "image"),
])
def test_bad_images(x, match):
    with pytest.raises(ParameterError, match=match):
        stats.histogram(x, backend="cpu")
