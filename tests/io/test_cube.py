"""The .cube reader: both dialects, table layout, OCIO agreement, malformed files."""

import os
from pathlib import Path

import numpy as np
import PyOpenColorIO as ocio
import pytest

from pixelpipe.errors import InputError
from pixelpipe.io.cube import parse_cube, read_cube
from tests.io.conftest import TEST_DATA, cube_files, require_shared

LUTS = TEST_DATA / "luts"
#: tests/data/luts, and $PIXELPIPE_SHARED_DATA/luts when set, by relative path
CUBES = cube_files()
CUBE_FILES = list(CUBES.values())


@pytest.fixture(scope="module", autouse=True)
def _shared_luts_in_ci() -> None:
    require_shared("luts")


def ocio_readable(path: Path, tmp_path: Path) -> Path:
    """OCIO's Resolve reader rejects the TITLE keyword: give it a copy without that line."""
    lines = path.read_text().splitlines()
    if any(w.startswith("LUT_1D_INPUT_RANGE") for w in lines) or (
        any(w.startswith("LUT_1D_SIZE") for w in lines)
        and any(w.startswith("LUT_3D_SIZE") for w in lines)
    ):
        out = tmp_path / path.name
        out.write_text("\n".join(ln for ln in lines if not ln.startswith("TITLE")) + "\n")
        return out
    return path


def ocio_ops(path: Path) -> list:
    cfg = ocio.Config.CreateRaw()
    proc = cfg.getProcessor(ocio.FileTransform(src=str(path),
                                               interpolation=ocio.INTERP_LINEAR))
    return list(proc.createGroupTransform())


def test_all_cube_files_are_present():
    local = sorted(p.relative_to(LUTS).as_posix() for p in LUTS.rglob("*.cube"))
    assert len(local) == 16
    assert {r.split("/")[0] for r in local} == {"resolve", "iridas"}
    assert set(local) <= set(CUBES)
    shared = os.environ.get("PIXELPIPE_SHARED_DATA")
    if shared:  # the shared collection is in the parameter set, both dialects
        root = Path(shared) / "luts"
        for dialect in ("resolve", "iridas"):
            files = sorted((root / dialect).glob("*.cube"))
            assert files, f"{root / dialect} holds no .cube file"
            assert all(CUBES[f.relative_to(root).as_posix()] == f for f in files)


@pytest.mark.parametrize("path", CUBE_FILES, ids=list(CUBES))
def test_tables_and_domains_match_opencolorio(path, tmp_path):
    cube = read_cube(path)
    ops_ = ocio_ops(ocio_readable(path, tmp_path))
    # OCIO expresses a non-unit domain as a scale/offset matrix ahead of each table
    seq = [(cube.lut1d, cube.lut1d_domain_min, cube.lut1d_domain_max, ocio.Lut1DTransform),
           (cube.lut3d, cube.lut3d_domain_min, cube.lut3d_domain_max, ocio.Lut3DTransform)]
    for table, lo, hi, kind in seq:
        if table is None:
            continue
        mat = None
        while not isinstance(ops_[0], kind):
            mat = ops_.pop(0)
            assert isinstance(mat, ocio.MatrixTransform)
        lut = ops_.pop(0)
        if mat is None:
            np.testing.assert_array_equal(lo, 0.0)
            np.testing.assert_array_equal(hi, 1.0)
        else:
            m = np.asarray(mat.getMatrix()).reshape(4, 4)
            off = np.asarray(mat.getOffset())
            np.testing.assert_allclose(np.diag(m)[:3], 1.0 / (hi - lo), rtol=1e-7)
            np.testing.assert_allclose(off[:3], -lo / (hi - lo), rtol=1e-7, atol=1e-9)
        if kind is ocio.Lut1DTransform:
            theirs = np.array([lut.getValue(i) for i in range(lut.getLength())], np.float32)
            np.testing.assert_array_equal(table, theirs)
        else:
            n = lut.getGridSize()
            assert table.shape == (n, n, n, 3)
            theirs = np.array([[[lut.getValue(i, j, k) for k in range(n)] for j in range(n)]
                               for i in range(n)], np.float32)
            np.testing.assert_array_equal(table, theirs)
    assert not ops_


def test_3d_entries_are_red_fastest_and_returned_rgb_indexed(tmp_path):
    n = 3
    lines = ["LUT_3D_SIZE 3"]
    for b in range(n):
        for g in range(n):
            for r in range(n):
                lines.append(f"{r} {10 + g} {100 + b}")
    cube = parse_cube("\n".join(lines))
    assert cube.lut3d is not None and cube.lut3d.shape == (3, 3, 3, 3)
    for r in range(n):
        for g in range(n):
            for b in range(n):
                assert tuple(cube.lut3d[r, g, b]) == (r, 10 + g, 100 + b)


def test_iridas_header_domain_comments_blank_lines_crlf_bom():
    text = ("\ufeff# leading comment\r\nTITLE \"My LUT\"\r\n\r\nDOMAIN_MIN -1 0 0.5\r\n"
            "DOMAIN_MAX 1 2 4.5\r\nLUT_1D_SIZE 2\r\n# between\r\n0 0 0\r\n\r\n1 2 3\r\n")
    cube = parse_cube(text)
    assert cube.title == "My LUT"
    assert cube.lut3d is None and cube.lut1d is not None
    np.testing.assert_array_equal(cube.lut1d, [[0, 0, 0], [1, 2, 3]])
    np.testing.assert_array_equal(cube.lut1d_domain_min, [-1, 0, 0.5])
    np.testing.assert_array_equal(cube.lut1d_domain_max, [1, 2, 4.5])


def test_resolve_shaper_then_3d_with_input_ranges():
    text = ("LUT_1D_SIZE 2\nLUT_1D_INPUT_RANGE -0.5 2\nLUT_3D_SIZE 2\nLUT_3D_INPUT_RANGE 0 4\n"
            "0 0 0\n4 4 4\n" + "\n".join(f"{r} {g} {b}" for b in (0, 1) for g in (0, 1)
                                       for r in (0, 1)))
    cube = parse_cube(text)
    np.testing.assert_array_equal(cube.lut1d, [[0, 0, 0], [4, 4, 4]])
    np.testing.assert_array_equal(cube.lut1d_domain_min, [-0.5] * 3)
    np.testing.assert_array_equal(cube.lut1d_domain_max, [2] * 3)
    np.testing.assert_array_equal(cube.lut3d_domain_min, [0] * 3)
    np.testing.assert_array_equal(cube.lut3d_domain_max, [4] * 3)
    assert cube.lut3d[1, 0, 1].tolist() == [1, 0, 1]


IDENTITY2 = "\n".join(f"{r} {g} {b}" for b in (0, 1) for g in (0, 1) for r in (0, 1))

MALFORMED = {
    "too few entries": ("LUT_3D_SIZE 2\n" + "\n".join(IDENTITY2.splitlines()[:7]), 8,
                        "expected 8"),
    "too many entries": ("LUT_1D_SIZE 2\n0 0 0\n1 1 1\n1 1 1\n", 4, "found 3"),
    "non-numeric": ("LUT_1D_SIZE 2\n0 0 0\n1 x 1\n", 3, "non-numeric"),
    "two values": ("LUT_1D_SIZE 2\n0 0 0\n1 1\n", 3, "needs 3 numbers"),
    "size too small": ("TITLE \"t\"\nLUT_3D_SIZE 1\n0 0 0\n", 2, "out of range 2..256"),
    "size too large": ("LUT_3D_SIZE 257\n", 1, "out of range 2..256"),
    "1d size too large": ("# c\nLUT_1D_SIZE 65537\n", 2, "out of range 2..65536"),
    "size not an integer": ("LUT_1D_SIZE 2.5\n0 0 0\n1 1 1\n", 1, "not an integer"),
    "missing size": ("TITLE \"x\"\n\n0 0 0\n1 1 1\n", 3, "missing LUT_1D_SIZE or LUT_3D_SIZE"),
    "unknown keyword": ("LUT_3D_SIZE 2\nLUT_IN_VIDEO_RANGE\n" + IDENTITY2, 2, "unknown keyword"),
    "keyword after data": ("LUT_1D_SIZE 2\n0 0 0\nDOMAIN_MAX 2 2 2\n1 1 1\n", 3, "after the table"),
    "domain min above max": ("DOMAIN_MIN 0 1 0\nDOMAIN_MAX 1 1 1\nLUT_1D_SIZE 2\n0 0 0\n1 1 1\n",
                             2, "minimum must be below maximum"),
    "domain needs 3 values": ("DOMAIN_MIN 0 0\nLUT_1D_SIZE 2\n0 0 0\n1 1 1\n", 1,
                              "needs 3 numbers"),
    "bad input range": ("LUT_1D_SIZE 2\nLUT_1D_INPUT_RANGE 1 0\n0 0 0\n1 1 1\n", 2,
                        "minimum must be below maximum"),
    "repeated size": ("LUT_1D_SIZE 2\nLUT_1D_SIZE 2\n0 0 0\n1 1 1\n", 2, "repeated"),
    "nan entry": ("LUT_1D_SIZE 2\n0 0 0\nnan 1 1\n", 3, "finite"),
    "domain with shaper": ("DOMAIN_MIN 0 0 0\nLUT_1D_SIZE 2\nLUT_3D_SIZE 2\n0 0 0\n1 1 1\n"
                           + IDENTITY2, 1, "ambiguous"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_files_raise_input_error_with_line_number(name, tmp_path):
    text, line, problem = MALFORMED[name]
    path = tmp_path / "bad.cube"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        read_cube(path)
    msg = str(info.value)
    assert msg.startswith(str(path)), msg
    assert f"line {line}:" in msg, msg
    assert problem in msg, msg


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(InputError, match="not found") as info:
        read_cube(tmp_path / "nope.cube")
    assert "nope.cube" in str(info.value)
    bad = tmp_path / "bin.cube"
    bad.write_bytes(b"LUT_1D_SIZE 2\n\xff\xfe\x00\n")
    with pytest.raises(InputError, match="line 2: not a text"):
        read_cube(bad)
