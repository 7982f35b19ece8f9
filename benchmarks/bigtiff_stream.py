"""Streaming benchmark: a 60000 x 40000 RGB 16-bit BigTIFF through ``pixelpipe apply``.

Makes the input (about 14 GB, tiled 512 x 512, uncompressed) tile by tile,
runs ``pixelpipe apply`` on it with a three-op pipeline (exposure ->
gaussian_blur sigma 8 -> saturation) under ``/usr/bin/time -v`` (or, where
that is missing, polling the child's RSS with psutil), and prints wall time,
peak RSS and throughput as one JSON line. Not a CI test.

    python benchmarks/bigtiff_stream.py --dir /big/scratch [--height 40000]
        [--backend auto] [--memory-limit 2GB] [--keep]

The files are removed at the end unless ``--keep``. Needs about twice the
image size free on ``--dir`` (input and output).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

OPS = ["exposure stops=0.3", "gaussian_blur sigma=8", "saturation saturation=1.2"]
TILE = 512


def make_input(path: Path, height: int, width: int) -> None:
    """Write a tiled RGB uint16 BigTIFF: smooth gradients plus a fixed noise tile."""
    import tifffile

    noise = (np.random.default_rng(0).integers(0, 4096, (TILE, TILE, 3))).astype(np.uint16)

    def tiles() -> Iterator[np.ndarray]:
        for y in range(0, height, TILE):
            for x in range(0, width, TILE):
                base = np.uint16((y * 7 + x * 3) % 60000)
                yield noise + base

    with tifffile.TiffWriter(path, bigtiff=True) as tw:
        tw.write(tiles(), shape=(height, width, 3), dtype=np.uint16, tile=(TILE, TILE),
                 photometric="rgb")


def run(cmd: list[str]) -> tuple[float, int, str]:
    """(wall seconds, peak RSS bytes, stderr) of ``cmd``."""
    t0 = time.perf_counter()
    if Path("/usr/bin/time").exists():
        proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True)
        wall = time.perf_counter() - t0
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
        peak = int(m.group(1)) * 1024 if m else -1
    else:
        import psutil

        p = psutil.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        peak = 0
        while p.poll() is None:
            try:
                peak = max(peak, p.memory_info().rss)
            except psutil.Error:
                pass
            time.sleep(0.05)
        _, err = p.communicate()
        wall = time.perf_counter() - t0
        proc = subprocess.CompletedProcess(cmd, p.returncode, "", err)
    if proc.returncode != 0:
        sys.exit(f"pixelpipe apply failed ({proc.returncode}):\n{proc.stderr}")
    return wall, peak, proc.stderr


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", type=Path, default=Path("."), help="scratch folder")
    ap.add_argument("--width", type=int, default=60000)
    ap.add_argument("--height", type=int, default=40000)
    ap.add_argument("--backend", default="auto")
    ap.add_argument("--memory-limit", default=None, help="e.g. 2GB (default: pixelpipe's)")
    ap.add_argument("--keep", action="store_true", help="keep the input and output files")
    args = ap.parse_args()

    src, dst = args.dir / "bigtiff_stream_in.tif", args.dir / "bigtiff_stream_out.tif"
    need = 2 * args.width * args.height * 6
    free = shutil.disk_usage(args.dir).free
    if free < need * 1.05:
        sys.exit(f"{args.dir}: {free / 1e9:.1f} GB free, need {need / 1e9:.1f} GB")
    try:
        t0 = time.perf_counter()
        make_input(src, args.height, args.width)
        make_s = time.perf_counter() - t0
        cmd = [sys.executable, "-m", "pixelpipe", "apply", str(src), "-o", str(dst),
               "--overwrite", "--verbose", "--backend", args.backend]
        for op in OPS:
            cmd += ["--op", op]
        if args.memory_limit:
            cmd += ["--memory-limit", args.memory_limit]
        wall, peak, err = run(cmd)
        strategy = next((line.split("pixelpipe: ", 1)[1] for line in err.splitlines()
                         if "strategy:" in line), "")
        px = args.width * args.height
        print(json.dumps({
            "width": args.width, "height": args.height, "input_gb": src.stat().st_size / 1e9,
            "make_input_s": round(make_s, 1), "apply_wall_s": round(wall, 1),
            "peak_rss_gib": round(peak / 2**30, 3), "mpx_per_s": round(px / wall / 1e6, 2),
            "ops": OPS, "backend": args.backend, "strategy": strategy,
        }))
    finally:
        if not args.keep:
            for f in (src, dst):
                f.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
