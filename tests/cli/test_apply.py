"""``pixelpipe apply``, ``demo`` and ``info`` on real files."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import OpenEXR
import pytest
import tifffile
from PIL import Image as PILImage

from pixelpipe import Pipeline, io
from pixelpipe.cli.running import check_paths, demo_pipeline_path
from pixelpipe.errors import OutputError
from tests.helpers import assert_close

#: The issue's acceptance criterion: CPU and WebGPU results of the three-op
#: pipeline, written as float32, agree within this (relative above 1,
#: absolute below; see tests.helpers.relative_error).
CPU_VS_WGPU_RTOL = 1e-4

THREE_OPS = """\
[[ops]]
op = "cdl"
slope = [1.1, 1.0, 0.9]
offset = [0.0, 0.0, 0.0]
power = [1.0, 1.1, 0.95]

[[ops]]
op = "lut3d"
path = "Colour_Correct.cube"
interpolation = "tetrahedral"

[[ops]]
op = "resize"
width = 256
filter = "lanczos3"
"""


@pytest.fixture
def three_op_toml(tmp_path: Path, data_dir: Path) -> Path:
    """The three-op pipeline beside a real .cube from tests/data (relative LUT path)."""
    folder = tmp_path / "pipeline"
    folder.mkdir()
    shutil.copy(data_dir / "luts" / "resolve" / "Colour_Correct.cube", folder)
    toml = folder / "look.toml"
    toml.write_text(THREE_OPS, encoding="utf-8")
    return toml


def _read_float(path: Path) -> np.ndarray:
    if path.suffix == ".tiff":
        return tifffile.imread(path)
    return io.read(path).array


@pytest.mark.wgpu
@pytest.mark.parametrize("ext", [".tiff", ".exr"])
def test_three_op_pipeline_cpu_and_wgpu_agree(cli, tmp_path, three_op_toml, wgpu_backend, ext):
    sample = Path(io.sample_path())
    out_cpu, out_gpu = tmp_path / f"cpu{ext}", tmp_path / f"gpu{ext}"
    r = cli("apply", sample, "-o", out_cpu, "--pipeline", three_op_toml, "--backend", "cpu",
            "--bit-depth", "float")
    assert r.exit_code == 0, r.stderr
    adapter = str(wgpu_backend.info["index"])  # the test adapter (llvmpipe in CI), exactly
    r = cli("apply", sample, "-o", out_gpu, "--pipeline", three_op_toml, "--backend", "wgpu",
            "--adapter", adapter, "--bit-depth", "float")
    assert r.exit_code == 0, r.stderr
    cpu, gpu = _read_float(out_cpu), _read_float(out_gpu)
    assert cpu.dtype == np.float32 and gpu.dtype == np.float32
    assert cpu.shape[1] == 256
    assert_close(gpu, cpu, CPU_VS_WGPU_RTOL, what=f"cpu vs wgpu, {ext}")
    # the CLI writes what the library computes (float32 round trip is exact)
    expected = Pipeline.from_toml(three_op_toml).run(io.read(sample), backend="cpu").array
    np.testing.assert_array_equal(cpu.reshape(expected.shape), expected)


def test_op_strings_and_16_bit_output(cli, tmp_path, small_png):
    out = tmp_path / "out.tiff"
    r = cli("apply", small_png, "-o", out, "--op", "exposure stops=-1", "--op",
            "exposure stops=-1", "--backend", "cpu", "--bit-depth", "16")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == "" and r.stderr == ""
    got = tifffile.imread(out)
    assert got.dtype == np.uint16
    src = np.asarray(PILImage.open(small_png), np.float64) / 255.0
    expected = src * 0.25 * 65535.0  # -2 stops, 8-bit source scaled to 16 bits
    assert got.shape == expected.shape
    assert np.abs(got.astype(np.float64) - expected).max() <= 0.5 + 1e-6


def test_verbose_prints_backend_plan_and_timings(cli, tmp_path, small_png):
    out = tmp_path / "out.png"
    r = cli("apply", small_png, "-o", out, "--op", "exposure stops=1", "--op",
            "exposure stops=-0.5", "--backend", "cpu", "--verbose")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == ""
    err = r.stderr
    assert "pixelpipe: backend: cpu (NumPy reference)" in err
    assert "stage 0: fused pointwise [exposure -> exposure]" in err
    assert "input 12x9, 3 channel(s) -> output 12x9" in err
    assert "timings:" in err and "read" in err and "run" in err and "write" in err
    assert out.exists()


def test_overwrite_replaces_existing_output(cli, tmp_path, small_png):
    out = tmp_path / "out.png"
    out.write_bytes(b"old")
    r = cli("apply", small_png, "-o", out, "--op", "exposure stops=0", "--backend", "cpu",
            "--overwrite")
    assert r.exit_code == 0, r.stderr
    np.testing.assert_array_equal(np.asarray(PILImage.open(out)),
                                  np.asarray(PILImage.open(small_png)))


def test_output_is_input_needs_overwrite_then_replaces_it_atomically(cli, tmp_path, small_png):
    before = small_png.read_bytes()
    src = np.asarray(PILImage.open(small_png), np.float64)
    args = ("apply", small_png, "-o", small_png, "--op", "exposure stops=-1", "--backend", "cpu")
    r = cli(*args)
    assert r.exit_code == 2
    assert len(r.stderr_lines()) == 1 and "is the input file; pass --overwrite" in r.stderr
    assert small_png.read_bytes() == before

    inode = small_png.stat().st_ino
    keep = small_png.parent / "kept-link.png"
    keep.hardlink_to(small_png)  # holds the old inode: an in-place write would change it too
    r = cli(*args, "--overwrite")
    assert r.exit_code == 0, r.stderr
    assert keep.read_bytes() == before  # the old file was not written into
    assert small_png.stat().st_ino != inode  # a new file was renamed into place
    got = np.asarray(PILImage.open(small_png), np.float64)
    assert np.abs(got - src / 2).max() <= 0.5 + 1e-9  # -1 stop, 8-bit rounding
    assert sorted(p.name for p in small_png.parent.iterdir()) == ["kept-link.png", "small.png"]


def test_demo_never_replaces_its_bundled_sample(tmp_path, small_png):
    # the demo passes overwrite=True for its own output, but never for the sample it reads
    with pytest.raises(OutputError, match="is the input file"):
        check_paths(small_png, small_png, overwrite=True, input_replaceable=False)


def _demo_expected() -> np.ndarray:
    pipe = Pipeline.from_toml(demo_pipeline_path())
    return pipe.run(io.read(io.sample_path()), backend="cpu").array


def test_demo_writes_png_and_prints_its_path(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = cli("demo")
    assert r.exit_code == 0, r.stderr
    target = (tmp_path / "pixelpipe-demo.png").resolve()
    assert r.stdout.strip().splitlines()[-1] == str(target)
    got = np.asarray(PILImage.open(target), np.float64) / 255.0
    expected = np.clip(_demo_expected(), 0, 1)
    assert got.shape[1] == 256 and got.shape == expected.shape
    # 8-bit PNG: within one code value of the reference, whichever backend auto took
    assert np.abs(got - expected).max() <= 1.0 / 255 + 1e-4
    # the demo's own output is replaced on a second run
    first = target.stat().st_mtime_ns
    r = cli("demo")
    assert r.exit_code == 0, r.stderr
    assert target.stat().st_mtime_ns >= first


def test_demo_output_option(cli, tmp_path):
    out = tmp_path / "elsewhere.png"
    r = cli("demo", "-o", out, "--backend", "cpu")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.strip() == str(out.resolve())
    assert PILImage.open(out).size[0] == 256


def test_demo_pipeline_is_the_three_op_pipeline():
    ops = Pipeline.from_toml(demo_pipeline_path()).ops
    assert [op.op_name for op in ops] == ["cdl", "lut3d", "resize"]
    assert getattr(ops[1], "interpolation", None) == "tetrahedral"
    assert getattr(ops[2], "width", None) == 256
    assert getattr(ops[2], "filter", None) == "lanczos3"


# --- info ---------------------------------------------------------------------
def _tiff16(tmp: Path) -> Path:
    p = tmp / "ramp.tiff"
    data = (np.arange(5 * 11 * 3).reshape(5, 11, 3) * 300).astype(np.uint16)
    tifffile.imwrite(p, data, photometric="rgb")
    return p


def _exr_half(tmp: Path) -> Path:
    p = tmp / "render.exr"
    data = np.random.default_rng(0).uniform(0, 4, (6, 13, 3)).astype(np.float16)
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    OpenEXR.File(header, {"RGB": data}).write(str(p))
    return p


@pytest.mark.parametrize(("make", "fmt", "size", "sample"), [
    (lambda t, s: s, "png", (12, 9), ("8", "uint")),
    (lambda t, s: _tiff16(t), "tiff", (11, 5), ("16", "uint")),
    (lambda t, s: _exr_half(t), "exr", (13, 6), ("half",)),
])
def test_info_describes_png_tiff_exr(cli, tmp_path, small_png, make, fmt, size, sample):
    path = make(tmp_path, small_png)
    r = cli("info", path)
    assert r.exit_code == 0, r.stderr
    text = r.stdout.lower()
    assert fmt in text
    w, h = size
    assert str(w) in text and str(h) in text
    for word in sample:
        assert word in text, (word, r.stdout)
    # the same as the library's description
    assert r.stdout.strip() == str(io.info(path)).strip()
    r = cli("info", path, "--json")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.lstrip().startswith("{")


def test_info_lists_every_part_of_a_multipart_exr(cli, data_dir):
    path = data_dir / "exr" / "Beachball_multipart.0001.exr"
    names = [p.name() for p in OpenEXR.File(str(path), header_only=True).parts]
    r = cli("info", path)
    assert r.exit_code == 0, r.stderr
    for i, name in enumerate(names):
        assert f"part {i} '{name}'" in r.stdout
