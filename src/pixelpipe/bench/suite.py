"""Workloads W1-W4 on pixelpipe (cpu, wgpu) and on peers, with the ceilings beside them.

W1 colour chain: ASC CDL -> 3x3 matrix -> 33^3 LUT3D (tetrahedral) -> sRGB encoding.
W2 Gaussian blur, sigma 8 (truncate 4).
W3 downscale to 1/4, antialiased Lanczos-3.
W4 histogram of R, G, B and luma (256 bins).
W5 the develop workflow's heavy preset on the image.
W6 a batch of JPEGs developed with that preset (decode, process, encode).
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


#: Seconds of untimed back-to-back runs before each GPU timing: an idle GPU
#: runs at a fraction of its clock and takes a moment under load to raise it.
GPU_WARMUP_S = 1.0
#: W6's floor and in-process batch alternate this many times (see :func:`w6`).
W6_ROUNDS = 3
#: Rounds of the host memcpy ceiling alternating with the transfers; each keeps its best.
CEILING_ROUNDS = 3


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
    gpu = (statistics.median(be.time_resident(pipe.plan(), x, max(gpu_repeat, 10),
                                              warmup_s=GPU_WARMUP_S))
           if be.last_gpu_time is not None else None)
    results.append(Result(name, "pixelpipe wgpu", wall_s=statistics.median(walls), gpu_s=gpu,
                          note="wall: upload + run + download; gpu: kernels, data resident",
                          extra={"kernels": kernels}))


def run_suite(height: int = 4000, width: int = 6000, out: Path | None = None,
              cpu_repeat: int = 1, gpu_repeat: int = 5, adapter: str | None = None,
              log: Callable[[str], None] = print, workflow: bool = True,
              batch_files: int = 0, cpu_size: tuple[int, int] | None = None,
              w6_subprocess: bool = True, w6_cpu_files: int = 1) -> dict[str, Any]:
    """Run the ceilings and W1-W6; return (and write to ``out`` as JSON) every figure.

    ``batch_files`` = 0 leaves W6 out; ``w6_subprocess`` = False keeps W6 to
    its in-process rows (no ``pixelpipe develop`` subprocesses);
    ``w6_cpu_files`` files go through the cpu-backend batch (0: none; one
    24 MP file takes minutes); ``cpu_size``
    (height, width) runs the develop workflow's CPU figure on a smaller
    image when the full size would take minutes (the row says so).
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

    # the host's memory bandwidth drifts with its other load: the memcpy
    # ceiling and the transfers alternate, and each keeps its best round
    memcpy: dict[int, float] = {}
    for r in range(CEILING_ROUNDS):
        log(f"ceilings: host memcpy, transfers (round {r + 1} of {CEILING_ROUNDS})")
        for t in (1, 2, 4, 8):
            memcpy[t] = max(memcpy.get(t, 0.0), ceilings.host_memcpy(min(nbytes, 1 << 30), t))
        if be is not None:
            up, down = ceilings.transfer_rates(be, nbytes)
            ceil["upload_Bps"] = max(ceil.get("upload_Bps", 0.0), up)
            ceil["download_Bps"] = max(ceil.get("download_Bps", 0.0), down)
            parts = ceilings.staging_parts(be, min(be.staging.chunk, nbytes))
            best = ceil.setdefault("staging_parts_Bps", parts)
            for k, v in parts.items():
                best[k] = max(best[k], v)
    ceil["host_memcpy_Bps"] = memcpy
    if be is not None:
        log("ceilings: device copy")
        # the first timing after the transfer rounds ran slow (0.46 against
        # 0.26 ms on an H100, where the next one is not): best of three
        copies = [ceilings.device_copy_time(be, height, width) for _ in range(3)]
        ceil["device_copy_kernel_s"] = min((t for t in copies if t is not None), default=None)
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
        w6(x3, batch_files, adapter, log, results, save, be=be,
           subprocess_runs=w6_subprocess, cpu_files=w6_cpu_files)

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
        gpu = statistics.median(be.time_resident(pipe.plan(), x, max(gpu_repeat, 10),
                                                 warmup_s=GPU_WARMUP_S))
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
       out: list[Result], save: Callable[[], Any], cpu_files: int = 1,
       be: WgpuBackend | None = None, subprocess_runs: bool = True) -> None:
    """W6: ``n_files`` JPEGs developed end to end (decode, heavy preset, JPEG encode).

    Rows are appended to ``out`` and ``save`` is called as they come, so a
    slow cpu figure cannot lose the others. Measured in the same run, with
    the same thread count ``jobs`` = min(8, cores) for the codecs:

    * the decode + encode-only floor: the same files read and written as
      JPEG (at the preset's JPEG quality) on ``jobs`` threads, no processing,
      in this process;
    * the batch in this process, steady state: the library's batch loop
      (:func:`pixelpipe.workflows.develop.develop_files`, the code
      ``pixelpipe develop --batch`` runs) on the already started backend
      ``be``, after one warm-up file that compiled the preset's shaders
      (not timed). This is the figure the W6 target compares with the floor,
      which has no start-up either. The floor and this batch alternate
      :data:`W6_ROUNDS` times (the host's load drifts from run to run);
      each is reported by its best run, and the note gives each batch's
      ratio to the floor run just before it, and their median;
    * with ``subprocess_runs``: ``pixelpipe develop --batch`` as a subprocess
      end to end, on 1 file (start-up: interpreter, imports, adapter and
      device, shader compilation, plus one file) and on all ``n_files``;
      and the same command with ``--backend cpu`` on ``cpu_files`` files
      (minutes each at 24 MP), start-up included.
    """
    import os
    import shutil
    import sys
    import tempfile
    from concurrent.futures import ThreadPoolExecutor

    from pixelpipe import io
    from pixelpipe.image import Image
    from pixelpipe.workflows.develop import develop_files
    from pixelpipe.workflows.develop.preset import example_presets, load_presets

    jobs = min(8, os.cpu_count() or 1)
    heavy = str(example_presets()["heavy"])
    look = load_presets([heavy])
    quality = look.output.jpeg_quality
    work = Path(tempfile.mkdtemp(prefix="pixelpipe-w6-"))
    try:
        src = work / "in"
        src.mkdir()
        (work / "warm").mkdir()
        rng = np.random.default_rng(6)
        for i in range(n_files + 1):
            jitter = rng.normal(0.0, 0.01, (1, 1, 3)).astype(np.float32)
            name = src / f"frame{i:03d}.jpg" if i < n_files else work / "warm" / "warm.jpg"
            io.write(name, Image(np.clip(x + jitter, 0, 1)), bit_depth=8, quality=92)
        files = sorted(src.glob("*.jpg"))

        def copy_only(f: Path) -> None:
            img = io.read(f)
            io.write(work / "floor" / f.name, img, quality=quality, overwrite=True)

        def floor_once() -> float:
            t0 = time.perf_counter()
            with ThreadPoolExecutor(jobs) as pool:
                list(pool.map(copy_only, files))
            return time.perf_counter() - t0

        def batch_once() -> float:
            dest = work / "out-inproc"
            shutil.rmtree(dest, ignore_errors=True)
            todo = [(f, dest / f.name) for f in files]
            t0 = time.perf_counter()
            res = develop_files(todo, look, be, jobs=jobs)
            t = time.perf_counter() - t0
            if res.failed or len(res.done) != n_files:
                raise RuntimeError(f"W6 in-process batch: {res}")
            return t

        (work / "floor").mkdir()
        floors: list[float] = []
        batches: list[float] = []
        failure = ""
        if be is not None:
            log("W6 wgpu batch in-process (warm), alternating with the floor")
            try:
                warm_out = work / "out-warm"
                res = develop_files([(work / "warm" / "warm.jpg", warm_out / "warm.jpg")], look, be)
                if res.failed:
                    raise RuntimeError(f"W6 warm-up failed: {res.failed[0][1]}")
            except Exception as exc:  # report, keep the other figures
                failure = f"failed: {exc}"
        # the host's load drifts between runs: floor and batch alternate, and
        # each is reported by its best run
        for _ in range(W6_ROUNDS):
            floors.append(floor_once())
            if be is not None and not failure:
                try:
                    batches.append(batch_once())
                except Exception as exc:  # report, keep the other figures
                    failure = f"failed: {exc}"
        floor = min(floors)

        def runs(ts: list[float]) -> str:
            return "runs " + ", ".join(f"{t:.3f}" for t in ts) + " s"

        out.append(Result("W6", f"decode + encode only, {jobs} threads (floor)", wall_s=floor,
                          note=f"{n_files} files; {n_files / floor:.2f} files/s; in-process; "
                               f"JPEG quality {quality}; best of {runs(floors)}"))

        def share(t: float) -> str:
            return f"{100 * floor / t:.0f} % of the floor's throughput"

        if be is not None:
            if batches and not failure:
                t = min(batches)
                # each batch against the floor run just before it: the drift cancels
                ratios = sorted(f / b for f, b in zip(floors, batches, strict=True))
                median = statistics.median(ratios)
                out.append(Result(
                    "W6", f"develop_files wgpu in-process, warm ({jobs} jobs)",
                    wall_s=t, note=f"{n_files / t:.2f} files/s; {share(t)} best vs best; "
                                   f"against the floor run before it: median "
                                   f"{median:.0%} (runs "
                                   + ", ".join(f"{r:.0%}" for r in ratios) + "); "
                                   f"{runs(batches)}; started backend, shaders compiled by one "
                                   f"warm-up file (not timed); {jobs} codec threads + 1 device "
                                   "thread",
                    extra={"floor_s": floors, "batch_s": batches,
                           "median_ratio": median}))
            else:
                out.append(Result("W6", "develop_files wgpu in-process",
                                  note=failure or "failed"))
        save()

        if not subprocess_runs:
            return

        def batch(backend: str, folder: Path) -> float:
            dest = work / f"out-{backend}-{folder.name}"
            shutil.rmtree(dest, ignore_errors=True)
            dest.mkdir()
            cmd = [sys.executable, "-m", "pixelpipe", "develop", "--batch", str(folder), "-o",
                   str(dest), "--preset", heavy, "--jobs", str(jobs), "--backend", backend]
            if adapter and backend == "wgpu":
                cmd += ["--adapter", adapter]
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            return time.perf_counter() - t0

        one = work / "one"
        one.mkdir()
        shutil.copy(files[0], one / files[0].name)
        log("W6 wgpu batch as a subprocess (1 file, then all)")
        try:
            t1 = batch("wgpu", one)
            out.append(Result("W6", "develop --batch wgpu subprocess, 1 file",
                              wall_s=t1, note="start-up (interpreter, imports, adapter, device, "
                                              "shader compilation) + one file"))
            t = batch("wgpu", src)
            note = f"{n_files / t:.2f} files/s end to end; {share(t)}"
            if n_files > 1 and t > t1:
                rest = (n_files - 1) / (t - t1)
                note += f"; after the 1-file run's time: {rest:.2f} files/s"
            out.append(Result("W6", f"develop --batch wgpu subprocess, {n_files} files "
                              f"({jobs} jobs)", wall_s=t, note=note))
        except Exception as exc:  # report, keep the other figures
            out.append(Result("W6", "develop --batch wgpu subprocess",
                              note=f"failed: {exc}"))
        save()
        if cpu_files <= 0:
            return
        few = work / "few"
        few.mkdir()
        for f in files[:cpu_files]:
            shutil.copy(f, few / f.name)
        log(f"W6 cpu batch ({cpu_files} files)")
        t = batch("cpu", few)
        out.append(Result("W6", f"develop --batch cpu subprocess, {cpu_files} file(s) "
                          "only", wall_s=t,
                          note=f"{cpu_files / t:.4f} files/s; end to end, start-up included; "
                               f"not the {n_files}-file batch; --jobs {jobs}"))
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
        best = max(mem.values())
        lines.append(f"staging upload {ceil['upload_Bps'] / 1e9:.1f} GB/s "
                     f"({ceil['upload_Bps'] / best:.0%} of the best memcpy), download "
                     f"{ceil['download_Bps'] / 1e9:.1f} GB/s "
                     f"({ceil['download_Bps'] / best:.0%})")
    if ceil.get("staging_parts_Bps"):
        lines.append("staging parts alone GB/s: " + ", ".join(
            f"{k} {v / 1e9:.1f}" for k, v in ceil["staging_parts_Bps"].items()))
    if ceil.get("cupy_device_copy_Bps"):
        lines.append(f"CuPy device copy: {ceil['cupy_device_copy_Bps'] / 1e9:.0f} GB/s copied")
    lines.append(f"{'workload':8} {'implementation':46} {'wall ms':>10} {'gpu ms':>10}  note")
    for r in report["results"]:
        wall = f"{r['wall_s'] * 1e3:10.2f}" if r["wall_s"] is not None else f"{'-':>10}"
        gpu = f"{r['gpu_s'] * 1e3:10.3f}" if r["gpu_s"] is not None else f"{'-':>10}"
        lines.append(f"{r['workload']:8} {r['impl']:46} {wall} {gpu}  {r['note']}")
    return "\n".join(lines)
