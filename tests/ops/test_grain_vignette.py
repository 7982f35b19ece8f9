"""Grain and Vignette.

Tolerances (relative error as in ``tests.helpers``: absolute below 1):

* grain noise before the blur: bit-identical on CPU and GPU (integer hash,
  exact conversion);
* grain result, reference vs WebGPU: 1e-5 (float32 blur sums in another
  order, possible fused multiply-adds; measured <= 1.2e-7 on llvmpipe);
* grain reference vs scipy.ndimage.gaussian_filter on the same noise: 1e-6;
* vignette, reference vs WebGPU: 2e-5 (GPU ``sqrt`` and fused multiply-adds
  differ by ulps, amplified by the smoothstep slope, at most 75; measured 0
  on llvmpipe).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
import scipy.ndimage as ndi

import pixelpipe.ops.film.grain as grain_module
from pixelpipe import ParameterError, Pipeline, ops
from pixelpipe.ops.base import Array, GpuPass
from pixelpipe.ops.film.grain import GPU_MAX_RADIUS, pcg_hash
from tests.helpers import SIZES, TALL, assert_close, check_consistency, random_rgba

RTOL_GRAIN = 1e-5
RTOL_VIGNETTE = 2e-5
KINDS = ("fine", "silver", "harsh")


def flat(shape: tuple[int, int], value: float) -> np.ndarray:
    x = np.full((*shape, 4), value, np.float32)
    x[..., 3] = 1.0
    return x


# --- grain: the noise ------------------------------------------------------------

def _pcg_python(v: int) -> int:
    """PCG-RXS-M-XS hash in plain Python integers (an independent implementation)."""
    s = (v * 747796405 + 2891336453) & 0xFFFFFFFF
    w = (((s >> ((s >> 28) + 4)) ^ s) * 277803737) & 0xFFFFFFFF
    return ((w >> 22) ^ w) & 0xFFFFFFFF


def test_hash_matches_plain_integer_implementation():
    rng = np.random.default_rng(0)
    v = np.concatenate([rng.integers(0, 2**32, 500, dtype=np.uint64),
                        [0, 1, 2**31, 2**32 - 1]]).astype(np.uint32)
    got = pcg_hash(v)
    assert got.dtype == np.uint32
    assert [int(g) for g in got] == [_pcg_python(int(a)) for a in v]


def test_noise_matches_documented_construction():
    op = ops.Grain(amount=50, seed=987654321, origin=(5, 2**32 - 3))
    r = op.noise_radius()
    n = op.noise(4, 6)
    for i, j in [(0, 0), (3, 7), (r + 2, r + 5)]:
        y = (5 - r + i) % 2**32
        x = (2**32 - 3 - r + j) % 2**32
        h = _pcg_python((x + _pcg_python((y + _pcg_python(987654321)) % 2**32)) % 2**32)
        for octave in range(2):
            total = 0
            for _ in range(4):
                total += h >> 10
                h = _pcg_python(h)
            want = np.float32((np.float32(total) * np.float32(2.0**-22) - np.float32(2.0))
                              * np.float32(math.sqrt(3.0)))
            assert n[i, j, octave] == want
    assert not n[..., 2:].any()


def test_noise_statistics():
    n = ops.Grain(amount=1, seed=3).noise(256, 256)[..., :2]
    bound = 2 * math.sqrt(3)
    assert np.abs(n).max() <= bound
    assert abs(n.mean()) < 0.01  # std of the mean: 1 / sqrt(131072) = 0.003
    assert abs(n.std() - 1.0) < 0.01
    # Irwin-Hall of 4 uniforms: excess kurtosis -1.2 / 4 = -0.3
    k = float(((n - n.mean()) ** 4).mean() / n.var() ** 2 - 3.0)
    assert abs(k + 0.3) < 0.05
    # the two octaves and neighbouring pixels are uncorrelated
    assert abs(np.corrcoef(n[..., 0].ravel(), n[..., 1].ravel())[0, 1]) < 0.02
    assert abs(np.corrcoef(n[:, 1:, 0].ravel(), n[:, :-1, 0].ravel())[0, 1]) < 0.02


class _NoiseOnly(ops.Grain):
    """Test op: only the grain's noise-generation pass (no op_name: not registered)."""

    op_name: ClassVar[str] = ""

    def output_shape(self, height: int, width: int) -> tuple[int, int]:
        r = self.noise_radius()
        return height + 2 * r, width + 2 * r

    def reference(self, x: Array) -> Array:
        return self.noise(*x.shape[:2])

    def gpu_passes(self, height: int, width: int) -> list[GpuPass]:
        return [self.noise_pass(height, width)]


@pytest.mark.parametrize(("seed", "origin", "shape"),
                         [(0, (0, 0), (1, 1)), (1, (0, 0), (33, 47)),
                          (2**32 - 1, (2**31 + 7, 2**32 - 2), (70, 129)),
                          (4242, (123456, 99), (16, 16))])
def test_noise_bit_identical_on_gpu(seed, origin, shape, wgpu_backend):
    op = _NoiseOnly(amount=40, size=80, kind="silver", seed=seed, origin=origin)
    x = random_rgba(shape, seed=1)
    pipe = Pipeline([op])
    ref = pipe.run(x, backend="cpu")
    got = pipe.run(x, backend=wgpu_backend)
    assert ref.shape == (shape[0] + 2 * op.noise_radius(), shape[1] + 2 * op.noise_radius(), 4)
    np.testing.assert_array_equal(got, ref)


# --- grain: consistency -----------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", SIZES)
def test_grain_wgpu_matches_reference(shape, kind, wgpu_backend):
    x = random_rgba(shape, seed=2, low=-0.2, high=1.2)
    op = ops.Grain(amount=80, size=60, kind=kind, seed=77, origin=(10, 3))
    check_consistency(op, x, wgpu_backend, rtol=RTOL_GRAIN)


def test_grain_wgpu_tall(wgpu_backend):
    x = random_rgba(TALL, seed=3)
    check_consistency(ops.Grain(amount=50, seed=5), x, wgpu_backend, rtol=RTOL_GRAIN)


def test_grain_nan_inf(wgpu_backend):
    x = random_rgba((9, 13), seed=4)
    x[0, 0, 0], x[1, 1, 1], x[2, 2, 2], x[3, 3, :3] = np.nan, np.inf, -np.inf, np.nan
    ref = check_consistency(ops.Grain(amount=100, size=30, kind="harsh", seed=9), x,
                            wgpu_backend, rtol=RTOL_GRAIN)
    assert np.isnan(ref[0, 0, 0]) and ref[1, 1, 1] == np.inf and ref[2, 2, 2] == -np.inf
    assert np.isnan(ref[3, 3, :3]).all() and ref[3, 3, 3] == x[3, 3, 3]
    # finite channels of a pixel with a non-finite luma get the black-level weight
    g = ops.Grain(amount=100, size=30, kind="harsh", seed=9).grain(9, 13)
    assert ref[0, 0, 1] == x[0, 0, 1] + g[0, 0] * np.float32(0.2)
    assert np.isfinite(ref[4:]).all()


@pytest.mark.parametrize("kind", KINDS)
def test_grain_reference_matches_scipy_blur(kind):
    op = ops.Grain(amount=90, size=70, kind=kind, seed=31)
    h, w = 24, 37
    r = op.noise_radius()
    n = op.noise(h, w).astype(np.float64)
    want = np.zeros((h, w))
    for i, (amp, weights) in enumerate(op.octaves()):
        sigma = {"fine": 1.0, "silver": 1.25 * (1 + i), "harsh": 1.75}[kind] * op.diameter() / 2
        assert (len(weights) - 1) // 2 == int(3.0 * sigma + 0.5)
        b = ndi.gaussian_filter(n[..., i], sigma, truncate=3.0, mode="mirror")
        want += amp * b[r:r + h, r:r + w]
    assert_close(op.grain(h, w), want, 1e-6, what=f"grain {kind}")


# --- grain: properties ------------------------------------------------------------

def test_grain_amount_zero_is_identity(wgpu_backend):
    op = ops.Grain(amount=0, size=80, kind="harsh", seed=3)
    assert op.is_identity() and not ops.Grain(amount=0.5).is_identity()
    x = random_rgba((20, 30), seed=5)
    np.testing.assert_array_equal(op.reference(x), x)
    np.testing.assert_array_equal(Pipeline([op]).run(x, backend=wgpu_backend), x)


def test_grain_deterministic_and_seeded(wgpu_backend):
    x = random_rgba((40, 50), seed=6)
    a = Pipeline([ops.Grain(amount=60, seed=11)])
    r1, r2 = a.run(x, backend="cpu"), a.run(x, backend="cpu")
    g1, g2 = a.run(x, backend=wgpu_backend), a.run(x, backend=wgpu_backend)
    np.testing.assert_array_equal(r1, r2)
    np.testing.assert_array_equal(g1, g2)
    other = Pipeline([ops.Grain(amount=60, seed=12)]).run(x, backend="cpu")
    assert np.abs(other - r1).mean() > 0.01


def test_grain_tile_at_origin_equals_crop_of_full_image(wgpu_backend):
    x = random_rgba((60, 80), seed=7)
    full = ops.Grain(amount=70, size=90, kind="silver", seed=8).reference(x)
    tile = ops.Grain(amount=70, size=90, kind="silver", seed=8, origin=(17, 29))
    part = x[17:50, 29:71]
    np.testing.assert_array_equal(tile.reference(part), full[17:50, 29:71])
    got = Pipeline([tile]).run(part, backend=wgpu_backend)
    assert_close(got, full[17:50, 29:71], RTOL_GRAIN, what="tile on GPU")


def test_grain_is_monochrome_and_keeps_alpha():
    x = random_rgba((30, 30), seed=9)
    x[..., 1] = x[..., 0]
    x[..., 2] = x[..., 0]
    y = ops.Grain(amount=100, kind="silver", seed=1).reference(x)
    np.testing.assert_array_equal(y[..., 0], y[..., 1])
    np.testing.assert_array_equal(y[..., 0], y[..., 2])
    np.testing.assert_array_equal(y[..., 3], x[..., 3])


@pytest.mark.parametrize("kind", KINDS)
def test_grain_preserves_the_mean(kind):
    shape = (256, 256)
    op = ops.Grain(amount=100, size=50, kind=kind, seed=21)
    y = op.reference(flat(shape, 0.5))[..., :3]
    delta = y - 0.5
    # the blur kernels sum to 1, so the image sum of octave i's grain is about
    # amp_i times a sum of N unit-variance noise samples: the mean's standard
    # deviation is sqrt(sum amp_i^2 / N); allow 5 of them
    n = shape[0] * shape[1]
    bound = 5 * math.sqrt(sum(a * a for a, _ in op.octaves()) / n)
    assert abs(float(delta.mean())) < bound
    assert bound < 0.025  # a tight bound: the grain's own std is 0.09 to 0.15


@pytest.mark.parametrize(("kind", "gain"), [("fine", 0.6), ("silver", 0.8), ("harsh", 1.0)])
def test_grain_std_grows_with_amount(kind, gain):
    x = flat((128, 128), 0.5)
    stds = [float((ops.Grain(amount=a, kind=kind, seed=2).reference(x)[..., 0] - 0.5).std())
            for a in (25, 50, 100)]
    assert stds[0] < stds[1] < stds[2]
    # the grain is linear in amount (same noise)
    assert stds[2] / stds[1] == pytest.approx(2.0, rel=1e-4)
    assert stds[1] / stds[0] == pytest.approx(2.0, rel=1e-4)
    # documented strength: std 0.15 * gain at mid-grey, amount 100 (sampling: 10 %)
    assert stds[2] == pytest.approx(0.15 * gain, rel=0.1)


def test_grain_is_weaker_in_shadows_and_highlights():
    op = ops.Grain(amount=100, seed=4)
    d = {v: op.reference(flat((32, 32), v))[..., 0] - np.float32(v)
         for v in (0.0, 0.1, 0.5, 0.9, 1.0)}
    s = {v: float(dv.std()) for v, dv in d.items()}
    assert s[0.0] < s[0.1] < s[0.5] and s[1.0] < s[0.9] < s[0.5]
    # same noise: at black and white the grain is exactly a fifth of mid-grey's
    g = op.grain(32, 32)
    np.testing.assert_allclose(d[0.0], g * np.float32(0.2), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(d[0.5], g, rtol=1e-6, atol=1e-7)


def _lag_correlation(d: np.ndarray, lag: int) -> float:
    a, b = d[:, :-lag].ravel(), d[:, lag:].ravel()
    return float(np.corrcoef(a, b)[0, 1])


@pytest.mark.parametrize("kind", KINDS)
def test_grain_correlation_length_grows_with_size(kind):
    x = flat((128, 128), 0.5)
    rho1, rho3 = [], []
    for size in (0, 40, 100):
        d = ops.Grain(amount=100, size=size, kind=kind, seed=6).reference(x)[..., 0] - 0.5
        rho1.append(_lag_correlation(d, 1))
        rho3.append(_lag_correlation(d, 3))
    assert rho1[0] < rho1[1] < rho1[2]
    assert rho3[0] < rho3[1] < rho3[2]
    if kind == "fine":
        assert abs(rho1[0]) < 0.1  # size 0: nearly white noise (sub-pixel grain)
    assert rho1[2] > 0.8  # size 100: grain several pixels across


def test_grain_kinds_differ_in_size():
    x = flat((128, 128), 0.5)
    rho = {k: _lag_correlation(
        ops.Grain(amount=100, size=40, kind=k, seed=6).reference(x)[..., 0] - 0.5, 3)
        for k in KINDS}
    assert rho["fine"] < rho["silver"] and rho["fine"] < rho["harsh"]


def test_grain_parameters_validated():
    assert ops.Grain.from_config({"kind": "silver"}).grain_kind == "silver"
    assert ops.Grain(kind="harsh").grain_kind == "harsh"
    with pytest.raises(ParameterError, match="amount"):
        ops.Grain.from_config({"amount": 101})
    with pytest.raises(ParameterError, match="kind"):
        ops.Grain.from_config({"kind": "coarse"})
    with pytest.raises(ParameterError, match="seed"):
        ops.Grain.from_config({"seed": -1})
    with pytest.raises(ParameterError, match="size"):
        ops.Grain.from_config({"size": 100.5})


# --- vignette ---------------------------------------------------------------------

@pytest.mark.parametrize(("shape_", "amount", "midpoint", "feather"),
                         [("elliptical", -60, 50, 50), ("circular", 45, 20, 0),
                          ("elliptical", 100, 0, 100), ("circular", -100, 100, 30)])
@pytest.mark.parametrize("shape", SIZES)
def test_vignette_wgpu_matches_reference(shape, shape_, amount, midpoint, feather,
                                         wgpu_backend):
    x = random_rgba(shape, seed=12, low=-0.2, high=1.3)
    op = ops.Vignette(amount=amount, shape=shape_, midpoint=midpoint, feather=feather)
    check_consistency(op, x, wgpu_backend, rtol=RTOL_VIGNETTE)


def test_vignette_wgpu_tall(wgpu_backend):
    x = random_rgba(TALL, seed=13)
    check_consistency(ops.Vignette(amount=-70, midpoint=10), x, wgpu_backend,
                      rtol=RTOL_VIGNETTE)


def test_vignette_nan_inf(wgpu_backend):
    x = random_rgba((15, 21), seed=14)
    x[7, 10, 0], x[7, 11, 1], x[0, 0, 2], x[1, 1, 0] = np.nan, np.inf, -np.inf, np.inf
    ref = check_consistency(ops.Vignette(amount=-100, midpoint=0, feather=0), x,
                            wgpu_backend, rtol=RTOL_VIGNETTE)
    # inf stays inf where k < 1 (near the centre); at full strength inf * 0 = NaN
    assert np.isnan(ref[7, 10, 0]) and ref[7, 11, 1] == np.inf
    assert np.isnan(ref[1, 1, 0]) and np.isnan(ref[0, 0, 2])


def _vignette_float64(op: ops.Vignette, h: int, w: int) -> np.ndarray:
    """The documented strength k, written independently in float64."""
    cx, cy = w / 2, h / 2
    ux = (np.arange(w) + 0.5 - cx)[None, :]
    uy = (np.arange(h) + 0.5 - cy)[:, None]
    if op.shape == "elliptical":
        r = np.sqrt((ux / cx) ** 2 + (uy / cy) ** 2) / math.sqrt(2)
    else:
        r = np.sqrt(ux**2 + uy**2) / math.hypot(cx, cy)
    r0 = 0.8 * op.midpoint / 100
    r1 = r0 + (1 - r0) * (0.1 + 0.9 * op.feather / 100)
    t = np.clip((r - r0) / (r1 - r0), 0, 1)
    return abs(op.amount) / 100 * t * t * (3 - 2 * t)


@pytest.mark.parametrize("shape_", ["elliptical", "circular"])
@pytest.mark.parametrize("amount", [-80, 65])
def test_vignette_matches_documented_formula(shape_, amount):
    op = ops.Vignette(amount=amount, shape=shape_, midpoint=35, feather=70)
    x = random_rgba((31, 58), seed=15)
    k = _vignette_float64(op, 31, 58)[..., None]
    c = x[..., :3].astype(np.float64)
    want = c * (1 - k) + (k if amount > 0 else 0)
    got = op.reference(x)
    assert_close(got[..., :3], want, 1e-5, what="vignette formula")
    np.testing.assert_array_equal(got[..., 3], x[..., 3])


def test_vignette_amount_zero_is_identity(wgpu_backend):
    op = ops.Vignette(amount=0, shape="circular", midpoint=0, feather=0)
    assert op.is_identity() and not ops.Vignette(amount=-1).is_identity()
    x = random_rgba((21, 34), seed=16)
    np.testing.assert_array_equal(op.reference(x), x)
    np.testing.assert_array_equal(Pipeline([op]).run(x, backend=wgpu_backend), x)


@pytest.mark.parametrize("shape_", ["elliptical", "circular"])
def test_vignette_centre_unchanged_corners_darkened_or_lightened(shape_):
    x = flat((41, 61), 0.5)
    for amount in (-100, -30, 30, 100):
        y = ops.Vignette(amount=amount, shape=shape_, midpoint=0).reference(x)
        assert (y[20, 30] == x[20, 30]).all()  # the exact centre
        corners = y[[0, 0, -1, -1], [0, -1, 0, -1], :3]
        if amount < 0:
            assert (corners < 0.5 * (1 + amount / 100 * 0.9)).all()
        else:
            assert (corners > 0.5 + 0.5 * amount / 100 * 0.9).all()
    # full strength: corners (almost) black / white
    dark = ops.Vignette(amount=-100, shape=shape_).reference(x)[0, 0, :3]
    light = ops.Vignette(amount=100, shape=shape_).reference(x)[0, 0, :3]
    assert (dark < 0.01).all() and (light > 0.99).all()


def test_vignette_inside_midpoint_untouched():
    op = ops.Vignette(amount=-90, midpoint=60)
    x = random_rgba((50, 70), seed=17)
    y = op.reference(x)
    r = _vignette_float64(ops.Vignette(amount=-100, midpoint=60, feather=100), 50, 70)
    inside = _vignette_float64(op, 50, 70) == 0
    assert inside.sum() > 100 and (r[inside] == 0).all()
    np.testing.assert_array_equal(y[inside], x[inside])


def test_vignette_circular_radially_symmetric_and_monotone():
    h, w = 37, 64
    op = ops.Vignette(amount=-75, shape="circular", midpoint=20, feather=40)
    y = op.reference(flat((h, w), 0.8))[..., 0].astype(np.float64)
    d = np.hypot(np.arange(w)[None, :] + 0.5 - w / 2, np.arange(h)[:, None] + 0.5 - h / 2)
    order = np.argsort(d, axis=None, kind="stable")
    ds, ys = d.ravel()[order], y.ravel()[order]
    # equal distance -> equal value; larger distance -> no brighter (float32 slack)
    same = np.isclose(ds[1:], ds[:-1], rtol=0, atol=1e-9)
    assert same.sum() > 100
    assert np.abs(ys[1:] - ys[:-1])[same].max() <= 1e-6
    assert (np.diff(ys) <= 1e-6).all()
    assert ys[0] > ys[-1] + 0.3


def test_vignette_elliptical_follows_the_aspect():
    # 21 x 63: a step of 3 columns from the centre matches a step of 1 row
    op = ops.Vignette(amount=-80, shape="elliptical", midpoint=0, feather=100)
    y = op.reference(flat((21, 63), 0.8))[..., 0]
    for j in range(1, 11):
        assert y[10, 31 + 3 * j] == pytest.approx(y[10 + j, 31], abs=1e-6)
        assert y[10, 31 - 3 * j] == pytest.approx(y[10 - j, 31], abs=1e-6)
    circ = ops.Vignette(amount=-80, shape="circular", midpoint=0, feather=100)
    yc = circ.reference(flat((21, 63), 0.8))[..., 0]
    for j in range(1, 11):
        assert yc[10, 31 + j] == pytest.approx(yc[10 + j, 31], abs=1e-6)
    assert y[20, 31] < yc[20, 31]  # the ellipse reaches the short edges sooner


@pytest.mark.parametrize("amount", [-60, 60])
def test_vignette_monotone_along_rays(amount):
    op = ops.Vignette(amount=amount, midpoint=25, feather=60)
    y = op.reference(flat((45, 81), 0.5))[..., 0]
    sign = -1 if amount < 0 else 1
    for ray in (y[22, 40:], y[22, 40::-1], y[22:, 40], y[22::-1, 40],
                y[np.arange(22, 45), np.arange(40, 63)]):
        steps = sign * np.diff(ray)
        assert (steps >= 0).all() and steps.sum() > 0.05


def test_vignette_midpoint_and_feather():
    x = flat((40, 60), 0.5)

    def at(**kw):
        return ops.Vignette(amount=-100, **kw).reference(x)[:, :, 0]

    # a larger midpoint darkens less; a harder feather darkens more just past the start
    assert at(midpoint=80).mean() > at(midpoint=20).mean()
    assert at(midpoint=50, feather=0)[0, 10] < at(midpoint=50, feather=100)[0, 10]


def test_vignette_tile_at_origin_equals_crop(wgpu_backend):
    x = random_rgba((48, 70), seed=18)
    full = ops.Vignette(amount=-55, shape="circular", midpoint=15).reference(x)
    tile = ops.Vignette(amount=-55, shape="circular", midpoint=15, image_size=(48, 70),
                        origin=(11, 23))
    part = x[11:40, 23:61]
    np.testing.assert_array_equal(tile.reference(part), full[11:40, 23:61])
    got = Pipeline([tile]).run(part, backend=wgpu_backend)
    assert_close(got, full[11:40, 23:61], RTOL_VIGNETTE, what="tile on GPU")
    with pytest.raises(ParameterError, match="does not fit"):
        tile.reference(x)


def test_vignette_parameters_validated():
    with pytest.raises(ParameterError, match="amount"):
        ops.Vignette.from_config({"amount": -101})
    with pytest.raises(ParameterError, match="shape"):
        ops.Vignette.from_config({"shape": "square"})
    with pytest.raises(ParameterError, match="feather"):
        ops.Vignette.from_config({"feather": 120})
    assert ops.Vignette().radius() == 0 and ops.Vignette.kind == "neighborhood"


def test_grain_at_the_largest_radius_in_one_pass(wgpu_backend):
    # size 100, silver: the widest blur (radius 15, the one-pass kernel's limit)
    op = ops.Grain(amount=80, size=100, kind="silver", seed=9, origin=(5, 2**32 - 3))
    assert op.noise_radius() == GPU_MAX_RADIUS
    x = random_rgba((45, 61), seed=3)
    got = Pipeline([op]).run(x, backend=wgpu_backend)
    assert wgpu_backend.kernels_dispatched == 1
    assert wgpu_backend.last_run_bytes < 3 * x.nbytes  # input and output only
    assert_close(got, op.reference(x), 1e-5)


def test_grain_gpu_radius_limit_covers_every_parameter():
    worst = max(ops.Grain(amount=1, size=100, kind=k).noise_radius() for k in KINDS)
    assert worst <= GPU_MAX_RADIUS
    shader = (Path(grain_module.__file__).parent / "grain.wgsl").read_text()
    assert f"const MAXR: u32 = {GPU_MAX_RADIUS}u;" in shader
