"""The real program: ``python -m pixelpipe`` in a subprocess (exit status, stderr, files)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import tifffile

from pixelpipe import __version__


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("PIXELPIPE_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "pixelpipe", *map(str, args)],
        capture_output=True, text=True, timeout=120, env=env, cwd=cwd,
    )


def _lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip()]


def test_version_exits_0():
    p = run("--version")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == f"pixelpipe {__version__}"


def test_missing_input_exits_2_with_one_line(tmp_path):
    out = tmp_path / "out.png"
    p = run("apply", tmp_path / "missing.png", "-o", out, "--op", "exposure stops=1")
    assert p.returncode == 2
    lines = _lines(p.stderr)
    assert len(lines) == 1 and "missing.png" in lines[0] and "no such file" in lines[0], p.stderr
    assert p.stdout == ""
    assert not out.exists()


def test_usage_error_exits_2_with_one_line_no_box(tmp_path, small_png):
    p = run("apply", small_png, "-o", tmp_path / "o.png", "--frobnicate")
    assert p.returncode == 2
    lines = _lines(p.stderr)
    assert len(lines) == 1 and "--frobnicate" in lines[0], p.stderr
    assert "╭" not in p.stderr and "Traceback" not in p.stderr


def test_bad_parameter_exits_2(tmp_path, small_png):
    out = tmp_path / "o.tiff"
    p = run("apply", small_png, "-o", out, "--op", "exposure stops=11", "--backend", "cpu")
    assert p.returncode == 2
    lines = _lines(p.stderr)
    assert len(lines) == 1 and "exposure" in lines[0] and "stops" in lines[0], p.stderr
    assert not out.exists()


def test_apply_writes_output_and_exits_0(tmp_path):
    x = np.random.default_rng(3).uniform(0, 1, (6, 10, 3)).astype(np.float32)
    src = tmp_path / "in.tiff"
    tifffile.imwrite(src, x, photometric="rgb")
    out = tmp_path / "out.tiff"
    p = run("apply", src, "-o", out, "--op", "exposure stops=1", "--backend", "cpu",
            "--bit-depth", "float")
    assert p.returncode == 0, p.stderr
    got = tifffile.imread(out)
    # exposure +1 stop doubles linear values exactly (a power-of-two gain)
    np.testing.assert_array_equal(got, 2 * x)


def test_damaged_exr_exits_2_with_one_line(tmp_path, data_dir):
    damaged = sorted((data_dir / "exr-damaged").iterdir())[0]
    src = tmp_path / "damaged.exr"
    src.write_bytes(damaged.read_bytes())
    out = tmp_path / "out.tiff"
    p = run("apply", src, "-o", out, "--op", "exposure stops=1", "--backend", "cpu")
    assert p.returncode == 2, p.stderr
    lines = _lines(p.stderr)
    assert len(lines) == 1 and "damaged.exr" in lines[0], p.stderr
    assert not out.exists()
