"""Reusable GPU buffers: a pool keyed by size, and persistent staging buffers."""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_all
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


#: Host threads that copy into and out of mapped staging memory. One thread
#: does not reach the host's memory bandwidth. Uploads gain nothing past
#: eight (the bus bounds the host's writes into mapped device memory);
#: downloads gained up to a third with twelve on a quiet host and nothing on
#: a loaded one (docs/performance.md, benchmarks/transfer_probe.py). Eight
#: leave the other cores to the codec threads of a batch.
COPY_THREADS = min(8, os.cpu_count() or 1)
_COPY_MIN = 4 << 20  # below this one thread is faster than handing out work
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


class _Copy:
    """``dst[:] = src`` running on :data:`COPY_THREADS` threads until :meth:`wait`.

    NumPy copies release the GIL, so the caller's thread can record and
    submit GPU work meanwhile. ``keep`` holds a mapped view that must stay
    alive until the copy is done; :meth:`wait` drops it (and the arrays over
    it) so that the buffer can be unmapped.
    """

    def __init__(self, dst: npt.NDArray[np.uint8], src: npt.NDArray[np.uint8],
                 keep: Any = None) -> None:
        global _pool
        self._keep = keep
        self._futures: list[Future[None]] = []
        n = src.size
        if n < _COPY_MIN or COPY_THREADS == 1:
            dst[:] = src
            return
        with _pool_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(COPY_THREADS, thread_name_prefix="pixelpipe-copy")
        edges = [n * k // COPY_THREADS // 64 * 64 for k in range(COPY_THREADS)] + [n]
        self._futures = [_pool.submit(np.copyto, dst[a:b], src[a:b]) for a, b in pairwise(edges)]

    @classmethod
    def done(cls) -> _Copy:
        """A copy with nothing left to do."""
        return cls(np.empty(0, np.uint8), np.empty(0, np.uint8))

    def wait(self) -> None:
        """Return once every part has finished; then raise the first part's error.

        Also when one part fails or the wait is interrupted (Ctrl-C), the
        other parts are waited for before anything is let go: their threads
        still write into ``dst``, which may be mapped memory.
        """
        futures = self._futures
        try:
            wait_all(futures)
        except BaseException:
            wait_all(futures)  # the threads still copy: let them finish first
            raise
        self._futures = []
        self._keep = None
        for f in futures:
            f.result()


def _parallel_copy(dst: npt.NDArray[np.uint8], src: npt.NDArray[np.uint8]) -> None:
    """``dst[:] = src`` split over :data:`COPY_THREADS` threads."""
    _Copy(dst, src).wait()


def read_back(buf: Any, nbytes: int, dtype: Any = np.uint32) -> npt.NDArray[Any]:
    """A copy of the first ``nbytes`` of the MAP_READ buffer ``buf`` as ``dtype``.

    Maps ``buf`` (waiting for the GPU work that writes it), copies, unmaps,
    also when the read fails. For small results (statistics, timestamps);
    images go through :class:`Staging`.
    """
    import wgpu

    buf.map_sync(wgpu.MapMode.READ, 0, nbytes)
    try:
        return np.frombuffer(buf.read_mapped(0, nbytes), dtype).copy()
    finally:
        buf.unmap()


def _padded(raw: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """``raw`` itself, or a copy padded with zeros to a multiple of 4 bytes."""
    if raw.size % 4 == 0:
        return raw
    return np.concatenate([raw, np.zeros(4 - raw.size % 4, np.uint8)])


def _start_fill(stg: Any, piece: npt.NDArray[np.uint8]) -> _Copy:
    """Begin copying ``piece`` into the start of the write-mapped buffer ``stg``.

    ``write_mapped`` copies on one thread while holding the GIL; a writable
    view of the mapped range (wgpu-py's ``_experimental_get_mapped_range``)
    lets several threads fill it. Where that call does not exist the copy
    goes through ``write_mapped`` before this returns.
    """
    get_range = getattr(stg, "_experimental_get_mapped_range", None)
    if get_range is not None and piece.size >= _COPY_MIN:
        view = get_range(0, piece.size)
        if not view.readonly and view.nbytes >= piece.size:
            return _Copy(np.frombuffer(view, np.uint8), piece, keep=view)
        del view
    stg.write_mapped(piece, 0)
    return _Copy.done()


def _fill_mapped(stg: Any, piece: npt.NDArray[np.uint8]) -> None:
    """Copy ``piece`` into the start of the write-mapped buffer ``stg``."""
    _start_fill(stg, piece).wait()


def _start_drain(stg: Any, size: int, dst: npt.NDArray[np.uint8]) -> _Copy:
    """Begin copying the first ``size`` bytes of the read-mapped ``stg`` into ``dst``."""
    view = stg.read_mapped(0, size, copy=False)
    return _Copy(dst, np.frombuffer(view, np.uint8), keep=view)


class Staging:
    """Two persistent mapped staging buffers per direction, used alternately.

    Transfers are cut into chunks of at most :attr:`chunk` bytes. The host
    copies one chunk into (out of) one buffer while the GPU copies the other
    and the map of the next buffer resolves, so only the host copies lie on
    the critical path.

    wgpu-py resolves a map by polling until *all* submitted work is done,
    not just the work that used the buffer. So a download maps chunk k
    before the copy of chunk k + 1 is submitted: mapping after it would also
    wait for that copy and run the GPU copy and the host copy one after the
    other. Uploads need no such care: wgpu places MAP_WRITE buffers in
    host-visible device memory, where the host's writes are the transfer and
    the GPU's copy out of them runs at device speed.
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

    def _copy(self, src: Any, src_off: int, dst: Any, dst_off: int, size: int) -> None:
        enc = self.device.create_command_encoder()
        enc.copy_buffer_to_buffer(src, src_off, dst, dst_off, size)
        self.device.queue.submit([enc.finish()])

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
        offsets = list(range(0, n, self.chunk))
        up = self._up
        maps: list[Any] = []
        fill = _Copy.done()
        try:
            up[0].map_sync(mapw, 0, self.chunk)
            piece = _padded(raw[:self.chunk])
            fill = _start_fill(up[0], piece)
            for k, off in enumerate(offsets):
                size = piece.size
                if k + 1 < len(offsets):
                    # the other buffer's copy (chunk k - 1) finishes while chunk k fills
                    maps = [up[(k + 1) % 2].map_async(mapw, 0, self.chunk)]
                fill.wait()
                up[k % 2].unmap()
                if maps:
                    maps.pop().sync_wait()
                    piece = _padded(raw[offsets[k + 1]:offsets[k + 1] + self.chunk])
                    fill = _start_fill(up[(k + 1) % 2], piece)
                self._copy(up[k % 2], 0, dst, off, size)  # runs while chunk k + 1 fills
        finally:
            _settle(up, maps, fill)

    def download(self, src: Any, out: npt.NDArray[Any]) -> None:
        """Fill contiguous ``out`` with the first ``out.nbytes`` bytes of GPU buffer ``src``."""
        raw = out.reshape(-1).view(np.uint8)
        n = raw.size
        mapr = self._wgpu.MapMode.READ
        offsets = list(range(0, n, self.chunk))
        sizes = [min(self.chunk, n - off) for off in offsets]
        down = self._down
        maps: list[Any] = []
        drain = _Copy.done()
        try:
            self._copy(src, 0, down[0], 0, sizes[0])
            down[0].map_sync(mapr, 0, sizes[0])
            for k, off in enumerate(offsets):
                drain = _start_drain(down[k % 2], sizes[k], raw[off:off + sizes[k]])
                if k + 1 < len(offsets):
                    # chunk k is mapped and nothing else is in flight: the next
                    # copy and its map complete while chunk k drains
                    self._copy(src, offsets[k + 1], down[(k + 1) % 2], 0, sizes[k + 1])
                    maps = [down[(k + 1) % 2].map_async(mapr, 0, sizes[k + 1])]
                drain.wait()
                down[k % 2].unmap()
                if maps:
                    maps.pop().sync_wait()
        finally:
            _settle(down, maps, drain)


def _settle(bufs: list[Any], maps: list[Any], copy: _Copy) -> None:
    """Leave staging buffers unmapped after a transfer, also one that raised.

    The host copy still running is waited for first: unmapping under it
    would pull the memory from under its threads.
    """
    try:
        copy.wait()
    except BaseException:  # the transfer's own error is the one to report
        pass
    for m in maps:  # a map requested by a transfer that raised
        try:
            m.sync_wait()
        except BaseException:  # the transfer's own error is the one to report
            pass
    for b in bufs:
        if b.map_state == "mapped":
            b.unmap()
