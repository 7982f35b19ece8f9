"""Hardware ceilings measured in the same run as the workloads."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from pixelpipe.backends.wgpu.backend import WgpuBackend
from pixelpipe.errors import GPUError


def _best(fn: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def host_memcpy(nbytes: int, threads: int, repeat: int = 3) -> float:
    """Best host memcpy rate in bytes/s copying ``nbytes`` split over ``threads`` threads."""
    src = np.ones(nbytes, np.uint8)
    dst = np.empty_like(src)
    bounds = np.linspace(0, nbytes, threads + 1).astype(int)

    def part(i: int) -> None:
        np.copyto(dst[bounds[i]:bounds[i + 1]], src[bounds[i]:bounds[i + 1]])

    with ThreadPoolExecutor(threads) as pool:
        def copy() -> None:
            list(pool.map(part, range(threads)))

        copy()
        return nbytes / _best(copy, repeat)


def device_copy_time(be: WgpuBackend, height: int, width: int, repeat: int = 10) -> float | None:
    """GPU seconds for a WGSL kernel that copies an RGBA float32 image once (read + write).

    The kernel the fuser writes for an empty chain of pointwise ops: the
    dispatch shape (16 columns x 64 rows per workgroup, 4 pixels per
    invocation) and memory layout of every fused pointwise kernel, so it is
    the roofline of a memory-bound pointwise stage. Timed with the data
    resident on the GPU, runs back to back, after as many warm-up runs. None
    without timestamp queries.
    """
    from pixelpipe.backends.wgpu.fuse import fused_shader, fused_tile
    from pixelpipe.ops.base import GpuPass, Op, OpKind
    from pixelpipe.pipeline.plan import Plan, Stage

    class _Copy(Op):
        kind = OpKind.GEOMETRY

        def gpu_passes(self, h: int, w: int) -> list[GpuPass]:
            body, _ = fused_shader([])  # a fused pointwise kernel with no ops: a copy
            return [GpuPass(body, np.zeros((1, 4), np.float32), (h, w), tile=fused_tile())]

    x = np.zeros((height, width, 4), np.float32)
    plan = Plan((Stage((_Copy(),)),))
    try:
        # warm-up first: an idle GPU runs below its clocks
        return float(np.median(be.time_resident(plan, x, repeat, warmup_s=1.0)))
    except GPUError:
        return None


def cupy_device_copy_rate(nbytes: int, repeat: int = 5) -> float | None:
    """Device-to-device copy in bytes/s (bytes copied, not read + written) with CuPy, if present."""
    try:
        import cupy as cp
    except ImportError:
        return None
    a = cp.ones(nbytes // 4, cp.float32)
    b = cp.empty_like(a)
    start, end = cp.cuda.Event(), cp.cuda.Event()
    best = float("inf")
    for _ in range(repeat + 1):
        start.record()
        cp.copyto(b, a)
        end.record()
        end.synchronize()
        best = min(best, cp.cuda.get_elapsed_time(start, end) * 1e-3)
    return nbytes / best


def transfer_rates(be: WgpuBackend, nbytes: int, repeat: int = 3) -> tuple[float, float]:
    """(upload, download) bytes/s through the backend's persistent staging buffers."""
    data = np.ones(nbytes // 4, np.float32)
    buf = be.pool.acquire(nbytes)
    out = np.empty_like(data)
    try:
        def upload() -> None:
            be.staging.upload(data, buf)
            be.device.queue.read_buffer(buf, 0, 256)  # waits for the queue: the copies are done

        up = _best(upload, repeat)
        down = _best(lambda: be.staging.download(buf, out), repeat)
    finally:
        be.pool.release(buf)
    return nbytes / up, nbytes / down


def staging_parts(be: WgpuBackend, chunk: int = 64 << 20, repeat: int = 3) -> dict[str, float]:
    """Bytes/s of each part of a staged transfer, measured alone, one ``chunk`` at a time.

    ``fill``: host memory into a write-mapped staging buffer (wgpu places
    those in host-visible *device* memory, so this is the host writing over
    the bus); ``drain``: a read-mapped staging buffer (host memory the GPU
    wrote) into host memory; ``gpu copy up`` / ``gpu copy down``: the GPU's
    copy from / into those buffers. The host copies use the backend's copy
    threads. A pipelined upload or download can at best run at the slower
    of its host part and its GPU copy.
    """
    import wgpu

    from pixelpipe.backends.wgpu import pool

    u = wgpu.BufferUsage
    up = be.device.create_buffer(size=chunk, usage=u.MAP_WRITE | u.COPY_SRC)
    down = be.device.create_buffer(size=chunk, usage=u.MAP_READ | u.COPY_DST)
    dev = be.pool.acquire(chunk)
    host = np.ones(chunk, np.uint8)
    rates: dict[str, float] = {}
    try:
        up.map_sync(wgpu.MapMode.WRITE, 0, chunk)
        pool._fill_mapped(up, host)
        rates["fill"] = chunk / _best(lambda: pool._fill_mapped(up, host), repeat)
        up.unmap()

        def copies(src: Any, dst: Any, n: int = 8) -> Any:
            def run() -> None:
                enc = be.device.create_command_encoder()
                for _ in range(n):
                    enc.copy_buffer_to_buffer(src, 0, dst, 0, chunk)
                be.device.queue.submit([enc.finish()])
                be.device.queue.read_buffer(dev, 0, 256)  # waits for the copies
            return run

        rates["gpu copy up"] = 8 * chunk / _best(copies(up, dev), repeat)
        rates["gpu copy down"] = 8 * chunk / _best(copies(dev, down), repeat)
        down.map_sync(wgpu.MapMode.READ, 0, chunk)

        def drain() -> None:
            pool._start_drain(down, chunk, host).wait()

        drain()
        rates["drain"] = chunk / _best(drain, repeat)
        down.unmap()
    finally:
        be.pool.release(dev)
        up.destroy()
        down.destroy()
    return rates
