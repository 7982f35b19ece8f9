"""Geometry ops: crop, flip, rotate, resize.

Tolerances: reference vs WebGPU 1e-5 relative (float32 weights and sums in
the same order; permutations are bit-exact). Against Pillow: float mode
"F" 1e-5 absolute (Pillow accumulates in float64, we in float32), 8-bit
mode within one code value (see each test for the rounding argument).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from pixelpipe import ParameterError, Pipeline, ops
from pixelpipe.ops.base import get_op_class
from tests.helpers import SIZES, TALL, assert_close, check_consistency, random_rgba

RTOL = 1e-5
PIL_FILTER = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos3": Image.Resampling.LANCZOS,
    "area": Image.Resampling.BOX,
}
FILTERS = list(PIL_FILTER)


def pil_float(x: np.ndarray, fn) -> np.ndarray:
    """Apply ``fn`` to each channel of float32 (H, W, C) as a Pillow "F" image."""
    return np.stack([np.asarray(fn(Image.fromarray(np.ascontiguousarray(x[..., c]), "F")),
                                np.float32) for c in range(x.shape[2])], axis=-1)


def random_u8(shape: tuple[int, int], seed: int, low: int = 0, high: int = 256) -> np.ndarray:
    return np.random.default_rng(seed).integers(low, high, (*shape, 3), dtype=np.uint8)


def rgba_from_u8(u8: np.ndarray) -> np.ndarray:
    """8-bit RGB -> float32 (H, W, 4) on [0, 1], alpha 1."""
    return np.concatenate([u8 / 255.0, np.ones((*u8.shape[:2], 1))], -1).astype(np.float32)


def smooth_image(shape: tuple[int, int], seed: int = 0) -> np.ndarray:
    """Low-frequency float32 (H, W, 4) image (sum of a few long-wavelength waves)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float64)
    out = np.zeros((*shape, 4))
    for c in range(4):
        for _ in range(3):
            kx, ky = rng.uniform(-0.15, 0.15, 2)
            out[..., c] += rng.uniform(0.1, 0.3) * np.cos(kx * xx + ky * yy + rng.uniform(0, 6))
    return (out + 0.5).astype(np.float32)


# --- registration and parameters ---------------------------------------------------
def test_ops_are_registered_as_geometry():
    for name, cls in (("crop", ops.Crop), ("flip", ops.Flip), ("rotate", ops.Rotate),
                      ("resize", ops.Resize)):
        assert get_op_class(name) is cls
        assert cls.kind == "geometry"


@pytest.mark.parametrize("name, config, field", [
    ("crop", {"width": 0, "height": 2}, "width"),
    ("crop", {"x": -1, "width": 2, "height": 2}, "x"),
    ("flip", {"axis": "diagonal"}, "axis"),
    ("rotate", {"angle": 400}, "angle"),
    ("rotate", {"angle": 10, "interpolation": "lanczos3"}, "interpolation"),
    ("rotate", {"cubic_a": 0.5}, "cubic_a"),
    ("resize", {"width": 0}, "width"),
    ("resize", {"width": 10, "filter": "gaussian"}, "filter"),
])
def test_bad_parameters_raise_parameter_error(name, config, field):
    with pytest.raises(ParameterError, match=field):
        get_op_class(name).from_config(config)


def test_resize_needs_a_size():
    with pytest.raises(ParameterError, match="width, height or both"):
        ops.Resize.from_config({"filter": "bilinear"})


def test_crop_outside_the_image_fails_at_plan_time():
    op = ops.Crop(x=5, y=0, width=6, height=2)
    assert op.output_shape(4, 11) == (2, 6)
    with pytest.raises(ParameterError, match=r"crop.*does not fit in a 10x4 image"):
        op.output_shape(4, 10)
    with pytest.raises(ParameterError, match="does not fit"):
        Pipeline([op]).run(random_rgba((4, 10)), backend="cpu")


# --- crop and flip -------------------------------------------------------------------
def crop_for(shape):
    h, w = shape
    return ops.Crop(x=w // 3, y=h // 4, width=max(1, w - w // 3 - 1), height=max(1, h // 2))


@pytest.mark.parametrize("shape", SIZES)
def test_crop_matches_slicing_and_wgpu(shape, wgpu_backend):
    x = random_rgba(shape, seed=2, low=-1, high=3)
    op = crop_for(shape)
    ref = check_consistency(op, x, wgpu_backend, rtol=0)
    np.testing.assert_array_equal(ref, x[op.y:op.y + op.height, op.x:op.x + op.width])


def test_crop_tall_wgpu(wgpu_backend):
    x = random_rgba(TALL, seed=3)
    check_consistency(ops.Crop(x=1, y=5, width=1, height=1_050_001), x, wgpu_backend, rtol=0)


@pytest.mark.parametrize("shape", SIZES)
@pytest.mark.parametrize("axis", ["horizontal", "vertical", "both"])
def test_flip_matches_numpy_and_wgpu(shape, axis, wgpu_backend):
    x = random_rgba(shape, seed=4)
    ref = check_consistency(ops.Flip(axis=axis), x, wgpu_backend, rtol=0)
    expected = {"horizontal": x[:, ::-1], "vertical": x[::-1], "both": x[::-1, ::-1]}[axis]
    np.testing.assert_array_equal(ref, expected)


def test_flip_tall_wgpu(wgpu_backend):
    check_consistency(ops.Flip(axis="both"), random_rgba(TALL, seed=5), wgpu_backend, rtol=0)


def test_permutations_copy_nan_and_inf_bit_exactly(wgpu_backend):
    x = random_rgba((9, 12), seed=6)
    x[1, 2, 0], x[4, 7, 1], x[8, 11, 2] = np.nan, np.inf, -np.inf
    for op in (ops.Crop(x=1, y=1, width=11, height=8), ops.Flip(axis="both"),
               ops.Rotate(angle=90, expand=True), ops.Rotate(angle=-180)):
        got = Pipeline([op]).run(x, backend=wgpu_backend)
        ref = op.reference(x)
        np.testing.assert_array_equal(got.view(np.uint32), ref.view(np.uint32))
        assert np.isnan(ref).sum() == 1 and np.isposinf(ref).sum() == 1


# --- rotate: exact quarter turns -----------------------------------------------------
@pytest.mark.parametrize("shape", [(7, 5), (16, 9), (6, 6)])
@pytest.mark.parametrize("turns", [-1, 1, 2, 3, 4])
def test_quarter_turns_equal_rot90(shape, turns, wgpu_backend):
    x = random_rgba(shape, seed=7)
    ref = check_consistency(ops.Rotate(angle=90.0 * turns, expand=True), x, wgpu_backend,
                            rtol=0)
    np.testing.assert_array_equal(ref, np.rot90(x, turns))
    if shape[0] == shape[1]:  # square: same without expand
        np.testing.assert_array_equal(ops.Rotate(angle=90.0 * turns).reference(x),
                                      np.rot90(x, turns))


@pytest.mark.parametrize("angle", [90, 270])
@pytest.mark.parametrize("resample", ["nearest", "bilinear"])
def test_quarter_turn_without_expand_matches_pillow(angle, resample):
    # W + H even: Pillow's samples land on pixel centres, so any filter is a permutation
    x = random_rgba((12, 8), seed=8)
    fill = (0.25, 0.5, 0.75, 1.0)
    ours = ops.Rotate(angle=angle, fill=fill).reference(x)
    theirs = np.stack([np.asarray(Image.fromarray(x[..., c], "F").rotate(
        angle, PIL_FILTER[resample], fillcolor=fill[c])) for c in range(4)], -1)
    np.testing.assert_array_equal(ours, theirs)


def test_rotate_360_and_four_quarter_turns_are_identity(wgpu_backend):
    x = random_rgba((13, 21), seed=9)
    np.testing.assert_array_equal(ops.Rotate(angle=360, interpolation="bicubic").reference(x), x)
    got = Pipeline([ops.Rotate(angle=90, expand=True)] * 4).run(x, backend=wgpu_backend)
    np.testing.assert_array_equal(got, x)


# --- rotate: resampled angles -----------------------------------------------------
ROT_CASES = [(30.0, "bilinear", False), (-17.5, "bicubic", True), (123.4, "nearest", True),
             (45.0, "bicubic", False)]


@pytest.mark.parametrize("shape", SIZES)
@pytest.mark.parametrize("angle, interp, expand", ROT_CASES)
def test_rotate_wgpu_matches_reference(shape, angle, interp, expand, wgpu_backend):
    x = random_rgba(shape, seed=10, low=-0.5, high=2.0)
    op = ops.Rotate(angle=angle, interpolation=interp, expand=expand, fill=(0.1, 0.2, 0.3, 0.4))
    check_consistency(op, x, wgpu_backend, rtol=RTOL)


def test_rotate_tall_wgpu(wgpu_backend):
    # 1e-4 degree over 1.1 M rows shifts x by up to ~1 pixel: exercises the split coordinates
    x = random_rgba(TALL, seed=11)
    ref = check_consistency(ops.Rotate(angle=1e-4, interpolation="bilinear"), x, wgpu_backend,
                            rtol=RTOL)
    assert 0.2 < float(np.mean(ref[..., 3] != 0.0)) < 1.0  # partly covered, partly filled


def test_rotate_nan_inf_consistent(wgpu_backend):
    x = random_rgba((20, 24), seed=12)
    x[5, 6, 0], x[10, 12, 1], x[15, 3, 2] = np.nan, np.inf, -np.inf
    for interp in ("bilinear", "bicubic"):
        ref = check_consistency(ops.Rotate(angle=33, interpolation=interp), x, wgpu_backend,
                                rtol=RTOL)
        assert np.isnan(ref[..., 0]).any() and np.isinf(ref[..., 1]).any()
        assert np.isfinite(ref[..., 3]).all()  # the alpha channel had none


@pytest.mark.parametrize("shape", [(37, 53), (20, 20), (16, 9)])
@pytest.mark.parametrize("angle", [30.0, -17.5, 123.4])
@pytest.mark.parametrize("expand", [False, True])
@pytest.mark.parametrize("interp", ["bilinear", "bicubic"])
def test_rotate_matches_pillow_float(shape, angle, expand, interp):
    # Pillow's rotate(BICUBIC) is the Keys kernel with a = -1; ours takes cubic_a.
    x = random_rgba(shape, seed=13)
    fill = (0.25, 0.5, 0.75, 1.0)
    op = ops.Rotate(angle=angle, interpolation=interp, cubic_a=-1.0, expand=expand, fill=fill)
    ours = op.reference(x)
    theirs = np.stack([np.asarray(Image.fromarray(x[..., c], "F").rotate(
        angle, PIL_FILTER[interp], expand=expand, fillcolor=fill[c])) for c in range(4)], -1)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5)


@pytest.mark.parametrize("interp", ["bilinear", "bicubic"])
def test_rotate_matches_pillow_8bit(interp):
    # Pillow computes each 8-bit sample in float64 and truncates it ((UINT8)v, bicubic
    # clipped to [0, 255] first): theirs == floor(ours * 255) up to float32 rounding.
    u8 = random_u8((31, 45), seed=14)
    x = rgba_from_u8(u8)
    for angle in (25.0, -140.0):
        ours = ops.Rotate(angle=angle, interpolation=interp, cubic_a=-1.0,
                          expand=True).reference(x)[..., :3] * 255
        theirs = np.asarray(Image.fromarray(u8, "RGB").rotate(
            angle, PIL_FILTER[interp], expand=True), np.float64)
        ours = np.clip(ours, 0, 255)
        assert ours.shape == theirs.shape
        assert np.all(theirs <= ours + 1e-3) and np.all(ours < theirs + 1 + 1e-3)


def test_rotate_nearest_matches_pillow_but_for_fixed_point_ties():
    # Pillow's nearest affine path steps positions in 16.16 fixed point, so samples that
    # fall within ~2**-16 pixel of a pixel edge may take the neighbour there.
    x = random_rgba((37, 53), seed=15)
    for angle in (30.0, -17.5):
        ours = ops.Rotate(angle=angle, interpolation="nearest").reference(x)
        theirs = pil_float(x, lambda im, a=angle: im.rotate(a, Image.Resampling.NEAREST))
        same = np.all(ours == theirs, axis=-1)
        assert same.mean() > 0.995


def test_bicubic_keys_half_reproduces_quadratics():
    # Keys (1981): a = -0.5 interpolates polynomials up to degree 2 exactly.
    h, w = 40, 50
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)

    def f(u, v):
        return 0.3 + 0.02 * u - 0.01 * v + 4e-4 * u * u - 3e-4 * u * v + 2e-4 * v * v

    x = np.repeat(f(xx, yy)[..., None], 4, axis=-1).astype(np.float32)
    angle = 21.0
    out = ops.Rotate(angle=angle, interpolation="bicubic", cubic_a=-0.5).reference(x)
    t = math.radians(angle)
    ox, oy = xx + 0.5 - w / 2, yy + 0.5 - h / 2
    u = math.cos(t) * ox - math.sin(t) * oy + w / 2 - 0.5  # input pixel-centre coordinates
    v = math.sin(t) * ox + math.cos(t) * oy + h / 2 - 0.5
    interior = (u >= 1) & (u <= w - 3) & (v >= 1) & (v <= h - 3)  # 4x4 footprint inside
    assert interior.sum() > 500
    np.testing.assert_allclose(out[..., 0][interior], f(u, v)[interior], rtol=0, atol=2e-5)
    # a = -1 (Pillow's) does not: its error on the same data is far larger
    bad = ops.Rotate(angle=angle, interpolation="bicubic", cubic_a=-1.0).reference(x)
    assert np.abs(bad[..., 0] - f(u, v))[interior].max() > 1e-3


def test_rotate_there_and_back_is_close_in_the_interior():
    x = smooth_image((48, 64), seed=16)
    for interp, tol in (("bilinear", 5e-3), ("bicubic", 1e-3)):
        op1 = ops.Rotate(angle=27.0, interpolation=interp)
        op2 = ops.Rotate(angle=-27.0, interpolation=interp)
        back = op2.reference(op1.reference(x))
        yy, xx = np.mgrid[0:48, 0:64]
        centre = (yy + 0.5 - 24) ** 2 + (xx + 0.5 - 32) ** 2 < 18**2
        assert np.abs(back - x)[centre].max() < tol


# --- resize ------------------------------------------------------------------------
def test_resize_aspect_ratio_rounds_half_up():
    assert ops.Resize(width=50).output_shape(33, 100) == (17, 50)  # 16.5 -> 17
    assert ops.Resize(height=10).output_shape(30, 41) == (10, 14)  # 13.67 -> 14
    assert ops.Resize(width=1).output_shape(3, 1000) == (1, 1)  # at least 1
    assert ops.Resize(width=7, height=9).output_shape(100, 100) == (9, 7)


RESIZE_TARGETS = {(1, 1): (3, 2), (7, 5): (3, 11), (16, 16): (5, 40), (33, 47): (20, 13),
                  (70, 129): (31, 50)}


@pytest.mark.parametrize("shape", SIZES)
@pytest.mark.parametrize("filt", FILTERS)
def test_resize_wgpu_matches_reference(shape, filt, wgpu_backend):
    x = random_rgba(shape, seed=20, low=-0.5, high=2.0)
    oh, ow = RESIZE_TARGETS[shape]
    check_consistency(ops.Resize(width=ow, height=oh, filter=filt), x, wgpu_backend, rtol=RTOL)


def test_resize_one_axis_and_same_size_wgpu(wgpu_backend):
    x = random_rgba((33, 47), seed=21)
    check_consistency(ops.Resize(width=47, height=12, filter="lanczos3"), x, wgpu_backend, RTOL)
    check_consistency(ops.Resize(width=20, height=33, filter="bicubic"), x, wgpu_backend, RTOL)
    got = Pipeline([ops.Resize(width=47, height=33)]).run(x, backend=wgpu_backend)
    np.testing.assert_array_equal(got, x)
    Pipeline([ops.Resize(width=20, height=12)]).run(x, backend=wgpu_backend)
    assert wgpu_backend.kernels_dispatched == 2  # separable: one pass per axis


def test_resize_tall_wgpu(wgpu_backend):
    x = random_rgba(TALL, seed=22)
    check_consistency(ops.Resize(width=3, height=550_000, filter="bilinear"), x, wgpu_backend,
                      rtol=RTOL)


def test_resize_nan_inf(wgpu_backend):
    x = random_rgba((20, 30), seed=23)
    x[5, 7, 0], x[12, 20, 1], x[3, 25, 2] = np.nan, np.inf, -np.inf
    for filt in FILTERS:
        ref = check_consistency(ops.Resize(width=13, height=9, filter=filt), x, wgpu_backend,
                                rtol=RTOL)
        assert np.isfinite(ref[..., 3]).all()
        if filt != "nearest":  # a downscaling filter covers every input pixel
            assert not np.isfinite(ref[..., 0]).all() and not np.isfinite(ref[..., 1]).all()
    # nearest copies: the NaN lands in at most one output pixel per source pixel
    ref = ops.Resize(width=60, height=40, filter="nearest").reference(x)
    assert np.isnan(ref[..., 0]).sum() == 4 and np.isposinf(ref[..., 1]).sum() == 4


PIL_SIZES = [((37, 53), (11, 19)), ((20, 30), (47, 71)), ((64, 48), (16, 12)),
             ((30, 40), (13, 57)), ((9, 10), (27, 7))]


@pytest.mark.parametrize("src, dst", PIL_SIZES)
@pytest.mark.parametrize("filt", FILTERS)
def test_resize_matches_pillow_float(src, dst, filt):
    x = random_rgba(src, seed=24)
    oh, ow = dst
    ours = ops.Resize(width=ow, height=oh, filter=filt).reference(x)
    theirs = pil_float(x, lambda im: im.resize((ow, oh), PIL_FILTER[filt]))
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5)


@pytest.mark.parametrize("src, dst", PIL_SIZES)
@pytest.mark.parametrize("filt", FILTERS)
def test_resize_matches_pillow_8bit(src, dst, filt):
    # Pillow's 8-bit resize rounds the horizontal pass to 8 bits before the vertical one
    # and rounds the result: theirs = round(V(round(H(x)))). Ours is V(H(x)) unrounded, so
    # |ours * 255 - theirs| <= 0.5 * sum|w_v| + 0.5 < 1.5 code values, and after rounding
    # ours the same way the two differ by at most one code value (1/255). The input stays
    # in [32, 223] so that ringing of bicubic / Lanczos never hits Pillow's clipping of
    # the intermediate, which our float path does not do.
    u8 = random_u8(src, seed=25, low=32, high=224)
    oh, ow = dst
    ours = ops.Resize(width=ow, height=oh, filter=filt).reference(rgba_from_u8(u8))[..., :3]
    theirs = np.asarray(Image.fromarray(u8, "RGB").resize((ow, oh), PIL_FILTER[filt]), np.int64)
    mine = np.floor(np.clip(ours * 255, 0, 255) + 0.5).astype(np.int64)
    diff = np.abs(mine - theirs)
    if filt == "nearest":
        assert diff.max() == 0
    else:
        assert diff.max() <= 1


@pytest.mark.parametrize("k", [2, 3, 4])
def test_area_downscale_by_integer_is_block_mean(k):
    x = random_rgba((6 * k, 5 * k), seed=26)
    ours = ops.Resize(width=5, height=6, filter="area").reference(x)
    block = x.reshape(6, k, 5, k, 4).astype(np.float64).mean(axis=(1, 3))
    np.testing.assert_allclose(ours, block, rtol=0, atol=2e-6)


@pytest.mark.parametrize("filt", FILTERS)
def test_resize_keeps_constants(filt):
    x = np.full((17, 23, 4), 0.37, np.float32)
    for size in ((5, 9), (40, 31)):
        out = ops.Resize(width=size[1], height=size[0], filter=filt).reference(x)
        assert_close(out, np.full_like(out, 0.37), rtol=1e-6, what=filt)
