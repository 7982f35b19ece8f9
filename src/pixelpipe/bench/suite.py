"""Workloads W1-W4 on pixelpipe (cpu, wgpu) and on peers, with the ceilings beside them.

W1 colour chain: ASC CDL -> 3x3 matrix -> 33^3 LUT3D (tetrahedral) -> sRGB encoding.
W2 Gaussian blur, sigma 8 (truncate 4).
W3 downscale to 1/4, antialiased Lanczos-3.
W4 histogram of R, G, B and luma (256 bins).
W5 / W6 (the develop workflow and a JPEG batch) join when that workflow exists.
"""

from __future__ import annotations

import json
import os
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
              log: Callable[[str], None] = print, workflow: bool = True,
              batch_files: int = 0, cpu_size: tuple[int, int] | None = None
              ) -> dict[str, Any]:
    """Run the ceilings and W1-W6; return (and write to ``out`` as JSON) every figure.

    ``batch_files`` = 0 leaves W6 out; ``cpu_size`` (height, width) runs the
    develop workflow's CPU figure on a smaller image when the full size
    would take minutes (the row says so).
    """
    global _CPU_SIZE
    _CPU_SIZE = cpu_size
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

    def save() -> dict[str, Any]:
        report = {
            "date": time.strftime("%Y-%m-%d"),
            "commit": _commit(),
            "host": platform.node(),
            "cpu_count": os.cpu_count(),
            "device": be.describe() if be else "none",
            "size": [height, width],
            "ceilings": ceil,
            "results": [asdict(r) for r in results],
        }
        if out is not None:
            out.write_text(json.dumps(report, indent=1, default=float))
        return report

    lut = make_lut()
    log("W1 colour chain")
    _pixelpipe("W1", Pipeline(w1_ops(lut)), x3, results, be, cpu_repeat, gpu_repeat)
    results += peers.w1(x3, lut, w1_ops(lut))
    save()
    log("W2 gaussian blur sigma 8")
    _pixelpipe("W2", Pipeline([ops.GaussianBlur(sigma=8.0)]), x3, results, be, cpu_repeat,
               gpu_repeat)
    results += peers.w2(x3)
    save()
    log("W3 lanczos3 downscale 1/4")
    _pixelpipe("W3", Pipeline([ops.Resize(width=width // 4, height=height // 4,
                                          filter="lanczos3")]),
               x3, results, be, cpu_repeat, gpu_repeat)
    results += peers.w3(x3)
    save()
    log("W4 histogram")
    from pixelpipe import stats

    results.append(Result("W4", "pixelpipe cpu", wall_s=_time(
        lambda: stats.histogram(x3, bins=256, backend="cpu"), cpu_repeat)))
    if be is not None:
        stats.histogram(x3, bins=256, backend=be)
        results.append(Result("W4", "pixelpipe wgpu", wall_s=_time(
            lambda: stats.histogram(x3, bins=256, backend=be), gpu_repeat)))
    results += peers.w4(x3)

    save()
    if workflow:
        log("W5 develop, heavy preset")
        results += w5(x3, be, cpu_repeat, gpu_repeat, log)
        save()
    if batch_files:
        log(f"W6 batch of {batch_files} JPEGs")
        w6(x3, batch_files, adapter, log, results, save)

    return save()


_CPU_SIZE: tuple[int, int] | None = None


def heavy_pipeline(x: F32) -> Pipeline:
    """The develop workflow's pipeline for its heaviest example preset, for an sRGB source."""
    from pixelpipe.workflows.develop import build_pipeline
    from pixelpipe.workflows.develop.colour import SourceColour
    from pixelpipe.workflows.develop.preset import example_presets, load_presets

    preset = load_presets([example_presets()["heavy"]])
    return build_pipeline(preset, SourceColour("rec709", "srgb"))


def w5(x: F32, be: WgpuBackend | None, cpu_repeat: int, gpu_repeat: int,
       log: Callable[[str], None]) -> list[Result]:
    """W5: the whole develop workflow (heavy preset) on the image, cpu and wgpu."""
    pipe = heavy_pipeline(x)
    out: list[Result] = []
    if be is not None:
        pipe.run(x, backend=be)
        walls = []
        for _ in range(gpu_repeat):
            t0 = time.perf_counter()
            pipe.run(x, backend=be)
            walls.append(time.perf_counter() - t0)
        gpu = statistics.median(be.time_resident(pipe.plan(), x, max(gpu_repeat, 10)))
        f32 = x.shape[0] * x.shape[1] * x.shape[2] * 4
        out.append(Result("W5", "pixelpipe wgpu", wall_s=statistics.median(walls), gpu_s=gpu,
                          note=f"{len(pipe)} ops, {be.kernels_dispatched} kernels; image buffers "
                               f"{be.last_run_bytes / f32:.1f}x the image's float32 size",
                          extra={"run_bytes": be.last_run_bytes, "image_f32_bytes": f32}))
    xc = x
    note = ""
    if _CPU_SIZE is not None and _CPU_SIZE != x.shape[:2]:
        from PIL import Image as PILImage

        h, w = _CPU_SIZE
        xc = np.stack([np.asarray(PILImage.fromarray(x[..., c]).resize((w, h)))
                       for c in range(3)], axis=-1).astype(np.float32)
        note = f"measured at {w}x{h}, not the full size"
    log(f"W5 cpu ({xc.shape[1]}x{xc.shape[0]})")
    out.append(Result("W5", "pixelpipe cpu", wall_s=_time(lambda: pipe.run(xc, backend="cpu"),
                                                          cpu_repeat), note=note))
    return out


def w6(x: F32, n_files: int, adapter: str | None, log: Callable[[str], None],
       out: list[Result], save: Callable[[], Any], cpu_files: int = 1) -> None:
    """W6: ``n_files`` JPEGs developed end to end by ``pixelpipe develop --batch``.

    Rows are appended to ``out`` and ``save`` is called as they come, so a
    slow cpu figure cannot lose the others.

    Beside it, in the same run: the decode + encode-only floor (the same
    files read and written as JPEG by the same thread count, no processing)
    and the batch on the cpu backend (on ``cpu_files`` files: minutes each at 24 MP).
    """
    import os
    import shutil
    import sys
    import tempfile
    from concurrent.futures import ThreadPoolExecutor

    from pixelpipe import io
    from pixelpipe.image import Image
    from pixelpipe.workflows.develop.preset import example_presets

    jobs = min(8, os.cpu_count() or 1)
    work = Path(tempfile.mkdtemp(prefix="pixelpipe-w6-"))
    try:
        src = work / "in"
        src.mkdir()
        rng = np.random.default_rng(6)
        for i in range(n_files):
            jitter = rng.normal(0.0, 0.01, (1, 1, 3)).astype(np.float32)
            io.write(src / f"frame{i:03d}.jpg", Image(np.clip(x + jitter, 0, 1)), bit_depth=8,
                     quality=92)
        files = sorted(src.glob("*.jpg"))

        def copy_only(f: Path) -> None:
            img = io.read(f)
            io.write(work / "floor" / f.name, img, quality=92, overwrite=True)

        (work / "floor").mkdir()
        t0 = time.perf_counter()
        with ThreadPoolExecutor(jobs) as pool:
            list(pool.map(copy_only, files))
        floor = time.perf_counter() - t0
        out.append(Result("W6", f"decode + encode only ({jobs} threads)", wall_s=floor,
                          note=f"{n_files} files; {n_files / floor:.2f} files/s"))
        heavy = str(example_presets()["heavy"])

        def batch(backend: str, folder: Path) -> float:
            dest = work / f"out-{backend}"
            shutil.rmtree(dest, ignore_errors=True)
            dest.mkdir()
            cmd = [sys.executable, "-m", "pixelpipe", "develop", "--batch", str(folder), "-o",
                   str(dest), "--preset", heavy, "--jobs", str(jobs), "--backend", backend]
            if adapter and backend == "wgpu":
                cmd += ["--adapter", adapter]
            t0 = time.perf_counter()
            import subprocess

            subprocess.run(cmd, check=True, capture_output=True)
            return time.perf_counter() - t0

        log("W6 wgpu batch")
        try:
            t = batch("wgpu", src)
            out.append(Result("W6", f"pixelpipe develop --batch wgpu ({jobs} jobs)", wall_s=t,
                              note=f"{n_files / t:.2f} files/s; {100 * floor / t:.0f} % of the "
                                   "decode+encode floor's throughput"))
        except Exception as exc:  # report, keep the other figures
            out.append(Result("W6", "pixelpipe develop --batch wgpu", note=f"failed: {exc}"))
        save()
        few = work / "few"
        few.mkdir()
        for f in files[:cpu_files]:
            shutil.copy(f, few / f.name)
        log(f"W6 cpu batch ({cpu_files} files)")
        t = batch("cpu", few)
        out.append(Result("W6", f"pixelpipe develop --batch cpu ({jobs} jobs), {cpu_files} "
                          "file(s)", wall_s=t, note=f"{cpu_files / t:.3f} files/s"))
    finally:
        shutil.rmtree(work, ignore_errors=True)


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
    lines.append(f"{'workload':8} {'implementation':46} {'wall ms':>10} {'gpu ms':>10}  note")
    for r in report["results"]:
        wall = f"{r['wall_s'] * 1e3:10.2f}" if r["wall_s"] is not None else f"{'-':>10}"
        gpu = f"{r['gpu_s'] * 1e3:10.3f}" if r["gpu_s"] is not None else f"{'-':>10}"
        lines.append(f"{r['workload']:8} {r['impl']:46} {wall} {gpu}  {r['note']}")
    return "\n".join(lines)
