"""Workloads W1-W4 on pixelpipe (cpu, wgpu) and on peers, with the ceilings beside them.

W1 colour chain: ASC CDL -> 3x3 matrix -> 33^3 LUT3D (tetrahedral) -> sRGB encoding.
W2 Gaussian blur, sigma 8 (truncate 4).
W3 downscale to 1/4, antialiased Lanczos-3.
W4 histogram of R, G, B and luma (256 bins).
W5 / W6 (the develop workflow and a JPEG batch) join when that workflow exists.
"""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from pixelpipe import Pipeline, ops
from pixelpipe.backends import get_backend
from pixelpipe.backends.wgpu.backend import WgpuBackend
from pixelpipe.bench import ceilings, peers
from pixelpipe.bench.result import F32, Result
from pixelpipe.errors import BackendUnavailable


def make_image(height: int, width: int, seed: int = 0) -> F32:
    """RGB float32 test image: the bundled sample photo upscaled to (height, width) and jittered.

    Real image content (not zeros or noise alone), so LUT lookups and
    histograms see realistic value distributions.
    """
    from PIL import Image as PILImage

    from pixelpipe.io import sample_path

    with PILImage.open(sample_path()) as im:
        big = im.convert("RGB").resize((width, height), PILImage.Resampling.BILINEAR)
    x = np.asarray(big, np.float32) / 255.0
    rng = np.random.default_rng(seed)
    x += rng.normal(0.0, 0.01, x.shape).astype(np.float32)
    return np.clip(x, 0.0, 1.0, out=x)


def w1_ops(lut: F32) -> list[ops.Op]:
    return [
        ops.CDL(slope=(1.08, 1.0, 0.94), offset=(0.01, 0.0, -0.01), power=(1.0, 1.05, 0.97),
                saturation=1.1),
        ops.Matrix(matrix=((0.9, 0.08, 0.02), (0.05, 0.9, 0.05), (0.02, 0.08, 0.9))),
        ops.LUT3D(table=lut, interpolation="tetrahedral"),
        ops.Transfer(function="srgb", direction="encode"),
    ]


def make_lut(n: int = 33, seed: int = 1) -> F32:
    """A smooth, non-trivial n^3 LUT (a film-like S-curve with channel crosstalk)."""
    g = np.linspace(0.0, 1.0, n, dtype=np.float64)
    r, gg, b = np.meshgrid(g, g, g, indexing="ij")
    rgb = np.stack([r, gg, b], axis=-1)
    s = rgb * rgb * (3 - 2 * rgb)
    mix = np.array([[0.85, 0.1, 0.05], [0.05, 0.9, 0.05], [0.05, 0.1, 0.85]])
    return np.ascontiguousarray((s @ mix.T).astype(np.float32))


def _time(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _pixelpipe(name: str, pipe: Pipeline, x: F32, results: list[Result], be: WgpuBackend | None,
               cpu_repeat: int, gpu_repeat: int) -> None:
    results.append(Result(name, "pixelpipe cpu", wall_s=_time(lambda: pipe.run(x, backend="cpu"),
                                                              cpu_repeat)))
    if be is None:
        return
    pipe.run(x, backend=be)  # compile and warm the pools
    walls = []
    for _ in range(gpu_repeat):
        t0 = time.perf_counter()
        pipe.run(x, backend=be)
        walls.append(time.perf_counter() - t0)
    kernels = be.kernels_dispatched
    gpu = (statistics.median(be.time_resident(pipe.plan(), x, max(gpu_repeat, 10)))
           if be.last_gpu_time is not None else None)
    results.append(Result(name, "pixelpipe wgpu", wall_s=statistics.median(walls), gpu_s=gpu,
                          note="wall: upload + run + download; gpu: kernels, data resident",
                          extra={"kernels": kernels}))


def run_suite(height: int = 4000, width: int = 6000, out: Path | None = None,
              cpu_repeat: int = 1, gpu_repeat: int = 5, adapter: str | None = None,
              log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run W1-W4 and the ceilings; return (and write to ``out`` as JSON) every figure."""
    try:
        be: WgpuBackend | None = get_backend("wgpu", adapter)  # type: ignore[assignment]
    except BackendUnavailable as exc:
        log(f"wgpu unavailable: {exc}")
        be = None
    x3 = make_image(height, width)
    nbytes = height * width * 16
    results: list[Result] = []
    ceil: dict[str, Any] = {"image_bytes_rgba_f32": nbytes}

    log("ceilings: host memcpy")
    ceil["host_memcpy_Bps"] = {
        t: ceilings.host_memcpy(min(nbytes, 1 << 30), t) for t in (1, 2, 4, 8)
    }
    if be is not None:
        log("ceilings: device copy, transfers")
        ceil["device_copy_kernel_s"] = ceilings.device_copy_time(be, height, width)
        ceil["upload_Bps"], ceil["download_Bps"] = ceilings.transfer_rates(be, nbytes)
    ceil["cupy_device_copy_Bps"] = ceilings.cupy_device_copy_rate(nbytes)

    lut = make_lut()
    log("W1 colour chain")
    _pixelpipe("W1", Pipeline(w1_ops(lut)), x3, results, be, cpu_repeat, gpu_repeat)
    results += peers.w1(x3, lut, w1_ops(lut))
    log("W2 gaussian blur sigma 8")
    _pixelpipe("W2", Pipeline([ops.GaussianBlur(sigma=8.0)]), x3, results, be, cpu_repeat,
               gpu_repeat)
    results += peers.w2(x3)
    log("W3 lanczos3 downscale 1/4")
    _pixelpipe("W3", Pipeline([ops.Resize(width=width // 4, height=height // 4,
                                          filter="lanczos3")]),
               x3, results, be, cpu_repeat, gpu_repeat)
    results += peers.w3(x3)
    log("W4 histogram")
    from pixelpipe import stats

    results.append(Result("W4", "pixelpipe cpu", wall_s=_time(
        lambda: stats.histogram(x3, bins=256, backend="cpu"), cpu_repeat)))
    if be is not None:
        stats.histogram(x3, bins=256, backend=be)
        results.append(Result("W4", "pixelpipe wgpu", wall_s=_time(
            lambda: stats.histogram(x3, bins=256, backend=be), gpu_repeat)))
    results += peers.w4(x3)

    report = {
        "date": time.strftime("%Y-%m-%d"),
        "commit": _commit(),
        "host": platform.node(),
        "cpu_count": __import__("os").cpu_count(),
        "device": be.describe() if be else "none",
        "size": [height, width],
        "ceilings": ceil,
        "results": [asdict(r) for r in results],
    }
    if out is not None:
        out.write_text(json.dumps(report, indent=1, default=float))
    return report


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=False).stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def format_table(report: dict[str, Any]) -> str:
    """The report as a plain-text table (one row per workload and implementation)."""
    ceil = report["ceilings"]
    lines = [f"device: {report['device']}   size: {report['size'][1]}x{report['size'][0]}   "
             f"date: {report['date']}   commit: {report['commit']}"]
    mem = ceil["host_memcpy_Bps"]
    lines.append("host memcpy GB/s by threads: "
                 + ", ".join(f"{k}: {v / 1e9:.1f}" for k, v in mem.items()))
    if ceil.get("device_copy_kernel_s"):
        t = ceil["device_copy_kernel_s"]
        lines.append(f"device copy kernel (read+write image once): {t * 1e3:.3f} ms = "
                     f"{2 * ceil['image_bytes_rgba_f32'] / t / 1e12:.2f} TB/s")
    if ceil.get("upload_Bps"):
        lines.append(f"staging upload {ceil['upload_Bps'] / 1e9:.1f} GB/s, download "
                     f"{ceil['download_Bps'] / 1e9:.1f} GB/s")
    if ceil.get("cupy_device_copy_Bps"):
        lines.append(f"CuPy device copy: {ceil['cupy_device_copy_Bps'] / 1e9:.0f} GB/s copied")
    lines.append(f"{'workload':8} {'implementation':34} {'wall ms':>10} {'gpu ms':>10}  note")
    for r in report["results"]:
        wall = f"{r['wall_s'] * 1e3:10.2f}" if r["wall_s"] is not None else f"{'-':>10}"
        gpu = f"{r['gpu_s'] * 1e3:10.3f}" if r["gpu_s"] is not None else f"{'-':>10}"
        lines.append(f"{r['workload']:8} {r['impl']:34} {wall} {gpu}  {r['note']}")
    return "\n".join(lines)
