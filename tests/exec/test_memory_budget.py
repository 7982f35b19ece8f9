"""The memory budget is real: a file run's peak RSS stays within ``--memory-limit``.

Each run is a ``python -m pixelpipe apply`` child of a small wrapper process
that reports the child's peak resident set size (``getrusage(RUSAGE_CHILDREN)``,
``ru_maxrss``: KiB on Linux, bytes on macOS). The interpreter, NumPy, SciPy and pixelpipe's own
code are not pixel memory: that overhead is measured in the same test as the
same command on a 16 x 16 image, and the budget must hold above it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import tifffile

from pixelpipe import Pipeline, ops
from pixelpipe.backends import get_backend
from pixelpipe.exec import choose
from pixelpipe.exec.strategy import WORK_FACTOR
from pixelpipe.exec.tiled import PIXEL_BYTES

OPS = ["--op", "exposure stops=0.5", "--op", "gaussian_blur sigma=2"]
PIPE = Pipeline([ops.Exposure(stops=0.5), ops.GaussianBlur(sigma=2.0)])
H, W = 800, 1200

WRAPPER = ("import resource, subprocess, sys\n"
           "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
           "sys.stdout.write(r.stderr)\n"
           "print('PEAK_KIB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
           "sys.exit(r.returncode)\n")


def _peak(src: Path, dst: Path, limit: int | None) -> tuple[int, str]:
    """Peak RSS in bytes of one ``pixelpipe apply`` run, and its stderr."""
    cmd = [sys.executable, "-c", WRAPPER, sys.executable, "-m", "pixelpipe", "apply", str(src),
           "-o", str(dst), "--backend", "cpu", "-v", *OPS]
    if limit is not None:
        cmd += ["--memory-limit", str(limit)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    maxrss = int(r.stdout.rsplit("PEAK_KIB", 1)[1].split()[0])
    return maxrss * (1 if sys.platform == "darwin" else 1024), r.stdout


def _limit_for(strategy: str, image_bytes: int) -> int:
    """The smallest budget on a 5 % grid at which ``choose`` picks ``strategy``."""
    cpu = get_backend("cpu")
    limit = int(image_bytes * (WORK_FACTOR if strategy == "single" else 0.25))
    while True:
        c = choose(PIPE.plan(), H, W, cpu, limit, in_memory=False, source_pixel_bytes=6)
        if c.strategy == strategy:
            return limit
        assert limit < 100 * image_bytes, f"no budget picks {strategy}"
        limit = int(limit * 1.05)


def test_peak_rss_within_budget(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    src, tiny = tmp_path / "in.tif", tmp_path / "tiny.tif"
    tifffile.imwrite(src, (rng.random((H, W, 3)) * 65535).astype(np.uint16), tile=(256, 256),
                     photometric="rgb")
    tifffile.imwrite(tiny, (rng.random((16, 16, 3)) * 65535).astype(np.uint16),
                     photometric="rgb")
    overhead, _ = _peak(tiny, tmp_path / "tiny_out.tif", None)
    image_bytes = H * W * PIXEL_BYTES
    report = []
    for strategy in ("single", "tiled", "streaming"):
        limit = _limit_for(strategy, image_bytes)
        peak, err = _peak(src, tmp_path / f"{strategy}.tif", limit)
        assert f"strategy: {strategy}" in err, err
        used = peak - overhead
        report.append(f"{strategy}: budget {limit / 1e6:.1f} MB, used {used / 1e6:.1f} MB")
        assert used <= limit, f"peak above the budget ({overhead / 1e6:.1f} MB overhead); " \
                              + "; ".join(report)
    print("; ".join(report))
    # the outputs are the same image whatever the strategy
    want = tifffile.imread(tmp_path / "single.tif")
    for strategy in ("tiled", "streaming"):
        np.testing.assert_array_equal(tifffile.imread(tmp_path / f"{strategy}.tif"), want)


def test_compressed_strips_count_in_the_streaming_budget(tmp_path: Path) -> None:
    from pixelpipe.exec.files import source_chunk_bytes

    a = (np.random.default_rng(1).random((300, 200, 3)) * 65535).astype(np.uint16)
    raw, packed = tmp_path / "raw.tif", tmp_path / "zip.tif"
    tifffile.imwrite(raw, a, rowsperstrip=300, photometric="rgb")
    tifffile.imwrite(packed, a, rowsperstrip=100, compression="zlib", photometric="rgb")
    assert source_chunk_bytes(raw, "tiff") == 0  # read row by row
    assert source_chunk_bytes(packed, "tiff") == 100 * 200 * 6  # one strip decoded whole
    cpu = get_backend("cpu")
    h, w = 20000, 4000
    plain = choose(PIPE.plan(), h, w, cpu, 400 * 10**6, in_memory=False, source_pixel_bytes=6)
    strip = 3000 * w * 6  # 72 MB strips
    held = choose(PIPE.plan(), h, w, cpu, 400 * 10**6, in_memory=False, source_pixel_bytes=6,
                  chunk_bytes=strip)
    assert plain.strategy == held.strategy == "streaming"
    assert held.tile_size is not None and plain.tile_size is not None
    assert held.tile_size < plain.tile_size and "decoded whole" in held.reason
    huge = choose(PIPE.plan(), h, w, cpu, 400 * 10**6, in_memory=False, source_pixel_bytes=6,
                  chunk_bytes=h * w * 6)
    assert huge.tile_size == plain.tile_size and "memory grows with them" in huge.reason
