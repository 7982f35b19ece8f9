"""Raw samples travel in their own type and are converted on the GPU at both ends."""

import numpy as np
import pytest

from pixelpipe import Pipeline, ops
from pixelpipe.samples import from_float, from_rgba, to_rgba
from tests.helpers import assert_close

DTYPES = [np.uint8, np.uint16, np.float16, np.float32]


def _samples(dtype, shape, seed=0):
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt.kind == "u":
        return rng.integers(0, np.iinfo(dt).max + 1, shape, dtype=dt)
    x = rng.uniform(-0.25, 1.25, shape).astype(dt)
    x.flat[:4] = [np.nan, np.inf, -np.inf, 65504.0]
    return x


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("shape", [(1, 1), (7, 5), (33, 47)])
def test_round_trip_through_an_identity_stage_is_exact(dtype, channels, shape, wgpu_backend):
    # exposure 0 is a real kernel: unpack -> fused stage -> pack, all on the GPU
    x = _samples(dtype, (*shape, channels), seed=channels)
    out = wgpu_backend.run_samples(Pipeline([ops.Exposure(stops=0.0)]).plan(), x, dtype)
    assert out.dtype == np.dtype(dtype) and out.shape == x.shape
    # values equal, NaN where NaN (GPUs may canonicalise a NaN's payload bits)
    np.testing.assert_array_equal(out, x)


@pytest.mark.parametrize("in_dtype", DTYPES)
@pytest.mark.parametrize("out_dtype", DTYPES)
@pytest.mark.parametrize("channels", [1, 3])
def test_gpu_conversions_match_the_host_rules(in_dtype, out_dtype, channels, wgpu_backend):
    x = _samples(in_dtype, (9, 13, channels), seed=5)
    plan = Pipeline([ops.Exposure(stops=0.5)]).plan()
    got = wgpu_backend.run_samples(plan, x, out_dtype)
    ref = from_float(from_rgba(wgpu_backend.run(plan, to_rgba(x)), channels), out_dtype)
    if np.dtype(out_dtype).kind == "u":
        # same float input on both sides: quantisation must agree exactly
        np.testing.assert_array_equal(got, ref)
    else:
        assert_close(got.astype(np.float32), ref.astype(np.float32), 1e-6)


def test_float16_packing_rounds_to_nearest_even_and_overflows_to_inf(wgpu_backend):
    # every float16 value, its neighbours halfway between, and values beyond the range
    h = np.arange(0, 1 << 16, dtype=np.uint32).astype(np.uint16).view(np.float16)
    finite = h[np.isfinite(h)].astype(np.float32)
    mids = (finite[:-1].astype(np.float64) + np.diff(finite.astype(np.float64)) / 2)
    vals = np.concatenate([finite, mids.astype(np.float32), [7e4, -7e4, 65519.0, 65520.0]])
    vals = vals.astype(np.float32)
    x = np.pad(vals, (0, (-vals.size) % 64)).reshape(-1, 64, 1)
    got = wgpu_backend.run_samples(Pipeline([ops.Exposure(stops=0.0)]).plan(), x, np.float16)
    with np.errstate(over="ignore"):
        expected = x.astype(np.float16)
    np.testing.assert_array_equal(got.view(np.uint16), expected.view(np.uint16))


def test_cpu_backend_follows_the_same_rules():
    x = _samples(np.uint8, (5, 6, 3))
    pipe = Pipeline([ops.Exposure(stops=1.0)])
    got = pipe.run(x, backend="cpu")
    expected = np.minimum(x.astype(np.float32) / np.float32(255) * 2, np.inf)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_tall_image_in_uint8(wgpu_backend):
    x = _samples(np.uint8, (1_100_000, 2, 3), seed=9)
    out = wgpu_backend.run_samples(Pipeline([ops.Exposure(stops=0.0)]).plan(), x, np.uint8)
    np.testing.assert_array_equal(out, x)
