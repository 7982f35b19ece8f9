"""lut1d and lut3d: reference vs WebGPU, reference vs OpenColorIO, construction.

Tolerances: reference vs WebGPU 1e-5 relative (float32 fractional index and
interpolation on the GPU; measured ~1e-7..2e-6); reference vs OpenColorIO's
CPU processor 1e-5.
"""

from pathlib import Path

import numpy as np
import PyOpenColorIO as ocio
import pytest

from pixelpipe import ParameterError, Pipeline, ops
from pixelpipe.errors import InputError
from tests.helpers import SIZES, TALL, assert_close, check_consistency, random_rgba
from tests.io.conftest import TEST_DATA, cube_files, require_shared

LUTS = TEST_DATA / "luts"
#: tests/data/luts, and $PIXELPIPE_SHARED_DATA/luts when set, by relative path
CUBES = cube_files()
CUBE_FILES = list(CUBES.values())
RTOL = 1e-5

OCIO_INTERP = {"trilinear": ocio.INTERP_LINEAR, "tetrahedral": ocio.INTERP_TETRAHEDRAL}


def smooth_lut1d(n: int, seed: int = 0) -> np.ndarray:
    """A monotone curve per channel plus a little noise (realistic, not a step function)."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, n)[:, None]
    return (t ** np.array([0.45, 1.0, 2.2]) * 1.3 - 0.1
            + rng.normal(0, 0.01, (n, 3))).astype(np.float32)


def random_lut3d(n: int, seed: int = 0, amp: float = 0.3) -> np.ndarray:
    """An identity grid [r][g][b] plus random distortion of up to ``amp``."""
    rng = np.random.default_rng(seed)
    g = np.linspace(0.0, 1.0, n)
    ident = np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1)
    return (ident + rng.uniform(-amp, amp, ident.shape)).astype(np.float32)


def with_specials(x: np.ndarray) -> np.ndarray:
    x = x.copy()
    x[0, 0, :3] = [np.nan, np.inf, -np.inf]
    return x


def ocio_cpu(transforms):
    group = ocio.GroupTransform()
    for t in transforms:
        group.appendTransform(t)
    return ocio.Config.CreateRaw().getProcessor(group).getDefaultCPUProcessor()


def ocio_domain(lo, hi):
    """Scale/offset taking [lo, hi] to [0, 1] per channel (how OCIO applies a .cube domain)."""
    lo, hi = np.asarray(lo, np.float64), np.asarray(hi, np.float64)
    s = 1.0 / (hi - lo)
    m = np.eye(4)
    m[:3, :3] = np.diag(s)
    return ocio.MatrixTransform(matrix=m.ravel().tolist(),
                                offset=[*(-lo * s), 0.0])


def ocio_apply(cpu, x):
    y = np.ascontiguousarray(x.copy())
    cpu.applyRGBA(y)
    return y


@pytest.fixture(scope="module", autouse=True)
def _shared_luts_in_ci() -> None:
    require_shared("luts")


# --- reference vs WebGPU ---------------------------------------------------------

LUT1D_OP = ops.LUT1D(table=smooth_lut1d(1000), domain_min=(-0.1, 0.0, 0.2),
                     domain_max=(1.1, 2.0, 0.9))


@pytest.mark.parametrize("shape", [*SIZES, TALL])
def test_lut1d_wgpu_matches_reference(shape, wgpu_backend):
    x = random_rgba(shape, seed=2, low=-0.5, high=2.5)
    check_consistency(LUT1D_OP, with_specials(x), wgpu_backend, rtol=RTOL)


def test_lut1d_large_table_wgpu_matches_reference(wgpu_backend):
    # float32 puts the fractional index of a 65536-entry table within ~0.004 entries
    # (N * 6e-8), so the GPU error is ~0.004 x the step between neighbouring entries:
    # a smooth curve (steps ~1/N, as real 1-D LUTs) meets RTOL; see docs/ops/color_luts.md
    t = np.linspace(0.0, 1.0, 65536)[:, None]
    op = ops.LUT1D(table=(t ** np.array([0.45, 1.0, 2.2])).astype(np.float32))
    check_consistency(op, random_rgba((33, 47), seed=5, low=-0.2, high=1.2), wgpu_backend, RTOL)


@pytest.mark.parametrize("interpolation", ["trilinear", "tetrahedral"])
@pytest.mark.parametrize("shape", SIZES)
def test_lut3d_wgpu_matches_reference(shape, interpolation, wgpu_backend):
    op = ops.LUT3D(table=random_lut3d(17, seed=3), interpolation=interpolation,
                   domain_min=(-0.2, 0.0, 0.1), domain_max=(1.0, 1.5, 3.0))
    x = random_rgba(shape, seed=6, low=-0.5, high=3.5)
    check_consistency(op, with_specials(x), wgpu_backend, rtol=RTOL)


def test_lut3d_tall_with_shaper_wgpu_matches_reference(wgpu_backend):
    op = ops.LUT3D(table=random_lut3d(9, seed=7), shaper=smooth_lut1d(64, seed=8),
                   shaper_domain_min=(-0.1, -0.1, -0.1), shaper_domain_max=(2.0, 2.0, 2.0),
                   domain_min=(-0.2, -0.2, -0.2), domain_max=(1.3, 1.3, 1.3))
    x = random_rgba(TALL, seed=9, low=-0.5, high=2.5)
    check_consistency(op, with_specials(x), wgpu_backend, rtol=RTOL)


def test_lut_chain_fuses_into_one_kernel(wgpu_backend):
    # gentle tables: each op's float32 error is scaled by the slopes of the ops after it,
    # and steep random tables would multiply it past RTOL
    chain = [LUT1D_OP, ops.LUT3D(table=random_lut3d(5, amp=0.05), interpolation="trilinear"),
             ops.LUT3D(table=random_lut3d(4, seed=1, amp=0.05)), ops.Transfer(function="srgb")]
    check_consistency(chain, random_rgba((16, 16), seed=1, low=-0.2, high=1.5), wgpu_backend,
                      RTOL)
    assert wgpu_backend.kernels_dispatched == 1


# --- reference vs OpenColorIO ------------------------------------------------------

def test_lut1d_matches_opencolorio():
    table = smooth_lut1d(37, seed=11)
    lo, hi = (-0.25, 0.0, 0.5), (1.0, 3.0, 0.75)
    lut = ocio.Lut1DTransform(length=table.shape[0])
    for i, v in enumerate(table):
        lut.setValue(i, *map(float, v))
    cpu = ocio_cpu([ocio_domain(lo, hi), lut])
    x = with_specials(random_rgba((40, 50), seed=12, low=-1.0, high=4.0))
    ours = ops.LUT1D(table=table, domain_min=lo, domain_max=hi).reference(x)
    assert_close(ours, ocio_apply(cpu, x), RTOL, "lut1d vs OCIO")


@pytest.mark.parametrize("interpolation", ["trilinear", "tetrahedral"])
def test_lut3d_matches_opencolorio(interpolation):
    n = 11
    table = random_lut3d(n, seed=13)
    lo, hi = (-0.1, 0.0, 0.2), (1.2, 2.0, 0.9)
    lut = ocio.Lut3DTransform(gridSize=n)
    lut.setInterpolation(OCIO_INTERP[interpolation])
    for i in range(n):
        for j in range(n):
            for k in range(n):
                lut.setValue(i, j, k, *map(float, table[i, j, k]))
    cpu = ocio_cpu([ocio_domain(lo, hi), lut])
    x = with_specials(random_rgba((40, 50), seed=14, low=-0.5, high=2.5))
    ours = ops.LUT3D(table=table, interpolation=interpolation, domain_min=lo,
                     domain_max=hi).reference(x)
    assert_close(ours, ocio_apply(cpu, x), RTOL, f"lut3d {interpolation} vs OCIO")


def _ocio_path(path: Path, tmp_path: Path) -> Path:
    # OCIO's Resolve reader rejects TITLE, which Resolve itself writes: drop it for OCIO
    text = path.read_text()
    if "LUT_1D_SIZE" in text and "LUT_3D_SIZE" in text:
        out = tmp_path / path.name
        out.write_text("".join(ln for ln in text.splitlines(True) if not ln.startswith("TITLE")))
        return out
    return path


def _from_cube(path: Path, interpolation: str):
    cube_text = path.read_text()
    if "LUT_3D_SIZE" in cube_text:
        return ops.LUT3D.from_cube(path, interpolation=interpolation)
    return ops.LUT1D.from_cube(path)


@pytest.mark.parametrize("interpolation", ["trilinear", "tetrahedral"])
@pytest.mark.parametrize("path", CUBE_FILES, ids=list(CUBES))
def test_every_cube_file_applies_like_opencolorio(path, interpolation, tmp_path):
    op = _from_cube(path, interpolation)
    if isinstance(op, ops.LUT1D):
        lo, hi = np.array(op.domain_min), np.array(op.domain_max)
    elif op.shaper is not None:
        lo, hi = np.array(op.shaper_domain_min), np.array(op.shaper_domain_max)
    else:
        lo, hi = np.array(op.domain_min), np.array(op.domain_max)
    # inputs spanning the domain and 25 % beyond it on both sides
    span = hi - lo
    u = random_rgba((30, 40), seed=15, low=-0.25, high=1.25)
    x = u.copy()
    x[..., :3] = (lo + u[..., :3] * span).astype(np.float32)
    x = with_specials(x)
    ft = ocio.FileTransform(src=str(_ocio_path(path, tmp_path)),
                            interpolation=OCIO_INTERP[interpolation])
    if isinstance(op, ops.LUT1D):
        ft.setInterpolation(ocio.INTERP_LINEAR)
    cpu = ocio.Config.CreateRaw().getProcessor(ft).getDefaultCPUProcessor()
    assert_close(op.reference(x), ocio_apply(cpu, x), RTOL, f"{path.name} vs OCIO")


# --- behaviour ---------------------------------------------------------------------

@pytest.mark.parametrize("interpolation", ["trilinear", "tetrahedral"])
def test_identity_lut3d_is_identity_inside_and_clamps_outside(interpolation):
    g = np.linspace(-1.0, 2.0, 7)
    ident = np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1)
    op = ops.LUT3D(table=ident, interpolation=interpolation, domain_min=(-1, -1, -1),
                   domain_max=(2, 2, 2))
    x = random_rgba((20, 20), seed=16, low=-2.0, high=3.0)
    y = op.reference(x)
    np.testing.assert_allclose(y[..., :3], np.clip(x[..., :3], -1, 2), atol=2e-7)
    np.testing.assert_array_equal(y[..., 3], x[..., 3])


def test_nan_looks_up_domain_min_and_output_is_finite():
    table = smooth_lut1d(8)
    y = ops.LUT1D(table=table, domain_min=(-1, -1, -1)).reference(
        with_specials(random_rgba((2, 2))))
    np.testing.assert_allclose(y[0, 0, :3], [table[0, 0], table[-1, 1], table[0, 2]])
    assert np.all(np.isfinite(y))


# --- construction ------------------------------------------------------------------

def test_from_config_resolves_path_against_base_dir(tmp_path):
    src = LUTS / "resolve" / "LogC_Video.cube"
    (tmp_path / "looks").mkdir()
    (tmp_path / "looks" / "film.cube").write_bytes(src.read_bytes())
    pipe = Pipeline.from_config([{"op": "lut3d", "path": "looks/film.cube",
                                  "interpolation": "trilinear"}], base_dir=tmp_path)
    op = pipe.ops[0]
    assert isinstance(op, ops.LUT3D) and op.shaper is not None
    assert op == ops.LUT3D.from_cube(src, interpolation="trilinear")
    assert "film.cube" in repr(op) and len(repr(op)) < 300
    one = ops.LUT1D.from_config({"path": "Demo.cube"}, base_dir=LUTS / "iridas")
    assert one.domain_max == (1.0, 2.0, 3.0) and "table" not in repr(one)


def test_missing_or_malformed_lut_file_names_the_path(tmp_path):
    with pytest.raises(InputError, match=r"missing\.cube"):
        ops.LUT3D.from_config({"path": "missing.cube"}, base_dir=tmp_path)
    bad = tmp_path / "bad.cube"
    bad.write_text("LUT_3D_SIZE 2\n0 0 0\n")
    with pytest.raises(InputError, match=r"bad.cube: line 2: expected 8"):
        ops.LUT3D.from_config({"path": "bad.cube"}, base_dir=tmp_path)


def test_wrong_kind_of_file_and_bad_parameters_raise_parameter_error():
    with pytest.raises(ParameterError, match="3-D table"):
        ops.LUT1D.from_config({"path": str(LUTS / "iridas" / "Unit.cube")})
    with pytest.raises(ParameterError, match="no 3-D table"):
        ops.LUT3D.from_config({"path": str(LUTS / "iridas" / "Demo.cube")})
    with pytest.raises(ParameterError, match="interpolation"):
        ops.LUT3D.from_config({"path": str(LUTS / "iridas" / "Unit.cube"),
                               "interpolation": "cubic"})
    with pytest.raises(ParameterError, match="unknown parameter"):
        ops.LUT1D.from_config({"path": str(LUTS / "iridas" / "Demo.cube"), "gain": 2})
    with pytest.raises(ParameterError, match=r"out of range 2\.\.129"):
        ops.LUT3D.from_config({"table": np.zeros((130, 130, 130, 3), np.float32)})
    with pytest.raises(ParameterError, match=r"expected 2\.\.65536"):
        ops.LUT1D.from_config({"table": [[0, 0, 0]]})
    with pytest.raises(ParameterError, match="domain"):
        ops.LUT1D.from_config({"table": [[0, 0, 0], [1, 1, 1]], "domain_min": [0, 2, 0]})
    with pytest.raises(ParameterError, match="NaN or Inf"):
        ops.LUT1D.from_config({"table": [[0, 0, 0], [1, np.nan, 1]]})
    with pytest.raises(ParameterError, match=r"\(N, N, N, 3\)"):
        ops.LUT3D.from_config({"table": np.zeros((2, 3, 2, 3))})


def test_table_is_frozen_and_schema_exports():
    op = ops.LUT3D(table=random_lut3d(3))
    with pytest.raises(ValueError):
        op.table[0, 0, 0, 0] = 1.0
    schema = ops.LUT3D.model_json_schema()
    assert schema["properties"]["table"]["type"] == "array"
    assert ops.LUT1D.model_json_schema()["properties"]["domain_min"]["unit"] == "input value"
