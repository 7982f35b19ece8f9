"""Transfers through the persistent staging buffers are byte-exact in both directions."""

import numpy as np
import pytest

from pixelpipe.backends.wgpu import pool


def test_multi_chunk_round_trip_with_odd_length(wgpu_backend, monkeypatch):
    # small chunks keep the test light; a low threshold sends them through the
    # several-thread copies all the same
    monkeypatch.setattr(pool, "_COPY_MIN", 1 << 16)
    st = pool.Staging(wgpu_backend.device, 1 << 20)
    # three chunks and a tail that is not a multiple of 4 bytes: several-thread
    # copies into and out of the mapped ranges, padding on the way up
    n = 2 * st.chunk + (5 << 16) + 3
    data = np.random.default_rng(7).integers(0, 256, n, dtype=np.uint8)
    padded = -(-n // 16) * 16
    buf = wgpu_backend.pool.acquire(padded)
    try:
        st.upload(data, buf)
        back = np.empty(padded, np.uint8)  # copies move whole words: read back padded
        st.download(buf, back)
    finally:
        wgpu_backend.pool.release(buf)
    assert np.array_equal(back[:n], data)
    assert not back[n:-(-n // 4) * 4].any()  # the upload's padding is zeros


def test_small_upload_goes_through_the_queue(wgpu_backend):
    data = np.arange(1000, dtype=np.float32)
    buf = wgpu_backend.pool.acquire(data.nbytes)
    try:
        wgpu_backend.staging.upload(data, buf)
        back = np.empty_like(data)
        wgpu_backend.staging.download(buf, back)
    finally:
        wgpu_backend.pool.release(buf)
    assert np.array_equal(back, data)


def test_read_only_input_uploads(wgpu_backend, monkeypatch):
    # decoders hand over read-only arrays (numpy.asarray of a Pillow image)
    monkeypatch.setattr(pool, "_COPY_MIN", 1 << 16)
    st = pool.Staging(wgpu_backend.device, 1 << 20)
    for n in (1000, 3 * st.chunk + 12):  # the queue path, then chunks
        data = np.random.default_rng(n).integers(0, 256, n, dtype=np.uint8)
        data.flags.writeable = False
        buf = wgpu_backend.pool.acquire(-(-n // 16) * 16)
        try:
            back = _round_trip(st, data, buf)
        finally:
            wgpu_backend.pool.release(buf)
        assert np.array_equal(back, data)


def _round_trip(st, data, buf):
    """``data`` (uint8) up into ``buf`` and back down through the staging ``st``."""
    st.upload(data, buf)
    back = np.empty(data.size, np.uint8)
    st.download(buf, back)
    return back


def _copy_threads(monkeypatch, threads, min_bytes):
    """Threaded copies from ``min_bytes`` on, over ``threads`` threads of a fresh pool."""
    monkeypatch.setattr(pool, "_COPY_MIN", min_bytes)
    monkeypatch.setattr(pool, "COPY_THREADS", threads)
    monkeypatch.setattr(pool, "_pool", None)


def test_a_failed_host_copy_leaves_the_staging_usable(wgpu_backend, monkeypatch):
    # one part of the threaded copy fails: the others are waited for, the
    # error reaches the caller, the staging buffers end unmapped
    _copy_threads(monkeypatch, 4, 1 << 16)
    st = pool.Staging(wgpu_backend.device, 1 << 20)
    n = 3 * st.chunk
    data = np.arange(n, dtype=np.uint32).view(np.uint8)[:n]
    buf = wgpu_backend.pool.acquire(n)
    real_copyto = np.copyto
    calls = []

    def flaky(dst, src):
        calls.append(dst.size)
        if len(calls) == 6:
            raise MemoryError("copy failed")
        real_copyto(dst, src)

    try:
        monkeypatch.setattr(pool.np, "copyto", flaky)
        with pytest.raises(MemoryError, match="copy failed"):
            st.upload(data, buf)
        monkeypatch.setattr(pool.np, "copyto", real_copyto)
        assert all(b.map_state == "unmapped" for b in st._up)
        back = _round_trip(st, data, buf)
    finally:
        wgpu_backend.pool.release(buf)
    assert np.array_equal(back, data)


def test_copy_wait_outlasts_a_failed_part(monkeypatch):
    import threading
    import time

    _copy_threads(monkeypatch, 3, 1 << 10)
    started: list[int] = []
    finished: list[int] = []
    lock = threading.Lock()

    def first_fails(dst, src):
        with lock:
            started.append(dst.size)
            first = len(started) == 1
        if first:
            raise ValueError("first part fails")
        time.sleep(0.2)
        dst[:] = src
        finished.append(dst.size)

    monkeypatch.setattr(pool.np, "copyto", first_fails)
    src = np.ones(6 << 10, np.uint8)
    dst = np.zeros_like(src)
    with pytest.raises(ValueError, match="first part fails"):
        pool._Copy(dst, src).wait()
    # the two other parts had finished before wait() let go of the copy
    assert len(finished) == 2
