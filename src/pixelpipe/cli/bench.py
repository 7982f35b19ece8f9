"""``pixelpipe bench``: a short run of the benchmark suite on this machine."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from pixelpipe.errors import ParameterError


def bench(
    size: Annotated[str, typer.Option(
        "--size", help="Test image WIDTHxHEIGHT. The full suite (benchmarks/run.py) uses "
                       "6000x4000.")] = "1500x1000",
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Also write every figure as JSON to this file.")] = None,
    adapter: Annotated[str | None, typer.Option(
        "--adapter", help="WebGPU adapter: name substring or index (see `pixelpipe backends`)."
    )] = None,
    repeat: Annotated[int, typer.Option(
        "--repeat", min=1, max=100, help="Timed GPU runs per workload (median reported).")] = 3,
) -> None:
    """Time workloads W1-W5 on cpu and wgpu beside peers and ceilings; print one table.

    W1 colour chain (CDL, matrix, 33^3 tetrahedral LUT3D, sRGB encoding), W2
    Gaussian blur sigma 8, W3 Lanczos-3 downscale to 1/4, W4 histogram, W5 the
    develop workflow's heavy preset (W6, a JPEG batch, is in the full suite:
    benchmarks/run.py). Peers
    (OpenColorIO, OpenCV, Pillow, NumPy, CuPy) run where installed. Without a
    WebGPU adapter only the CPU figures are printed.
    """
    from pixelpipe.bench.suite import format_table, run_suite

    try:
        w, h = (int(v) for v in size.lower().split("x"))
    except ValueError:
        raise ParameterError(f"--size {size!r}: expected WIDTHxHEIGHT, e.g. 1500x1000") from None
    if not (16 <= w <= 20000 and 16 <= h <= 20000):
        raise ParameterError(f"--size {size!r}: each side must be 16 to 20000 pixels")
    report = run_suite(h, w, out=out, adapter=adapter, gpu_repeat=repeat,
                       log=lambda s: print(s, file=sys.stderr))
    print(format_table(report))
    if out is not None:
        print(f"full results: {out.resolve()}")
