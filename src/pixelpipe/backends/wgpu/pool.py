"""Reusable GPU buffers: a pool keyed by size, and persistent staging buffers."""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

#: Sizes are rounded up to this granularity so that images of nearly equal
#: size share pooled buffers.
_GRANULE = 256


def _round(nbytes: int) -> int:
    return max(_GRANULE, -(-nbytes // _GRANULE) * _GRANULE)


class BufferPool:
    """Storage / uniform buffers reused across runs, keyed by (usage, rounded size)."""

    def __init__(self, device: Any) -> None:
        import wgpu

        self._wgpu = wgpu
        self.device = device
        self._free: dict[tuple[int, int], list[Any]] = defaultdict(list)
        self.created = 0

    def acquire(self, nbytes: int, usage: int | None = None) -> Any:
        """A buffer of at least ``nbytes`` (contents undefined)."""
        if usage is None:
            u = self._wgpu.BufferUsage
            usage = u.STORAGE | u.COPY_SRC | u.COPY_DST
        key = (int(usage), _round(nbytes))
        free = self._free[key]
        if free:
            return free.pop()
        self.created += 1
        return self.device.create_buffer(size=key[1], usage=usage)

    def release(self, buf: Any) -> None:
        """Return ``buf`` to the pool; it may be handed out again at once."""
        self._free[(int(buf.usage), int(buf.size))].append(buf)

    def clear(self) -> None:
        for bufs in self._free.values():
            for b in bufs:
                b.destroy()
        self._free.clear()


#: Host threads that copy into and out of mapped staging memory: one thread
#: does not reach the host's memory bandwidth (H100 host, 16 cores, 384 MB,
#: 64 MiB chunks: up / down 24.2 / 15.2 GB/s with four threads, 23.7 / 20.6
#: with eight; benchmarks/transfer_probe.py).
COPY_THREADS = min(8, os.cpu_count() or 1)
_COPY_MIN = 4 << 20  # below this one thread is faster than handing out work
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _parallel_copy(dst: npt.NDArray[np.uint8], src: npt.NDArray[np.uint8]) -> None:
    """``dst[:] = src`` split over :data:`COPY_THREADS` threads (NumPy copies release the GIL)."""
    global _pool
    n = src.size
    if n < _COPY_MIN or COPY_THREADS == 1:
        dst[:] = src
        return
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(COPY_THREADS, thread_name_prefix="pixelpipe-copy")
    edges = [n * k // COPY_THREADS // 64 * 64 for k in range(COPY_THREADS)] + [n]
    futures = [_pool.submit(np.copyto, dst[a:b], src[a:b]) for a, b in pairwise(edges)]
    for f in futures:
        f.result()


def _padded(raw: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """``raw`` itself, or a copy padded with zeros to a multiple of 4 bytes."""
    if raw.size % 4 == 0:
        return raw
    return np.concatenate([raw, np.zeros(4 - raw.size % 4, np.uint8)])


def _fill_mapped(stg: Any, piece: npt.NDArray[np.uint8]) -> None:
    """Copy ``piece`` into the start of the write-mapped buffer ``stg``.

    ``write_mapped`` copies on one thread while holding the GIL; a writable
    view of the mapped range (wgpu-py's ``_experimental_get_mapped_range``)
    lets :func:`_parallel_copy` fill it from several threads. Where that
    call does not exist the copy goes through ``write_mapped``.
    """
    get_range = getattr(stg, "_experimental_get_mapped_range", None)
    if get_range is None or piece.size < _COPY_MIN:
        stg.write_mapped(piece, 0)
        return
    view = get_range(0, piece.size)
    try:
        if view.readonly or view.nbytes < piece.size:
            stg.write_mapped(piece, 0)
        else:
            _parallel_copy(np.frombuffer(view, np.uint8), piece)
    finally:
        del view  # the view dies with the mapping: drop it before unmap


class Staging:
    """Two persistent mapped staging buffers per direction, used alternately.

    Transfers are cut into chunks of at most :attr:`chunk` bytes: while the
    GPU copies one chunk, the host fills (or drains) the other buffer.
    """

    def __init__(self, device: Any, chunk: int = 64 << 20) -> None:
        import wgpu

        self._wgpu = wgpu
        self.device = device
        self.chunk = chunk
        u = wgpu.BufferUsage
        self._up = [device.create_buffer(size=chunk, usage=u.MAP_WRITE | u.COPY_SRC)
                    for _ in range(2)]
        self._down = [device.create_buffer(size=chunk, usage=u.MAP_READ | u.COPY_DST)
                      for _ in range(2)]

    def upload(self, data: npt.NDArray[Any], dst: Any) -> None:
        """Copy the bytes of ``data`` into the start of GPU buffer ``dst``.

        A byte count that is not a multiple of 4 is padded with zeros (copies
        move whole 32-bit words); ``dst`` must have room for the padding.
        """
        raw = np.ascontiguousarray(data).reshape(-1).view(np.uint8)
        n = raw.size
        if n <= (1 << 20):
            self.device.queue.write_buffer(dst, 0, _padded(raw))
            return
        mapw = self._wgpu.MapMode.WRITE
        for k, off in enumerate(range(0, n, self.chunk)):
            piece = _padded(raw[off:off + self.chunk])
            stg = self._up[k % 2]
            stg.map_sync(mapw, 0, self.chunk)
            _fill_mapped(stg, piece)
            stg.unmap()
            enc = self.device.create_command_encoder()
            enc.copy_buffer_to_buffer(stg, 0, dst, off, piece.size)
            self.device.queue.submit([enc.finish()])

    def download(self, src: Any, out: npt.NDArray[Any]) -> None:
        """Fill contiguous ``out`` with the first ``out.nbytes`` bytes of GPU buffer ``src``."""
        raw = out.reshape(-1).view(np.uint8)
        n = raw.size
        mapr = self._wgpu.MapMode.READ
        offsets = list(range(0, n, self.chunk))

        def submit(k: int) -> None:
            off = offsets[k]
            enc = self.device.create_command_encoder()
            enc.copy_buffer_to_buffer(src, off, self._down[k % 2], 0, min(self.chunk, n - off))
            self.device.queue.submit([enc.finish()])

        submit(0)
        for k, off in enumerate(offsets):
            if k + 1 < len(offsets):
                submit(k + 1)
            size = min(self.chunk, n - off)
            stg = self._down[k % 2]
            stg.map_sync(mapr, 0, size)
            view = stg.read_mapped(0, size, copy=False)
            _parallel_copy(raw[off:off + size], np.frombuffer(view, np.uint8))
            del view
            stg.unmap()
