"""Tests of the basic colour ops: cdl, matrix, saturation, white_balance.

Tolerances (relative above 1, absolute below; see tests.helpers.relative_error):

* wgpu vs reference: 1e-6 for the linear ops (float32 sums, the GPU may
  fuse multiply-adds); 1e-5 for cdl, whose WGSL ``pow`` is only as accurate
  as ``exp2(y * log2(x))`` (a few float32 ulps; 4e-7 measured on llvmpipe).
* reference vs OpenColorIO's CPU processor: 1e-5 (the figure the CDL issue
  asks for). The processor is built with ``OPTIMIZATION_NONE``: OCIO's
  default optimisation swaps in an approximate ``pow`` (about 2e-5 relative
  error) and folds a CDL with power 1 into matrices, which drops the NaN -> 0
  and final-clamp steps of its own CDL renderer.
* white-balance chromaticities: exact (1e-12) against colour-science's
  implementations of the same formulas; 5e-4 in CIE 1960 (u, v) against its
  Ohno 2013 CCT/Duv (integrated Planckian locus), the error of Kang et al.'s
  approximation.
"""

from __future__ import annotations

import numpy as np
import pytest

from pixelpipe import ParameterError, Pipeline, ops
from pixelpipe.ops.color import white_balance as wb
from tests.helpers import SIZES, TALL, assert_close, check_consistency, random_rgba

GPU_RTOL_LINEAR = 1e-6
GPU_RTOL_POW = 1e-5
OCIO_RTOL = 1e-5

CDL_STYLES = [(s, d) for s in ("asc", "no_clamp") for d in ("forward", "inverse")]


def _cdl(style: str = "asc", direction: str = "forward") -> ops.CDL:
    return ops.CDL(slope=(1.1, 0.95, 0.8), offset=(0.02, -0.03, 0.05), power=(1.3, 0.8, 2.2),
                   saturation=1.25, style=style, direction=direction)


def _ocio_cpu(transform):
    import PyOpenColorIO as ocio
    proc = ocio.Config.CreateRaw().getProcessor(transform)
    return proc.getOptimizedCPUProcessor(ocio.BIT_DEPTH_F32, ocio.BIT_DEPTH_F32,
                                         ocio.OPTIMIZATION_NONE)


def _ocio_apply(transform, x: np.ndarray) -> np.ndarray:
    out = np.ascontiguousarray(x, np.float32).copy()
    _ocio_cpu(transform).applyRGBA(out)
    return out


def _ocio_cdl(op: ops.CDL):
    import PyOpenColorIO as ocio
    t = ocio.CDLTransform()
    t.setSlope(list(op.slope))
    t.setOffset(list(op.offset))
    t.setPower(list(op.power))
    t.setSat(op.saturation)
    t.setStyle(ocio.CDL_ASC if op.style == "asc" else ocio.CDL_NO_CLAMP)
    t.setDirection(ocio.TRANSFORM_DIR_FORWARD if op.direction == "forward"
                   else ocio.TRANSFORM_DIR_INVERSE)
    return t


def _nan_inf_image() -> np.ndarray:
    x = random_rgba((4, 6), seed=9, low=-0.5, high=1.5)
    x[0, 0, :3] = [np.nan, 0.5, 0.25]
    x[0, 1, :3] = [0.5, np.inf, 0.25]
    x[0, 2, :3] = [0.5, 0.25, -np.inf]
    x[0, 3, :3] = [np.nan, np.nan, np.nan]
    x[0, 4, :3] = [np.inf, np.inf, np.inf]
    x[0, 5, :3] = [-np.inf, np.nan, np.inf]
    x[1, 0, 3] = np.nan  # alpha is carried untouched whatever it holds
    return x


# --------------------------------------------------------------------------- cdl
@pytest.mark.parametrize(("style", "direction"), CDL_STYLES)
@pytest.mark.parametrize("shape", SIZES)
def test_cdl_wgpu_matches_reference(shape, style, direction, wgpu_backend):
    x = random_rgba(shape, seed=2, low=-0.5, high=1.5)
    check_consistency(_cdl(style, direction), x, wgpu_backend, rtol=GPU_RTOL_POW)


def test_cdl_wgpu_matches_reference_tall(wgpu_backend):
    x = random_rgba(TALL, seed=3, low=-0.5, high=1.5)
    check_consistency(_cdl("no_clamp"), x, wgpu_backend, rtol=GPU_RTOL_POW)


@pytest.mark.parametrize(("style", "direction"), CDL_STYLES)
def test_cdl_matches_opencolorio(style, direction):
    x = random_rgba((40, 50), seed=4, low=-0.5, high=1.5)
    op = _cdl(style, direction)
    assert_close(op.reference(x), _ocio_apply(_ocio_cdl(op), x), OCIO_RTOL,
                 what=f"cdl {style} {direction} vs OpenColorIO")


@pytest.mark.parametrize(("style", "direction"), CDL_STYLES)
def test_cdl_nan_inf_match_opencolorio_and_gpu(style, direction, wgpu_backend):
    x = _nan_inf_image()
    op = _cdl(style, direction)
    ref = check_consistency(op, x, wgpu_backend, rtol=GPU_RTOL_POW)
    assert_close(ref, _ocio_apply(_ocio_cdl(op), x), OCIO_RTOL,
                 what=f"cdl {style} {direction} NaN/Inf vs OpenColorIO")
    assert np.isnan(ref[1, 0, 3])
    if style == "asc":
        assert np.all(np.isfinite(ref[..., :3]))
        assert ref[..., :3].min() >= 0.0 and ref[..., :3].max() <= 1.0


def test_cdl_asc_clamps_nan_to_zero_and_inf_to_one():
    x = np.zeros((1, 3, 4), np.float32)
    x[0, :, :3] = [[np.nan] * 3, [np.inf] * 3, [-np.inf] * 3]
    y = ops.CDL(power=1.5).reference(x)
    np.testing.assert_array_equal(y[0, :, :3], [[0, 0, 0], [1, 1, 1], [0, 0, 0]])


def test_cdl_no_clamp_negative_values_bypass_the_power():
    x = np.zeros((1, 1, 4), np.float32)
    x[0, 0, :3] = [-0.5, 0.25, 4.0]
    y = ops.CDL(power=2.0, style="no_clamp").reference(x)
    np.testing.assert_allclose(y[0, 0, :3], [-0.5, 0.0625, 16.0], rtol=1e-7)


def test_cdl_asc_is_the_spec_formula():
    x = random_rgba((8, 8), seed=5, low=-0.5, high=1.5)
    slope, offset, power, sat = np.array([1.2, 0.9, 1.0]), np.array([0.1, -0.05, 0]), \
        np.array([0.7, 1.4, 2.0]), 0.6
    sop = np.clip(x[..., :3].astype(np.float64) * slope + offset, 0, 1) ** power
    luma = sop @ np.array([0.2126, 0.7152, 0.0722])
    expected = np.clip(luma[..., None] + sat * (sop - luma[..., None]), 0, 1)
    y = ops.CDL(slope=slope, offset=offset, power=power, saturation=sat).reference(x)
    assert_close(y[..., :3], expected, 1e-6, what="cdl vs ASC CDL v1.2 formula")
    np.testing.assert_array_equal(y[..., 3], x[..., 3])


def test_cdl_inverse_undoes_forward():
    x = random_rgba((16, 16), seed=6, low=0.0, high=1.5)
    fwd, inv = _cdl("no_clamp", "forward"), _cdl("no_clamp", "inverse")
    assert_close(inv.reference(fwd.reference(x)), x, 1e-5, what="no_clamp inverse(forward(x))")
    # "asc" inverts exactly where no clamp fired: data whose forward result equals no_clamp's
    x = random_rgba((16, 16), seed=6, low=0.1, high=0.7)
    kw = {"slope": (1.05, 0.95, 0.9), "offset": (0.02, -0.01, 0.03), "power": (1.2, 0.9, 1.1),
          "saturation": 1.1}
    fwd, inv = ops.CDL(**kw), ops.CDL(**kw, direction="inverse")
    y = fwd.reference(x)
    np.testing.assert_array_equal(y, ops.CDL(**kw, style="no_clamp").reference(x))
    assert_close(inv.reference(y), x, 1e-5, what="asc inverse(forward(x))")


def test_cdl_scalar_broadcast_and_default_identity():
    op = ops.CDL(slope=(1.1, 1, 0.9), power=1.2, offset=0.0)
    assert op.slope == (1.1, 1.0, 0.9) and op.power == (1.2, 1.2, 1.2)
    assert op.offset == (0.0, 0.0, 0.0)
    # saturation 1 is still evaluated (luma + 1 * (v - luma)), as in OpenColorIO
    x = random_rgba((5, 5), seed=7)
    assert_close(ops.CDL().reference(x), x, 1e-6, what="default cdl")


@pytest.mark.parametrize(("config", "field"), [
    ({"slope": (1.0, 1.0)}, "slope"),
    ({"slope": (1.0, -0.1, 1.0)}, "slope"),
    ({"offset": (0.0, float("nan"), 0.0)}, "offset"),
    ({"power": 0.0}, "power"),
    ({"power": (1, 1, 1, 1)}, "power"),
    ({"saturation": -0.5}, "saturation"),
    ({"style": "clamp"}, "style"),
    ({"direction": "backward"}, "direction"),
    ({"sat": 1.0}, "sat"),
])
def test_cdl_bad_parameters_raise(config, field):
    with pytest.raises(ParameterError, match=f"'cdl'.*{field}"):
        ops.CDL.from_config(config)


# ------------------------------------------------------------------------ matrix
M_TEST = np.array([[0.6274, 0.3293, 0.0433],  # a Rec.709 -> Rec.2020-like mix
                   [0.0691, 0.9195, 0.0114],
                   [-0.0164, 0.0880, 0.8996]])


@pytest.mark.parametrize("shape", [*SIZES, TALL])
def test_matrix_wgpu_matches_reference(shape, wgpu_backend):
    x = random_rgba(shape, seed=11, low=-0.5, high=1.5)
    op = ops.Matrix(matrix=M_TEST, offset=(0.01, -0.02, 0.03))
    check_consistency(op, x, wgpu_backend, rtol=GPU_RTOL_LINEAR)


def test_matrix_matches_numpy_and_opencolorio():
    import PyOpenColorIO as ocio
    rng = np.random.default_rng(12)
    m, off = rng.uniform(-1.0, 2.0, (3, 3)), rng.uniform(-0.2, 0.2, 3)
    x = random_rgba((40, 50), seed=13, low=-0.5, high=1.5)
    y = ops.Matrix(matrix=m, offset=off).reference(x)
    assert_close(y[..., :3], x[..., :3].astype(np.float64) @ m.T + off, 1e-6,
                 what="matrix vs numpy float64")
    np.testing.assert_array_equal(y[..., 3], x[..., 3])
    t = ocio.MatrixTransform()
    m44 = np.eye(4)
    m44[:3, :3] = m
    t.setMatrix(m44.ravel().tolist())
    t.setOffset([*off.tolist(), 0.0])
    assert_close(y, _ocio_apply(t, x), OCIO_RTOL, what="matrix vs OpenColorIO")


def test_matrix_accepts_rows_arrays_and_flat_row_major_lists():
    rows = ops.Matrix(matrix=M_TEST.tolist()).matrix
    assert ops.Matrix(matrix=M_TEST).matrix == rows
    assert Pipeline.from_strings(
        ["matrix matrix=" + ",".join(str(v) for v in M_TEST.ravel())]).ops[0].matrix == rows


def test_matrix_nan_inf_follow_ieee(wgpu_backend):
    x = _nan_inf_image()
    op = ops.Matrix(matrix=np.eye(3) * 0.5 + 0.1, offset=0.1)
    ref = check_consistency(op, x, wgpu_backend, rtol=GPU_RTOL_LINEAR)
    assert np.all(np.isnan(ref[0, 0, :3])) and np.all(np.isnan(ref[0, 3, :3]))
    assert np.all(ref[0, 1, :3] == np.inf) and np.all(ref[0, 2, :3] == -np.inf)
    assert np.all(np.isnan(ref[0, 5, :3]))  # inf - inf
    # with zero coefficients NaN still spreads (0 * nan = nan), on both backends
    ref0 = check_consistency(ops.Matrix(), x, wgpu_backend, rtol=GPU_RTOL_LINEAR)
    assert np.all(np.isnan(ref0[0, 0, :3]))


@pytest.mark.parametrize("config", [
    {"matrix": [[1, 0, 0], [0, 1, 0]]},
    {"matrix": [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]},
    {"matrix": [[1, 0], [0, 1], [0, 0]]},
    {"matrix": [[1, 0, 0], [0, float("inf"), 0], [0, 0, 1]]},
    {"offset": (0.0, 0.0)},
    {"matrix": "identity"},
])
def test_matrix_bad_parameters_raise(config):
    field = next(iter(config))
    with pytest.raises(ParameterError, match=f"'matrix'.*{field}"):
        ops.Matrix.from_config(config)


# -------------------------------------------------------------------- saturation
@pytest.mark.parametrize("shape", [*SIZES, TALL])
def test_saturation_wgpu_matches_reference(shape, wgpu_backend):
    x = random_rgba(shape, seed=21, low=-0.5, high=1.5)
    check_consistency(ops.Saturation(saturation=1.6), x, wgpu_backend, rtol=GPU_RTOL_LINEAR)


@pytest.mark.parametrize("weights", ["rec709", "rec2020"])
@pytest.mark.parametrize("s", [0.0, 0.5, 2.5])
def test_saturation_matches_opencolorio(weights, s):
    import PyOpenColorIO as ocio
    op = ops.Saturation(saturation=s, weights=weights)
    x = random_rgba((30, 40), seed=22, low=-0.5, high=1.5)
    t = ocio.MatrixTransform.Sat(s, [float(w) for w in op.luma_weights()])
    assert_close(op.reference(x), _ocio_apply(t, x), OCIO_RTOL, what="saturation vs OCIO")


def test_saturation_zero_is_luma_grey_and_luma_is_preserved():
    x = random_rgba((9, 9), seed=23)
    for weights, w in (("rec709", [0.2126, 0.7152, 0.0722]), ("rec2020", [0.2627, 0.6780, 0.0593])):
        luma = x[..., :3].astype(np.float64) @ np.array(w)
        grey = ops.Saturation(saturation=0.0, weights=weights).reference(x)
        for c in range(3):
            assert_close(grey[..., c], luma, 1e-6, what=f"{weights} grey channel {c}")
        vivid = ops.Saturation(saturation=3.0, weights=weights).reference(x)
        assert_close(vivid[..., :3].astype(np.float64) @ np.array(w), luma, 1e-6,
                     what=f"{weights} luma kept")
    assert_close(ops.Saturation().reference(x), x, 1e-6, what="saturation 1")


def test_saturation_nan_inf_make_the_pixel_nan(wgpu_backend):
    x = _nan_inf_image()
    ref = check_consistency(ops.Saturation(saturation=0.7), x, wgpu_backend,
                            rtol=GPU_RTOL_LINEAR)
    assert np.all(np.isnan(ref[0, :, :3]))
    assert np.all(np.isfinite(ref[1:, :, :3]))
    for s in (0.0, 1.0, 4.0):
        assert np.all(np.isnan(ops.Saturation(saturation=s).reference(x)[0, :, :3]))


@pytest.mark.parametrize(("config", "field"), [
    ({"saturation": 4.5}, "saturation"),
    ({"saturation": -0.1}, "saturation"),
    ({"weights": "p3"}, "weights"),
])
def test_saturation_bad_parameters_raise(config, field):
    with pytest.raises(ParameterError, match=f"'saturation'.*{field}"):
        ops.Saturation.from_config(config)


# ----------------------------------------------------------------- white_balance
@pytest.mark.parametrize("shape", [*SIZES, TALL])
def test_white_balance_wgpu_matches_reference(shape, wgpu_backend):
    x = random_rgba(shape, seed=31, low=-0.5, high=1.5)
    op = ops.WhiteBalance(temperature=3200, tint=10)
    check_consistency(op, x, wgpu_backend, rtol=GPU_RTOL_LINEAR)


def test_white_balance_nan_inf_propagate(wgpu_backend):
    x = _nan_inf_image()
    ref = check_consistency(ops.WhiteBalance(gains=(2.0, 1.0, 0.5)), x, wgpu_backend,
                            rtol=GPU_RTOL_LINEAR)
    assert np.isnan(ref[0, 0, 0]) and ref[0, 0, 1] == 0.5 and ref[0, 0, 2] == 0.125
    assert ref[0, 1, 1] == np.inf and ref[0, 2, 2] == -np.inf


def test_white_balance_gains_multiply_and_keep_alpha():
    x = random_rgba((6, 7), seed=32)
    y = ops.WhiteBalance(gains=[2.0, 1.0, 0.5]).reference(x)
    np.testing.assert_array_equal(y[..., :3], x[..., :3] * np.float32([2.0, 1.0, 0.5]))
    np.testing.assert_array_equal(y[..., 3], x[..., 3])


@pytest.mark.parametrize("op", [
    ops.WhiteBalance(),
    ops.WhiteBalance(gains=(1, 1, 1)),
    ops.WhiteBalance(temperature=3200, reference_white=3200),
    ops.WhiteBalance(temperature=5500, reference_white=5500.0, locus="planckian"),
])
def test_white_balance_neutral_is_identity(op):
    x = random_rgba((5, 5), seed=33, low=-1, high=2)
    np.testing.assert_array_equal(op.rgb_gains(), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(op.reference(x), x)


def test_white_balance_maps_illuminant_white_to_reference_white():
    op = ops.WhiteBalance(temperature=2856, tint=-15, reference_white="D50")
    ill = wb.white_rgb(op.illuminant_xy(), "rec709")
    ref = wb.white_rgb(wb.ILLUMINANTS_XY["D50"], "rec709")
    np.testing.assert_allclose(op.rgb_gains() * ill, ref, rtol=1e-12)
    # D65 is the daylight locus at 6504 K: balancing 6504 K to D65 is almost neutral
    np.testing.assert_allclose(ops.WhiteBalance(temperature=6504).rgb_gains(), 1.0, atol=1e-3)


def test_white_balance_directions():
    warm = ops.WhiteBalance(temperature=3200).rgb_gains()
    assert warm[2] > 1.0 > warm[0]  # tungsten light: boost blue, cut red
    cool = ops.WhiteBalance(temperature=10000).rgb_gains()
    assert cool[0] > 1.0 > cool[2]
    green = ops.WhiteBalance(temperature=5000, tint=40).rgb_gains()
    plain = ops.WhiteBalance(temperature=5000).rgb_gains()
    assert green[1] < plain[1]  # a greenish illuminant is corrected towards magenta


def test_white_balance_chromaticities_match_colour_science():
    import colour.temperature as temperature
    for t in (2000.0, 2222.0, 2856.0, 3500.0, 4000.0, 5003.0, 6504.0, 9000.0, 25000.0):
        np.testing.assert_allclose(wb.planckian_xy(t), temperature.CCT_to_xy_Kang2002(t),
                                   atol=1e-12)
        if t >= 4000.0:
            np.testing.assert_allclose(wb.daylight_xy(t), temperature.CCT_to_xy_CIE_D(t),
                                       atol=1e-12)
        for duv in (-0.02, -0.005, 0.0, 0.01, 0.02):
            uv = wb.xy_to_uv(*wb.cct_duv_to_xy(t, duv, "planckian"))
            exact = temperature.CCT_to_uv_Ohno2013(np.array([t, duv]))
            dist = float(np.hypot(*(np.asarray(uv) - exact)))
            assert dist < 5e-4, f"{t} K, Duv {duv}: (u, v) {uv} vs Ohno 2013 {exact}"


def test_white_balance_gains_match_colour_science_von_kries(monkeypatch):
    import colour
    import colour.adaptation as adaptation
    cs = colour.RGB_COLOURSPACES["ITU-R BT.709"]
    # von Kries scaling in linear Rec.709: colour's CAT with XYZ -> RGB as the "cone" space
    monkeypatch.setitem(adaptation.CHROMATIC_ADAPTATION_TRANSFORMS, "pixelpipe rec709",
                        cs.matrix_XYZ_to_RGB)
    d65 = colour.CCS_ILLUMINANTS["CIE 1931 2 Degree Standard Observer"]["D65"]
    for t, xy in ((3200.0, colour.temperature.CCT_to_xy_Kang2002(3200.0)),
                  (5500.0, colour.temperature.CCT_to_xy_CIE_D(5500.0)),
                  (12000.0, colour.temperature.CCT_to_xy_CIE_D(12000.0))):
        op = ops.WhiteBalance(temperature=t)
        cat = adaptation.matrix_chromatic_adaptation_VonKries(
            colour.xy_to_XYZ(xy), colour.xy_to_XYZ(d65), "pixelpipe rec709")
        expected = cs.matrix_XYZ_to_RGB @ cat @ cs.matrix_RGB_to_XYZ  # diagonal in RGB
        np.testing.assert_allclose(np.diag(op.rgb_gains()), expected, atol=1e-9)
        # and directly: RGB of the reference white over RGB of the illuminant (Y = 1)
        rgb_ill = colour.XYZ_to_RGB(colour.xy_to_XYZ(xy), cs, chromatic_adaptation_transform=None)
        rgb_ref = colour.XYZ_to_RGB(colour.xy_to_XYZ(d65), cs, chromatic_adaptation_transform=None)
        np.testing.assert_allclose(op.rgb_gains(), rgb_ref / rgb_ill, rtol=1e-9)


def test_white_balance_rec2020_primaries_match_colour_science():
    import colour
    np.testing.assert_allclose(wb.rgb_to_xyz_matrix("rec2020"),
                               colour.RGB_COLOURSPACES["ITU-R BT.2020"].matrix_RGB_to_XYZ,
                               atol=1e-8)
    np.testing.assert_allclose(wb.rgb_to_xyz_matrix("rec709"),
                               colour.RGB_COLOURSPACES["ITU-R BT.709"].matrix_RGB_to_XYZ,
                               atol=1e-8)


@pytest.mark.parametrize(("config", "match"), [
    ({"gains": (1.0, 1.0, 1.0), "temperature": 5000}, "not both"),
    ({"tint": 10}, "tint needs a temperature"),
    ({"temperature": 1500}, "temperature"),
    ({"temperature": 30000}, "temperature"),
    ({"gains": (1.0, 0.0, 1.0)}, "gains"),
    ({"gains": (1.0, 1.0)}, "gains"),
    ({"temperature": 5000, "tint": 150}, "tint"),
    ({"temperature": 3000, "locus": "daylight"}, "below 4000 K"),
    ({"temperature": 2000, "tint": 100}, "gamut"),
    ({"reference_white": "D60"}, "reference_white"),
    ({"reference": "D65"}, "reference"),
])
def test_white_balance_bad_parameters_raise(config, match):
    with pytest.raises(ParameterError, match=match) as info:
        ops.WhiteBalance.from_config(config)
    assert "'white_balance'" in str(info.value)


# ------------------------------------------------------------------------ fused
def test_fused_chain_of_colour_ops_matches_reference(wgpu_backend):
    x = random_rgba((33, 47), seed=41, low=-0.5, high=1.5)
    chain = [ops.WhiteBalance(temperature=4300, tint=-5), ops.Matrix(matrix=M_TEST),
             _cdl("no_clamp"), ops.Saturation(saturation=0.8, weights="rec2020"),
             _cdl("asc", "inverse")]
    check_consistency(chain, x, wgpu_backend, rtol=GPU_RTOL_POW)
    assert wgpu_backend.kernels_dispatched == 1
    ref = Pipeline(chain).run(x, backend="cpu")
    step = x
    for op in chain:
        step = op.reference(step)
    np.testing.assert_array_equal(ref, step)
