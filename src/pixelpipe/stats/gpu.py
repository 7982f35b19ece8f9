"""The WebGPU side of :mod:`pixelpipe.stats`.

The kernels (``common.wgsl`` + ``histogram.wgsl`` / ``reduce.wgsl`` /
``select.wgsl``) do not use the backend's image prelude: they read the
image as a flat ``array<f32>`` (C samples per pixel, so a grey image moves
one float per pixel over the bus, not four) and write integer counters with
atomics. Their pipelines share one explicit bind group layout
(0: samples, 1: sampling uniform, 2: kernel uniform, 3: read-only table,
4: read-write output) and are cached per backend, keyed by source.

Dispatch: 1-D, ``@workgroup_size(256)``, each invocation looping over the
pixels ``gid, gid + stride, ...``, so any image size fits in at most
``max-compute-workgroups-per-dimension`` workgroups. An image larger than
one storage binding is processed in chunks of whole pixels whose results are
added on the host (int64 counts, float64 sums).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pixelpipe.backends.wgpu.backend import WgpuBackend
from pixelpipe.errors import GPUError
from pixelpipe.ops.base import load_wgsl
from pixelpipe.stats.core import (
    F32,
    I64,
    Moments,
    Samples,
    interpolate,
    key_value,
    order_key,
    ranks_needed,
)

WORKGROUP = 256
#: Pixels each invocation of the reduction handles when the grid allows
#: (the float32 partial sums' error grows with it; see ``docs/stats.md``).
REDUCE_ITEMS = 16
#: Pixels per workgroup of the histogram kernels: each workgroup merges its
#: local histogram into the global one once, so it should count many pixels.
HIST_PIXELS_PER_GROUP = 256 * 32
HIST_MAX_GROUPS = 4096
#: Bins per refinement step of the percentile search, and the number of
#: values a search range may hold for the host to sort them instead.
REFINE_BINS = 1024
GATHER_CAP = 1 << 17
_RECORD = 6
_NO_KEY = 0xFFFFFFFF


def _shader(name: str, counters: int | None = None) -> str:
    text = load_wgsl("pixelpipe.stats", "common.wgsl") + load_wgsl("pixelpipe.stats", name)
    if counters is not None:
        text = text.replace("WG_COUNTERS", f"{counters}u")
    return text


class _Kernels:
    """Compiled statistics pipelines and their bind group layout, one set per backend."""

    def __init__(self, be: WgpuBackend) -> None:
        import wgpu

        self.wgpu = wgpu
        self.be = be
        self.lock = getattr(be, "_lock", None) or threading.Lock()
        S = wgpu.ShaderStage.COMPUTE
        bt = wgpu.BufferBindingType
        kinds = (bt.read_only_storage, bt.uniform, bt.uniform, bt.read_only_storage, bt.storage)
        self.layout = be.device.create_bind_group_layout(entries=[
            {"binding": i, "visibility": S, "buffer": {"type": t}} for i, t in enumerate(kinds)
        ])
        self.pipeline_layout = be.device.create_pipeline_layout(bind_group_layouts=[self.layout])
        self.pipelines: dict[tuple[str, str], Any] = {}
        # workgroup memory in 32-bit counters (WebGPU's guaranteed minimum: 16 KiB)
        self.counters = be.limits.get("max-compute-workgroup-storage-size", 16384) // 4
        self.max_groups = be.max_groups

    def pipeline(self, source: str, entry: str = "main") -> Any:
        key = (source, entry)
        pipe = self.pipelines.get(key)
        if pipe is None:
            try:
                module = self.be.device.create_shader_module(code=source)
                pipe = self.be.device.create_compute_pipeline(
                    layout=self.pipeline_layout, compute={"module": module, "entry_point": entry}
                )
            except Exception as exc:
                raise GPUError(f"{self.be.describe()}: shader compilation failed: {exc}") from exc
            self.pipelines[key] = pipe
        return pipe


_KERNELS: weakref.WeakKeyDictionary[WgpuBackend, _Kernels] = weakref.WeakKeyDictionary()
_KERNELS_LOCK = threading.Lock()


def kernels(be: WgpuBackend) -> _Kernels:
    with _KERNELS_LOCK:
        k = _KERNELS.get(be)
        if k is None:
            k = _KERNELS[be] = _Kernels(be)
        return k


@dataclass
class _Run:
    """Buffers borrowed from the backend's pool for one call, released at the end."""

    k: _Kernels
    s: Samples
    #: pixels per chunk; None: as many as one storage binding holds
    chunk_pixels: int | None = None
    borrowed: list[Any] = field(default_factory=list)
    _single: tuple[Any, Any, int] | None = None

    # --- buffers ---------------------------------------------------------------------
    def buffer(self, nbytes: int, usage: int | None = None) -> Any:
        self.k.be.check_size(nbytes)
        buf = self.k.be.pool.acquire(max(nbytes, 16), usage)
        self.borrowed.append(buf)
        return buf

    def uniform(self, words: np.ndarray) -> Any:
        u = self.k.wgpu.BufferUsage
        data = np.ascontiguousarray(words)
        buf = self.buffer(data.nbytes, u.UNIFORM | u.COPY_DST)
        self.k.be.device.queue.write_buffer(buf, 0, data)
        return buf

    def table(self, words: np.ndarray) -> Any:
        data = np.ascontiguousarray(words, np.uint32).reshape(-1)
        if data.size == 0:
            data = np.zeros(4, np.uint32)
        buf = self.buffer(data.nbytes)
        self.k.be.device.queue.write_buffer(buf, 0, data)
        return buf

    def release(self) -> None:
        for b in self.borrowed:
            self.k.be.pool.release(b)
        self.borrowed.clear()

    # --- the image, chunk by chunk ------------------------------------------------------
    def chunks(self) -> Iterator[tuple[Any, Any, int]]:
        """(samples buffer, sampling uniform, pixels) for each chunk that fits one binding."""
        if self._single is not None:
            yield self._single
            return
        c = self.s.channels
        per = max(1, self.k.be.max_binding // (4 * c))
        n = self.s.n_pixels
        per = min(per, (1 << 31) // c, self.chunk_pixels or n)
        w = self.s.weights32()
        reuse: Any = None
        for start in range(0, n, per):
            part = self.s.pixels[start:start + per]
            m = int(part.shape[0])
            if reuse is None:
                reuse = self.buffer(min(n, per) * c * 4)
            self.k.be.staging.upload(np.asarray(part), reuse)
            head = np.array([m, c, int(self.s.luma_rgb), 0], np.uint32)
            smp = self.uniform(np.concatenate([head.view(np.float32),
                                               np.append(w, np.float32(0))]))
            item = (reuse, smp, m)
            if per >= n:
                self._single = item  # the whole image is on the GPU: keep it for later passes
            yield item

    # --- dispatch ------------------------------------------------------------------------
    def dispatch(self, enc: Any, pipe: Any, chunk: tuple[Any, Any, int], params: Any,
                 table: Any, out: Any, groups: int) -> None:
        src, smp, m = chunk
        entries = [
            {"binding": 0, "resource": {"buffer": src, "offset": 0,
                                        "size": m * self.s.channels * 4}},
            {"binding": 1, "resource": {"buffer": smp, "offset": 0, "size": 32}},
            {"binding": 2, "resource": {"buffer": params, "offset": 0, "size": 32}},
            {"binding": 3, "resource": {"buffer": table, "offset": 0, "size": table.size}},
            {"binding": 4, "resource": {"buffer": out, "offset": 0,
                                        "size": min(out.size, self.k.be.max_binding)}},
        ]
        bg = self.k.be.device.create_bind_group(layout=self.k.layout, entries=entries)
        cp = enc.begin_compute_pass()
        cp.set_pipeline(pipe)
        cp.set_bind_group(0, bg)
        cp.dispatch_workgroups(groups, 1, 1)
        cp.end()

    def groups(self, pixels: int, per_group: int, cap: int) -> int:
        return max(1, min(-(-pixels // per_group), cap, self.k.max_groups))

    def submit_and_read(self, enc: Any, out: Any, words: int) -> np.ndarray:
        result = np.empty(words, np.uint32)
        try:
            self.k.be.device.queue.submit([enc.finish()])
            self.k.be.staging.download(out, result)
        except Exception as exc:
            raise GPUError(f"{self.k.be.describe()}: {exc}") from exc
        return result

    # --- kernels ---------------------------------------------------------------------------
    def histogram(self, edges: F32) -> tuple[I64, I64, I64, I64]:
        bins = int(edges.shape[0]) - 1
        slots = self.s.channels + 1
        row = bins + 3
        budget = self.k.counters
        # split into passes over (slots, bin window) that fit the workgroup memory
        if row <= budget:
            per_pass = min(slots, budget // row)
            passes = [(s0, min(per_pass, slots - s0), 0, bins, 1)
                      for s0 in range(0, slots, per_pass)]
        else:
            window = budget - 3
            passes = [(s0, 1, b0, min(window, bins - b0), int(b0 == 0))
                      for s0 in range(slots) for b0 in range(0, bins, window)]
        lo = np.float32(edges[0])
        scale = np.float32(bins / (np.float64(edges[-1]) - np.float64(edges[0])))
        table = self.table(order_key(edges))
        out = self.buffer(slots * row * 4)
        params = []
        for s0, ns, b0, win, tails in passes:
            words = np.array([bins, b0, win, s0, ns, tails, 0, 0], np.uint32)
            words[6:8] = np.array([lo, scale], np.float32).view(np.uint32)
            params.append((self.uniform(words), ns * (win + 3)))
        total = np.zeros(slots * row, np.int64)
        for chunk in self.chunks():
            enc = self.k.be.device.create_command_encoder()
            enc.clear_buffer(out, 0, slots * row * 4)
            g = self.groups(chunk[2], HIST_PIXELS_PER_GROUP, HIST_MAX_GROUPS)
            for pbuf, counters in params:
                pipe = self.k.pipeline(_shader("histogram.wgsl", counters))
                self.dispatch(enc, pipe, chunk, pbuf, table, out, g)
            total += self.submit_and_read(enc, out, slots * row)
        t = total.reshape(slots, row)
        return t[:, :bins].copy(), t[:, bins].copy(), t[:, bins + 1].copy(), t[:, bins + 2].copy()

    def moments(self) -> tuple[Moments, np.ndarray, np.ndarray]:
        """Moments plus the per-slot min and max order keys (uint32; meaningless if no value)."""
        slots = self.s.channels + 1
        pipe = self.k.pipeline(_shader("reduce.wgsl"))
        params = self.uniform(np.array([slots, 0, 0, 0, 0, 0, 0, 0], np.uint32))
        table = self.table(np.zeros(4, np.uint32))
        fsum = np.zeros(slots, np.float64)
        lo = np.full(slots, _NO_KEY, np.uint32)
        hi = np.zeros(slots, np.uint32)
        counts = np.zeros((3, slots), np.int64)
        for chunk in self.chunks():
            g = self.groups(chunk[2], WORKGROUP * REDUCE_ITEMS, self.k.max_groups)
            out = self.buffer(g * slots * _RECORD * 4)
            enc = self.k.be.device.create_command_encoder()
            self.dispatch(enc, pipe, chunk, params, table, out, g)
            rec = self.submit_and_read(enc, out, g * slots * _RECORD).reshape(g, slots, _RECORD)
            fsum += rec[:, :, 0].copy().view(np.float32).astype(np.float64).sum(axis=0)
            lo = np.minimum(lo, rec[:, :, 1].min(axis=0))
            hi = np.maximum(hi, rec[:, :, 2].max(axis=0))
            counts += rec[:, :, 3:6].astype(np.int64).sum(axis=0).T
        nan, posinf, neginf = counts
        has = nan < self.s.n_pixels
        m = Moments(
            finite_sum=fsum,
            lo=np.where(has, key_value(lo).astype(np.float64), np.nan),
            hi=np.where(has, key_value(hi).astype(np.float64), np.nan),
            nan=nan, posinf=posinf, neginf=neginf, n=self.s.n_pixels,
        )
        return m, lo, hi

    def percentiles(self, q: tuple[float, ...], cap: int = GATHER_CAP,
                    refine_bins: int = REFINE_BINS) -> np.ndarray:
        """Exact order statistics by key-range refinement, then :func:`interpolate`."""
        m, klo, khi = self.moments()
        slots = self.s.channels + 1
        count = m.count()
        # a search: (slot, key lo, key hi, values below the range, values in it) -> ranks
        searches: dict[tuple[int, int, int, int, int], list[int]] = {}
        for k in range(slots):
            if count[k] > 0:
                searches[(k, int(klo[k]), int(khi[k]), 0, int(count[k]))] = ranks_needed(
                    int(count[k]), q)
        found: dict[tuple[int, int], float] = {}
        while searches:
            to_refine: dict[tuple[int, int, int, int, int], list[int]] = {}
            to_gather: dict[tuple[int, int, int, int, int], list[int]] = {}
            for key, ranks in searches.items():
                _, a, b, _, c = key
                if a == b:  # one value
                    for r in ranks:
                        found[(key[0], r)] = float(key_value(np.uint32(a)))
                elif c <= cap:
                    to_gather[key] = ranks
                else:
                    to_refine[key] = ranks
            if to_gather:
                self._gather(to_gather, found)
            searches = self._refine(to_refine, refine_bins) if to_refine else {}
        out = np.full((slots, len(q)), np.nan)
        for k in range(slots):
            if count[k] > 0:
                need = ranks_needed(int(count[k]), q)
                out[k] = interpolate(int(count[k]), q, {r: found[(k, r)] for r in need})
        return out

    def _refine(self, searches: dict[tuple[int, int, int, int, int], list[int]],
                bins: int) -> dict[tuple[int, int, int, int, int], list[int]]:
        keys = sorted(searches)  # by slot first: the kernel samples each slot once
        widths = [-(-(b - a + 1) // bins) for _, a, b, _, _ in keys]
        rows = np.zeros((len(keys), 8), np.uint32)
        for i, ((slot, a, b, _, _), w) in enumerate(zip(keys, widths, strict=True)):
            rows[i, :4] = (slot, a, b, w)
        table = self.table(rows)
        per_pass = max(1, self.k.counters // bins)
        if bins > self.k.counters:
            raise GPUError(f"{self.k.be.describe()}: {bins} refinement bins exceed "
                           "the workgroup memory")
        out = self.buffer(len(keys) * bins * 4)
        passes = []
        for t0 in range(0, len(keys), per_pass):
            nt = min(per_pass, len(keys) - t0)
            params = self.uniform(np.array([t0, nt, bins, 0, 0, 0, 0, 0], np.uint32))
            passes.append((params, self.k.pipeline(_shader("select.wgsl", nt * bins), "refine")))
        total = np.zeros(len(keys) * bins, np.int64)
        for chunk in self.chunks():
            enc = self.k.be.device.create_command_encoder()
            enc.clear_buffer(out, 0, len(keys) * bins * 4)
            g = self.groups(chunk[2], HIST_PIXELS_PER_GROUP, HIST_MAX_GROUPS)
            for params, pipe in passes:
                self.dispatch(enc, pipe, chunk, params, table, out, g)
            total += self.submit_and_read(enc, out, len(keys) * bins)
        hist = total.reshape(len(keys), bins)
        nxt: dict[tuple[int, int, int, int, int], list[int]] = {}
        for (slot, a, b, below, c), w, h in zip(keys, widths, hist, strict=True):
            if int(h.sum()) != c:
                raise GPUError(f"{self.k.be.describe()}: refinement counted {int(h.sum())} "
                               f"values where {c} were expected")
            cum = np.cumsum(h)
            for r in searches[(slot, a, b, below, c)]:
                j = int(np.searchsorted(cum, r - below, side="right"))
                start = a + j * w
                sub = (slot, start, min(start + w - 1, b), below + int(cum[j] - h[j]), int(h[j]))
                nxt.setdefault(sub, []).append(r)
        return nxt

    def _gather(self, searches: dict[tuple[int, int, int, int, int], list[int]],
                found: dict[tuple[int, int], float]) -> None:
        keys = sorted(searches)
        nt = len(keys)
        rows = np.zeros((nt, 8), np.uint32)
        offset = nt
        for i, (slot, a, b, _, c) in enumerate(keys):
            rows[i, :4] = (slot, a, b, offset)
            rows[i, 4] = c
            offset += c
        table = self.table(rows)
        out = self.buffer(offset * 4)
        params = self.uniform(np.array([0, nt, 0, 0, 0, 0, 0, 0], np.uint32))
        pipe = self.k.pipeline(_shader("select.wgsl", 1), "gather")
        enc = self.k.be.device.create_command_encoder()
        enc.clear_buffer(out, 0, nt * 4)
        for chunk in self.chunks():
            g = self.groups(chunk[2], HIST_PIXELS_PER_GROUP, HIST_MAX_GROUPS)
            self.dispatch(enc, pipe, chunk, params, table, out, g)
            if self._single is None:  # the next chunk overwrites the samples buffer
                self.submit_and_read(enc, out, 1)
                enc = self.k.be.device.create_command_encoder()
        data = self.submit_and_read(enc, out, offset)
        for i, (slot, a, b, below, c) in enumerate(keys):
            if int(data[i]) != c:
                raise GPUError(f"{self.k.be.describe()}: gathered {int(data[i])} values "
                               f"where {c} were expected")
            start = int(rows[i, 3])
            vals = np.sort(key_value(data[start:start + c]))
            for r in searches[(slot, a, b, below, c)]:
                found[(slot, r)] = float(vals[r - below])


def run(be: WgpuBackend, s: Samples, chunk_pixels: int | None = None) -> _Run:
    """A run of statistics kernels on ``be`` over the samples ``s``.

    ``chunk_pixels`` caps the pixels uploaded at once (default: what one
    storage binding holds). Call :meth:`_Run.release` when done.
    """
    return _Run(kernels(be), s, chunk_pixels)
