"""The WebGPU backend: runs a plan as compute dispatches on one device."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from pixelpipe.backends.base import Backend
from pixelpipe.backends.wgpu.device import create_device
from pixelpipe.backends.wgpu.fuse import epilogue_source, fused_shader, fused_tile
from pixelpipe.backends.wgpu.pool import BufferPool, Staging, read_back
from pixelpipe.errors import GPUError, ParameterError
from pixelpipe.ops.base import Array, DeviceStatistics, GlobalOp, GpuPass, load_wgsl
from pixelpipe.pipeline.plan import Plan
from pixelpipe.samples import SAMPLE_DTYPES, channels_of, from_float, from_rgba, to_rgba

WORKGROUP = 16
PIXEL_BYTES = 16  # vec4<f32>
_PACK_WIDTH = 4096  # 16-byte cells per row of the packing kernel's grid
_DIMS_SLOT = 256  # bytes before a dispatch's params in its parameter buffer (binding offsets)
#: dispatches recorded before they are submitted together (see _RunState.queue).
#: Each submission costs the GPU a gap before its first kernel: W5 on an H100
#: took 22.2 ms submitting every dispatch alone, 21.9 ms by 4, 21.8 ms by 16.
EAGER = 16

_KIND = {np.dtype(np.uint8): 0, np.dtype(np.uint16): 1, np.dtype(np.float16): 2,
         np.dtype(np.float32): 3}


def _round16(n: int) -> int:
    return -(-n // 16) * 16


def _sample_consts(channels: int, dtype: np.dtype[Any]) -> str:
    return f"const CH: u32 = {channels}u;\nconst KIND: u32 = {_KIND[dtype]}u;\n"


def prelude() -> str:
    """The WGSL declarations every pixelpipe kernel starts with (see ``prelude.wgsl``)."""
    return load_wgsl("pixelpipe.backends.wgpu", "prelude.wgsl")


def source_bindings(n_inputs: int) -> str:
    """WGSL declarations of ``dst`` (binding 0) and the read-only inputs ``src0``… (3…)."""
    return "@group(0) @binding(0) var<storage, read_write> dst: array<vec4<f32>>;\n" + "".join(
        f"@group(0) @binding({3 + i}) var<storage, read> src{i}: array<vec4<f32>>;\n"
        for i in range(n_inputs)
    )


@dataclass
class _Dispatch:
    shader: str
    inputs: list[Any]
    output: Any
    params: Array
    in_size: tuple[int, int]
    out_size: tuple[int, int]
    #: (height, width) of each input; None: every input is ``in_size``
    input_sizes: list[tuple[int, int]] | None = None
    #: bytes bound for each input when they are not RGBA images (raw samples)
    input_bytes: list[int] | None = None
    #: the shader declares ``dst`` and its inputs itself (sample conversion)
    declares_io: bool = False
    tile: tuple[int, int] = (WORKGROUP, WORKGROUP)  #: outputs (rows, cols) per workgroup
    device_rows: tuple[tuple[int, Any, int], ...] = ()  #: see GpuPass.device_rows


class WgpuBackend(Backend):
    """Runs plans on one WebGPU device.

    Buffers come from a size-keyed pool, parameters are written into pooled
    buffers with ``queue.write_buffer``, compiled pipelines are cached by
    shader source, and a plan's dispatches are submitted as they are
    recorded with no read-back between stages: global ops that keep their
    statistics on the GPU (:meth:`GlobalOp.gpu_statistics_device`) need
    none either, so the final download is the only wait.
    """

    name = "wgpu"

    def __init__(self, adapter: Any, info: dict[str, Any]) -> None:
        import wgpu

        self._wgpu = wgpu
        self.adapter = adapter
        self.info = info
        self.device = create_device(adapter)
        self.limits = {k: int(v) for k, v in self.device.limits.items() if isinstance(v, int)}
        self.max_binding = min(self.limits["max-storage-buffer-binding-size"],
                               self.limits["max-buffer-size"])
        self.max_groups = self.limits["max-compute-workgroups-per-dimension"]
        self.pool = BufferPool(self.device)
        self.staging = Staging(self.device)
        self._pipelines: dict[tuple[str, int], Any] = {}
        self._layouts: dict[int, Any] = {}
        self._lock = threading.Lock()
        self.kernels_dispatched = 0  # dispatches of the last run (tests count fusion with it)
        #: GPU time of the last run's compute passes in seconds, from timestamp
        #: queries; None when the adapter has no timestamp queries.
        self.last_gpu_time: float | None = None
        #: the most GPU memory in image buffers the last run held at once
        #: (a buffer goes back to the pool as soon as no later pass reads it)
        self.last_run_bytes = 0
        self._timer = _PassTimer(self.device) if "timestamp-query" in self.device.features else None
        # the plan run this thread is recording (under _lock); per thread, so that
        # kernels another thread records outside a run do not count as this run's
        self._active = threading.local()

    def describe(self) -> str:
        return f"wgpu: {self.info['name']} ({self.info['backend']}, {self.info['type']})"

    # --- compiled pipelines ----------------------------------------------------
    def compute_pass(self, enc: Any, last: bool = False) -> Any:
        """Begin a compute pass in ``enc``: the way every kernel of a plan run starts.

        The first pass of the run being timed writes the run's starting
        timestamp, whoever records it (an op's statistics kernels included),
        and ``last`` marks the run's final pass, which writes the end.
        """
        run, timer = getattr(self._active, "run", None), self._timer
        stamps = None
        if run is not None and timer is not None:
            stamps = timer.writes(not run.started, last)
            run.started = True
        return enc.begin_compute_pass(timestamp_writes=stamps) if stamps else \
            enc.begin_compute_pass()

    def bind_group_layout(self, n_inputs: int) -> Any:
        """The explicit layout: dst, params, dims, then ``n_inputs`` read-only sources."""
        if n_inputs not in self._layouts:
            S = self._wgpu.ShaderStage.COMPUTE
            bt = self._wgpu.BufferBindingType
            entries = [
                {"binding": 0, "visibility": S, "buffer": {"type": bt.storage}},
                {"binding": 1, "visibility": S, "buffer": {"type": bt.read_only_storage}},
                {"binding": 2, "visibility": S, "buffer": {"type": bt.uniform}},
            ] + [
                {"binding": 3 + i, "visibility": S, "buffer": {"type": bt.read_only_storage}}
                for i in range(n_inputs)
            ]
            self._layouts[n_inputs] = self.device.create_bind_group_layout(entries=entries)
        return self._layouts[n_inputs]

    def pipeline(self, body: str, n_inputs: int, declares_io: bool = False) -> Any:
        """Compiled compute pipeline for ``body`` (WGSL after the prelude), cached by source.

        ``declares_io``: the body declares ``dst`` and its inputs itself (the
        sample-conversion kernels read and write raw words, not RGBA floats).
        """
        key = (body, n_inputs)
        pipe = self._pipelines.get(key)
        if pipe is None:
            source = prelude() + ("" if declares_io else source_bindings(n_inputs)) + body
            try:
                module = self.device.create_shader_module(code=source)
                layout = self.device.create_pipeline_layout(
                    bind_group_layouts=[self.bind_group_layout(n_inputs)]
                )
                pipe = self.device.create_compute_pipeline(
                    layout=layout, compute={"module": module, "entry_point": "main"}
                )
            except Exception as exc:
                raise GPUError(f"{self.describe()}: shader compilation failed: {exc}") from exc
            self._pipelines[key] = pipe
        return pipe

    # --- dispatch geometry -------------------------------------------------------
    def groups(self, height: int, width: int,
               tile: tuple[int, int] = (WORKGROUP, WORKGROUP)) -> tuple[int, int, int]:
        """(tiles_x, groups_x, groups_y) covering ``height x width`` in ``tile`` (rows, cols) tiles.

        A plain 2-D grid when it fits the per-dimension limit, otherwise the
        tiles are numbered linearly and folded into a (groups_x, groups_y) grid.
        """
        tiles_x = -(-width // tile[1])
        tiles_y = -(-height // tile[0])
        if tiles_x <= self.max_groups and tiles_y <= self.max_groups:
            return tiles_x, tiles_x, tiles_y
        total = tiles_x * tiles_y
        gx = min(total, self.max_groups)
        gy = -(-total // gx)
        if gy > self.max_groups:
            raise GPUError(
                f"{self.describe()}: image of {width}x{height} needs too many workgroups"
            )
        return tiles_x, gx, gy

    def check_size(self, nbytes: int) -> None:
        if nbytes > self.max_binding:
            raise GPUError(
                f"{self.describe()}: a buffer of {nbytes / 2**20:.0f} MiB exceeds the adapter's "
                f"storage-buffer binding limit of {self.max_binding / 2**20:.0f} MiB"
            )

    # --- running a plan --------------------------------------------------------
    def run(self, plan: Plan, rgba: Array) -> Array:
        return self.run_samples(plan, rgba, np.float32, 4)

    def run_samples(self, plan: Plan, samples: npt.NDArray[Any], out_dtype: Any = np.float32,
                    out_channels: int | None = None) -> npt.NDArray[Any]:
        """Run ``plan`` on raw samples; convert on the GPU at both ends.

        ``samples`` (H, W[, C]) uint8, uint16, float16 or float32, C in 1, 3, 4,
        travel over the bus in their own type and are expanded to RGBA float32
        by a kernel; the result is packed to ``out_dtype`` with
        ``out_channels`` (default: the input's) by a kernel before download.
        Conversions follow :mod:`pixelpipe.samples`.
        """
        x = np.asarray(samples)
        channels = channels_of(x)
        if x.dtype == np.float64:
            x = x.astype(np.float32)
        if x.dtype not in SAMPLE_DTYPES:
            raise ParameterError(f"unsupported sample type {x.dtype}")
        out_dt = np.dtype(out_dtype)
        if out_dt not in SAMPLE_DTYPES:
            raise ParameterError(f"unsupported output sample type {out_dt}")
        out_c = channels if out_channels is None else out_channels
        if not plan.stages:
            return from_float(from_rgba(to_rgba(x), out_c), out_dt)
        x = np.ascontiguousarray(x)
        with self._lock:
            run = _RunState(self)
            try:
                self._active.run = run
                cur = self._put(x, channels, run)
                cur, size = self._record_plan(plan, cur, x.shape[:2], run)
                result = self._get(cur, size, out_dt, out_c, run)
                run.verify()
            except (GPUError, ParameterError):
                raise
            except Exception as exc:
                raise GPUError(f"{self.describe()}: {exc}") from exc
            finally:
                self._active.run = None
                run.release()
        self.kernels_dispatched = run.dispatched
        self.last_run_bytes = run.peak_bytes
        self.last_gpu_time = self._timer.read() if self._timer and run.dispatched else None
        return result

    def time_resident(self, plan: Plan, samples: npt.NDArray[Any], repeat: int = 10,
                      warmup_s: float = 0.0) -> list[float]:
        """GPU seconds of each of ``repeat`` runs of ``plan`` on data already on the device.

        The input is uploaded (and unpacked) once; the runs are then recorded
        and submitted one after another without waiting, each between its own
        pair of timestamp queries, and read back together: the GPU is fed
        continuously, as in a batch, and its clocks stay up (a GPU that idles
        between short runs lowers them). ``warmup_s`` seconds of untimed runs
        come first. Returns ``repeat`` floats (seconds). Raises
        :class:`GPUError` without timestamp queries and
        :class:`ParameterError` for ``repeat < 1`` or an empty plan.
        """
        if self._timer is None:
            raise GPUError(f"{self.describe()}: the adapter has no timestamp queries")
        if repeat < 1 or not plan.stages:
            raise ParameterError("time_resident needs repeat >= 1 and a plan with stages")
        x = np.ascontiguousarray(samples)
        with self._lock:
            setup = _RunState(self)
            saved = self._timer
            try:
                src = self._put(x, channels_of(x), setup)
                setup.flush(final=False)
                timer = _PassTimer(self.device, max(1, repeat))
                self._timer = timer
                end = time.perf_counter() + warmup_s
                while True:
                    runs = []
                    try:
                        for i in range(repeat):
                            timer.slot = i
                            run = _RunState(self)
                            runs.append(run)
                            run.keep.append(src)
                            self._active.run = run
                            self._record_plan(plan, src, x.shape[:2], run)
                            run.flush(final=True)
                        times = timer.read_all(repeat)
                        for run in runs:
                            run.verify()
                    finally:
                        self._active.run = None
                        # buffers go back only now: the runs were in flight together
                        for run in runs:
                            run.release()
                    if time.perf_counter() >= end:
                        return times
            finally:
                if self._timer is not saved:
                    self._timer.destroy()
                self._timer = saved
                setup.release()

    def _put(self, x: npt.NDArray[Any], channels: int, run: _RunState) -> Any:
        """Upload ``x`` and return the buffer holding it as RGBA float32."""
        h, w = x.shape[:2]
        self.check_size(h * w * PIXEL_BYTES)
        if x.dtype == np.float32 and channels == 4:
            buf = run.acquire(x.nbytes)
            self.staging.upload(x, buf)
            return buf
        raw = run.acquire(_round16(x.nbytes))
        self.staging.upload(x, raw)
        out = run.acquire(h * w * PIXEL_BYTES)
        body = _sample_consts(channels, x.dtype) + load_wgsl(__package__, "samples_unpack.wgsl")
        run.queue(_Dispatch(body, [raw], out, np.zeros((1, 4), np.float32), (h, w),
                                     (h, w), input_bytes=[_round16(x.nbytes)],
                                     declares_io=True))
        run.retire(raw)
        return out

    def _record_plan(self, plan: Plan, cur: Any, size: tuple[int, int],
                     run: _RunState) -> tuple[Any, tuple[int, int]]:
        """Queue every stage of ``plan`` reading ``cur``; return the result buffer and size.

        A fused pointwise stage that follows an op whose last pass takes an
        epilogue (:attr:`GpuPass.epilogue`) runs inside that pass instead of
        as a pass of its own.
        """
        stages = plan.stages
        k = 0
        while k < len(stages):
            stage = stages[k]
            k += 1
            prev = cur
            if stage.fused:
                out = run.acquire(size[0] * size[1] * PIXEL_BYTES)
                body, params = fused_shader(stage.ops)  # type: ignore[arg-type]
                run.queue(_Dispatch(body, [cur], out, params, size, size, tile=fused_tile()))
                cur = out
                run.retire(prev)
                continue
            op = stage.ops[0]
            if isinstance(op, GlobalOp):
                # the statistics kernels read everything recorded so far
                run.flush(final=False)
                on_device = op.gpu_statistics_device(self, cur, *size)
                if on_device is not None:
                    run.adopt(on_device)
                    passes = op.gpu_passes_device(size[0], size[1], on_device)
                else:
                    # read back: the GPU waits while the rest is recorded
                    stats = op.gpu_statistics(self, cur, *size)
                    if stats is None:
                        image = np.empty((size[0], size[1], 4), np.float32)
                        self.staging.download(cur, image)
                        stats = op.statistics(image)
                    passes = op.gpu_passes_with(size[0], size[1], stats)
            else:
                passes = op.gpu_passes(*size)
            if not passes:  # the op leaves this input unchanged
                continue
            chain: list[Any] = []
            if passes[-1].epilogue and k < len(stages) and stages[k].fused:
                chain = list(stages[k].ops)
                k += 1
            cur = run.add_passes(passes, cur, size, chain)  # gives ``prev`` back after use
            size = op.output_shape(*size)
        return cur, size

    def _get(self, cur: Any, size: tuple[int, int], out_dt: np.dtype[Any], channels: int,
             run: _RunState) -> npt.NDArray[Any]:
        """Pack (unless RGBA float32), submit everything and download the result."""
        h, w = size
        if out_dt == np.float32 and channels == 4:
            run.flush(final=True)
            result = np.empty((h, w, 4), np.float32)
            self.staging.download(cur, result)
            return result
        nbytes = h * w * channels * out_dt.itemsize
        cells = -(-nbytes // 16)
        grid_w = min(cells, _PACK_WIDTH)
        grid_h = -(-cells // grid_w)
        packed = run.acquire(grid_w * grid_h * 16)
        body = _sample_consts(channels, out_dt) + load_wgsl(__package__, "samples_pack.wgsl")
        run.queue(_Dispatch(body, [cur], packed, np.zeros((1, 4), np.float32), size,
                                     (grid_h, grid_w), declares_io=True))
        run.flush(final=True)
        raw = np.empty(_round16(nbytes), np.uint8)
        self.staging.download(packed, raw)
        return raw[:nbytes].view(out_dt).reshape(h, w, channels)

    def _record(self, enc: Any, d: _Dispatch, last: bool = False) -> list[Any]:
        """Record one dispatch into ``enc``; return the side buffers it borrowed.

        ``last``: the run's final dispatch (it writes the end timestamp).
        """
        u = self._wgpu.BufferUsage
        pipe = self.pipeline(d.shader, len(d.inputs), d.declares_io)
        params = np.ascontiguousarray(d.params, np.float32).reshape(-1, 4)
        if params.shape[0] == 0:
            params = np.zeros((1, 4), np.float32)
        out_h, out_w = d.out_size
        tiles_x, gx, gy = self.groups(out_h, out_w, d.tile)
        dims = np.array([d.in_size[1], d.in_size[0], out_w, out_h, tiles_x, gx, 0, 0], np.uint32)
        # dims (uniform) and params (storage) share one buffer and one write:
        # dims in the first 256 bytes (the offset alignment), params after
        block = np.zeros(_DIMS_SLOT // 4 + params.size, np.uint32)
        block[:8] = dims
        block[_DIMS_SLOT // 4:] = params.reshape(-1).view(np.uint32)
        self.check_size(block.nbytes)
        for row, _, _ in d.device_rows:
            if not 0 <= row < params.shape[0]:
                raise GPUError(f"a device parameter row {row} outside the pass's "
                               f"{params.shape[0]} rows")
        pbuf = self.pool.acquire(block.nbytes, u.STORAGE | u.UNIFORM | u.COPY_DST)
        self.device.queue.write_buffer(pbuf, 0, block)
        for row, src, offset in d.device_rows:
            # after the write above (queue writes land before this submission's
            # commands), before the pass: the statistics computed on the GPU
            enc.copy_buffer_to_buffer(src, offset, pbuf, _DIMS_SLOT + 16 * row, 16)
        entries = [
            {"binding": 0, "resource": {"buffer": d.output, "offset": 0,
                                        "size": out_h * out_w * PIXEL_BYTES}},
            {"binding": 1, "resource": {"buffer": pbuf, "offset": _DIMS_SLOT,
                                        "size": params.nbytes}},
            {"binding": 2, "resource": {"buffer": pbuf, "offset": 0, "size": dims.nbytes}},
        ] + [
            {"binding": 3 + i, "resource": {"buffer": b, "offset": 0, "size": nb}}
            for i, (b, nb) in enumerate(zip(d.inputs, d.input_bytes or [
                sz[0] * sz[1] * PIXEL_BYTES
                for sz in (d.input_sizes or [d.in_size] * len(d.inputs))], strict=True))
        ]
        bg = self.device.create_bind_group(layout=self.bind_group_layout(len(d.inputs)),
                                           entries=entries)
        cp = self.compute_pass(enc, last)
        cp.set_pipeline(pipe)
        cp.set_bind_group(0, bg)
        cp.dispatch_workgroups(gx, gy, 1)
        cp.end()
        return [pbuf]


def _last_uses(passes: list[GpuPass]) -> dict[str, int]:
    """For "in" and each pass's buffer "pN": the index of the last pass that uses it.

    A pass writing in place into "pN" uses pN's buffer; a later pass that
    reads the in-place pass reads that same buffer, so the use counts for
    every name the buffer goes by.
    """
    alias: dict[str, str] = {}  # pass name -> the name of the buffer it wrote
    last: dict[str, int] = {}
    for k, gp in enumerate(passes):
        for name in gp.inputs:
            root = alias.get(name, name)
            last[root] = k
        root = alias.get(gp.in_place, gp.in_place) if gp.in_place else f"p{k}"
        alias[f"p{k}"] = root
        last[root] = k
    return {name: last[alias.get(name, name)] for name in ("in", *alias) if
            alias.get(name, name) in last}


class _RunState:
    """Buffers and not-yet-submitted dispatches of one plan run."""

    def __init__(self, be: WgpuBackend) -> None:
        self.be = be
        self.owned: list[Any] = []
        self.pending: list[_Dispatch] = []
        self.dispatched = 0
        self.held_bytes = 0  # image buffers held now
        self.peak_bytes = 0  # the most held at once
        self.keep: list[Any] = []  # buffers that must outlive the plan (resident inputs)
        self.started = False  # a compute pass has been recorded (the first takes the start stamp)
        #: (check, MAP_READ buffer) of the run's device statistics, verified after it
        self.checks: list[tuple[Callable[[npt.NDArray[np.uint32]], None], Any]] = []

    def adopt(self, stats: DeviceStatistics) -> None:
        """Own the buffers of statistics left on the GPU; verify them after the run."""
        self.owned.extend(stats.buffers)
        if stats.check is not None:
            self.checks.append((stats.check, stats.check_buffer))

    def verify(self) -> None:
        """Run the checks of the run's device statistics (after the GPU finished).

        Raises :class:`GPUError` when one failed: the run's result is then
        not used.
        """
        for check, buf in self.checks:
            check(read_back(buf, int(buf.size)))

    def acquire(self, nbytes: int) -> Any:
        self.be.check_size(nbytes)
        buf = self.be.pool.acquire(nbytes)
        self.owned.append(buf)
        self.held_bytes += int(buf.size)
        self.peak_bytes = max(self.peak_bytes, self.held_bytes)
        return buf

    def retire(self, buf: Any) -> None:
        """Give an image buffer back to the pool once no later dispatch reads it.

        Safe before submission: commands run in recording order, so a later
        pass that reuses the buffer writes it after the last read. (Parameter
        buffers are never retired early: ``queue.write_buffer`` lands before
        the whole submission, so two passes must not share one.)
        """
        if buf in self.keep or buf not in self.owned:
            return
        self.owned.remove(buf)
        self.held_bytes -= int(buf.size)
        self.be.pool.release(buf)

    def add_passes(self, passes: list[GpuPass], op_in: Any, op_in_size: tuple[int, int],
                   chain: list[Any] | None = None) -> Any:
        """Queue an op's passes reading ``op_in``; return the buffer of the last pass's output.

        ``chain``: pointwise ops the last pass applies through its epilogue.

        Every buffer goes back to the pool after the last pass that uses it
        (``op_in`` too, when this run owns it), so the op holds only what
        its passes still need.
        """
        last_use = _last_uses(passes)
        produced: list[Any] = []
        produced_sizes: list[tuple[int, int]] = []
        for k, gp in enumerate(passes):
            if gp.out_size[0] <= 0 or gp.out_size[1] <= 0:
                raise GPUError(f"a GPU pass produces an empty image {gp.out_size}")
            if gp.in_place is not None:
                target = int(gp.in_place[1:])
                if produced_sizes[target] != gp.out_size:
                    raise GPUError(f"in-place pass {k} writes {gp.out_size} into "
                                   f"p{target} of {produced_sizes[target]}")
                out = produced[target]
            else:
                out = self.acquire(gp.out_size[0] * gp.out_size[1] * PIXEL_BYTES)
            ins = [op_in if name == "in" else produced[int(name[1:])] for name in gp.inputs]
            if out in ins:
                raise GPUError(f"pass {k} reads the buffer it writes in place")
            # dims.in_* is the size of the pass's first input (an earlier pass's
            # output may differ from the op input: separable resampling)
            in_sizes = [op_in_size if name == "in" else produced_sizes[int(name[1:])]
                        for name in gp.inputs]
            shader, params = gp.shader, gp.params
            if gp.epilogue:
                if k != len(passes) - 1:
                    raise GPUError(f"pass {k} takes an epilogue but is not the op's last")
                pr = np.asarray(params, np.float32).reshape(-1, 4)
                epi, epi_params = epilogue_source(chain or [], pr.shape[0])
                shader, params = epi + shader, np.concatenate([pr, epi_params])
            elif chain and k == len(passes) - 1:
                raise GPUError("an epilogue chain for a pass that takes none")
            self.queue(_Dispatch(shader, ins, out, params,
                                          in_sizes[0] if in_sizes else op_in_size,
                                          gp.out_size, in_sizes, tile=gp.tile,
                                          device_rows=gp.device_rows))
            produced.append(out)
            produced_sizes.append(gp.out_size)
            # retiring before submission is safe: passes run in recording order
            for name, at in last_use.items():
                if at == k and name != f"p{len(passes) - 1}":
                    buf = op_in if name == "in" else produced[int(name[1:])]
                    if buf is not produced[-1] and buf is not out:
                        self.retire(buf)
        return produced[-1]

    def queue(self, d: _Dispatch) -> None:
        """Add a dispatch; submit the earlier ones once :data:`EAGER` are waiting.

        Submitting as the plan is recorded lets the GPU start while the host
        records the rest; submitting a few at a time spares the GPU the gap
        that each submission costs. The newest dispatch stays pending, so the
        final flush always has the run's last dispatch to time.
        """
        self.pending.append(d)
        if len(self.pending) > EAGER:
            keep = self.pending.pop()
            self.flush(final=False)
            self.pending.append(keep)

    def flush(self, final: bool) -> None:
        """Record the pending dispatches into one command encoder and submit it."""
        be, timer = self.be, self.be._timer
        enc = be.device.create_command_encoder()
        last = len(self.pending) - 1
        for k, d in enumerate(self.pending):
            self.owned.extend(be._record(enc, d, final and k == last))
        self.dispatched += len(self.pending)
        if final and timer and self.dispatched:
            timer.resolve(enc)
        be.device.queue.submit([enc.finish()])
        self.pending.clear()

    def release(self) -> None:
        for b in self.owned:
            self.be.pool.release(b)
        self.owned.clear()


class _PassTimer:
    """Timestamp queries around a run's compute passes (start of the first, end of the last).

    ``slots`` runs can be timed before one read-back: run ``slot`` writes
    queries ``2 slot`` and ``2 slot + 1``.
    """

    _STRIDE = 256  # query resolve destinations must be 256-byte aligned

    def __init__(self, device: Any, slots: int = 1) -> None:
        import wgpu

        self.device = device
        self.slot = 0
        self.queries = device.create_query_set(type=wgpu.QueryType.timestamp, count=2 * slots)
        u = wgpu.BufferUsage
        size = self._STRIDE * slots
        self.resolved = device.create_buffer(size=size, usage=u.QUERY_RESOLVE | u.COPY_SRC)
        self.readback = device.create_buffer(size=size, usage=u.MAP_READ | u.COPY_DST)

    def writes(self, first: bool, last: bool) -> dict[str, Any] | None:
        if not (first or last):
            return None
        w: dict[str, Any] = {"query_set": self.queries}
        if first:
            w["beginning_of_pass_write_index"] = 2 * self.slot
        if last:
            w["end_of_pass_write_index"] = 2 * self.slot + 1
        return w

    def resolve(self, enc: Any) -> None:
        at = self._STRIDE * self.slot
        enc.resolve_query_set(self.queries, 2 * self.slot, 2, self.resolved, at)
        enc.copy_buffer_to_buffer(self.resolved, at, self.readback, at, 16)

    def destroy(self) -> None:
        self.queries.destroy()
        self.resolved.destroy()
        self.readback.destroy()

    def read(self) -> float:
        """Seconds between the two queries of slot 0."""
        return self.read_all(1)[0]

    def read_all(self, n: int) -> list[float]:
        """Seconds of slots ``0 .. n - 1`` (waits for the GPU)."""
        raw = read_back(self.readback, self._STRIDE * n, np.uint64)
        t = raw.reshape(n, self._STRIDE // 8)[:, :2]
        return [float(b - a) * 1e-9 for a, b in t]
