"""Dask: pipelines over Dask arrays, and batches of files over a ``dask.distributed`` cluster.

:func:`apply` — a Dask array in, a Dask array out. Each tileable segment of
the plan (:func:`pixelpipe.exec.tiled.segments`) becomes one
``map_overlap`` with ``depth = halo`` on the two image axes and
``boundary="none"``: Dask adds ``halo`` real pixels on interior chunk sides
and nothing at the array's border, where each op applies its own edge mode
(exactly as the tiled executor does); the function cuts away what was added
(``trim=False``, the cut is ours), so every output pixel equals the
single-image result — bit for bit on the cpu backend. Segments with edge
mode ``wrap`` use ``boundary="periodic"``. Position-dependent ops (grain,
vignette) get the chunk's place in the full array. Geometry and global ops
need the whole image: :class:`~pixelpipe.errors.PipelineError` (compute the
array and use :meth:`Pipeline.run`, or run them before/after).

:func:`batch` — many files through a pipeline or a workflow on a
``distributed.Client`` (or locally): one task per file, run in the worker
with ``backend="auto"`` (each worker process opens its own WebGPU device:
the adapter ``PIXELPIPE_ADAPTER`` names in that worker's environment; else,
on a host with several GPUs, worker k takes GPU k modulo their number; else
the best hardware adapter, else the CPU); a failing file is recorded with its
error and the others go on; a progress bar (rich) or a callback shows files
done. Requires ``pip install "pixelpipe[dask]"``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pixelpipe.errors import ParameterError, PipelineError, PixelpipeError


def _dask_array() -> Any:
    try:
        import dask.array as da
    except ImportError:
        raise PipelineError('pixelpipe.dask needs Dask: pip install "pixelpipe[dask]"') from None
    return da


# --- one GPU per worker --------------------------------------------------------
def spread_adapter(worker_name: Any, hardware: list[int]) -> int | None:
    """The adapter index a worker takes so that workers spread over the GPUs.

    ``hardware``: indices of the hardware adapters seen by the worker (one per
    GPU and graphics API: indices of distinct devices). Worker ``k`` (a
    LocalCluster names its workers 0, 1, …; other names are hashed
    stably) takes ``hardware[k % len(hardware)]``; None with fewer than two.
    """
    if len(hardware) < 2:
        return None
    if isinstance(worker_name, int) or str(worker_name).isdigit():
        k = int(worker_name)
    else:
        import zlib

        k = zlib.crc32(str(worker_name).encode())
    return hardware[k % len(hardware)]


def worker_backend(backend: str) -> Any:
    """The backend for a task: in a Dask worker on a host with several GPUs and no
    ``PIXELPIPE_ADAPTER``, each worker takes its own GPU (:func:`spread_adapter`)."""
    import os

    from pixelpipe.backends import get_backend

    if backend in ("auto", "wgpu") and not os.environ.get("PIXELPIPE_ADAPTER"):
        try:
            from distributed import get_worker

            name = get_worker().name
        except (ImportError, ValueError):
            name = None
        if name is not None:
            from pixelpipe.backends.wgpu.device import enumerate_adapters
            from pixelpipe.errors import BackendUnavailable

            try:
                infos = [i for _, i in enumerate_adapters()]
            except BackendUnavailable:
                infos = []
            # one entry per physical GPU: the adapters of one graphics API
            hw = [i for i in infos if not i["software"]]
            one_api = ([i for i in hw if i["backend"] == "Vulkan"]
                       or [i for i in hw if i["backend"] in ("Metal", "D3D12")] or hw)
            pick = spread_adapter(name, [i["index"] for i in one_api])
            if pick is not None:
                return get_backend(backend, adapter=str(pick))
    return get_backend(backend)


# --- arrays ---------------------------------------------------------------------
def _segment_block(block: Any, seg: Any, backend: str, halo: int, periodic: bool,
                   grid: tuple[tuple[int, ...], ...], full: tuple[int, int],
                   block_info: dict[Any, Any] | None = None) -> Any:
    from pixelpipe.exec.tiled import run_region

    assert block_info is not None
    iy, ix = block_info[0]["chunk-location"][:2]
    y0, x0 = sum(grid[0][:iy]), sum(grid[1][:ix])
    ch, cw = grid[0][iy], grid[1][ix]
    top = halo if (periodic or iy > 0) else 0
    left = halo if (periodic or ix > 0) else 0
    if block.shape[0] < top + ch or block.shape[1] < left + cw:
        raise PipelineError(f"Dask block {block.shape} smaller than its chunk and halo")
    region = (y0 - top, y0 - top + block.shape[0], x0 - left, x0 - left + block.shape[1])
    out = run_region(seg.ops, worker_backend(backend), np.ascontiguousarray(block, np.float32),
                     region, full, np.float32, 4)
    return out[top:top + ch, left:left + cw]


def _at_least(chunks: tuple[int, ...], size: int) -> tuple[int, ...]:
    """Chunks of the same total, each at least ``size`` (the last absorbs the remainder)."""
    total = sum(chunks)
    step = max(size, max(chunks))
    n = max(1, total // step)
    return (step,) * (n - 1) + (total - step * (n - 1),)


def apply(pipeline: Any, array: Any, backend: str = "auto") -> Any:
    """Run ``pipeline`` (Pipeline or Plan) on a Dask array, lazily.

    Parameters
    ----------
    array : dask.array.Array, (H, W) or (H, W, C), C in {1, 3, 4}
        uint8 / uint16 (scaled to [0, 1]) or float samples, any chunking of
        the two image axes (the channel axis is made one chunk).
    backend : str
        ``"auto"``, ``"cpu"`` or ``"wgpu"``, resolved in each worker.

    Returns
    -------
    dask.array.Array
        float32, the input's shape; equal to ``pipeline.run(array.compute())``.

    Raises
    ------
    PipelineError
        For geometry or global ops (they need the whole image), or without Dask.
    ParameterError
        For an array of the wrong shape.
    """
    from pixelpipe.exec.tiled import segments
    from pixelpipe.samples import from_rgba, to_rgba

    da = _dask_array()
    p = pipeline.plan() if hasattr(pipeline, "plan") else pipeline
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
        raise ParameterError(f"pixelpipe.dask.apply: array of shape {array.shape}; expected "
                             "(H, W) or (H, W, C) with C in 1, 3, 4")
    grey = array.ndim == 2
    x = array[:, :, None] if grey else array
    channels = x.shape[2]
    x = x.rechunk({2: -1})
    x = x.map_blocks(to_rgba, dtype=np.float32, chunks=(x.chunks[0], x.chunks[1], (4,)))
    full = (int(x.shape[0]), int(x.shape[1]))
    for seg in segments(p):
        if not seg.tiled:
            op = seg.ops[0]
            raise PipelineError(f"pixelpipe.dask.apply: op {op.op_name!r} ({op.kind.value}) "
                                "needs the whole image; compute the array and use "
                                "Pipeline.run for it")
        halo = seg.halo
        if halo:
            # every chunk must hold the halo its neighbours read
            small = [ax for ax in (0, 1) if min(x.chunks[ax]) < halo]
            if small:
                x = x.rechunk({ax: _at_least(x.chunks[ax], halo) for ax in small})
        chunks = x.chunks
        x = da.map_overlap(
            _segment_block, x, depth={0: halo, 1: halo, 2: 0},
            boundary="periodic" if seg.periodic else "none", trim=False,
            dtype=np.float32, chunks=chunks, seg=seg, backend=backend, halo=halo,
            periodic=seg.periodic, grid=chunks, full=full,
        )
    out = x.map_blocks(from_rgba, channels, dtype=np.float32,
                       chunks=(x.chunks[0], x.chunks[1], (channels,)))
    return out[:, :, 0] if grey else out


# --- batches of files -------------------------------------------------------------
@dataclass
class FileResult:
    """What happened to one input of :func:`batch`."""

    input: str
    output: str | None  #: the written file, None on failure
    error: str | None = None  #: one line naming the file and the problem
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


def _run_one(job: Any, path: str, out_dir: str, suffix: str | None, backend: str,
             bit_depth: Any, overwrite: bool, memory_limit: int | None,
             tile_size: int | None) -> FileResult:
    """Process one file in a worker (or locally); never raises for a bad file."""
    import time

    t0 = time.perf_counter()
    src = Path(path)
    dst = Path(out_dir) / (src.stem + (suffix or src.suffix))
    try:
        be = worker_backend(backend)
        if hasattr(job, "plan"):
            from pixelpipe.exec.files import apply_file

            written, _ = apply_file(job, src, dst, be, memory_limit, tile_size, bit_depth,
                                    overwrite)
        else:
            from pixelpipe import io

            image = job(src, be)
            if isinstance(image, str | Path):  # the job wrote its own output
                written = Path(image)
            else:
                written = Path(io.write(dst, image, bit_depth=bit_depth, overwrite=overwrite,
                                        source=src))
        return FileResult(path, str(written), None, time.perf_counter() - t0)
    except PixelpipeError as exc:
        return FileResult(path, None, " ".join(str(exc).split()), time.perf_counter() - t0)
    except Exception as exc:  # a bug must not stop the batch either; keep its type
        return FileResult(path, None, f"{path}: internal error: {type(exc).__name__}: {exc}",
                          time.perf_counter() - t0)


def _progress_bar(total: int) -> tuple[Callable[[FileResult], None], Callable[[], None]]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    bar = Progress("[progress.description]{task.description}", BarColumn(),
                   MofNCompleteColumn(), TimeRemainingColumn(), transient=True,
                   disable=not sys.stderr.isatty())
    bar.start()
    task = bar.add_task("files", total=total)

    def step(r: FileResult) -> None:
        bar.advance(task)  # failures are in the results: the caller reports them once

    return step, bar.stop


def _collect(fut: Any, path: str) -> FileResult:
    """The :class:`FileResult` of a finished future, or a per-file error when the task
    itself failed (worker died: ``KilledWorker``; cancelled; lost; not picklable)."""
    try:
        r = fut.result()
    except BaseException as exc:  # CancelledError is not an Exception
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        why = " ".join(str(exc).split()) or "no message"
        return FileResult(path, None, f"{path}: task failed on the cluster: "
                          f"{type(exc).__name__}: {why}")
    if not isinstance(r, FileResult):
        return FileResult(path, None, f"{path}: task returned {type(r).__name__}, "
                          "not a FileResult")
    return r


def batch(pipeline_or_workflow: Any, inputs: Iterable[str | Path], out_dir: str | Path,
          client: Any = None, backend: str = "auto", suffix: str | None = None,
          bit_depth: Any = None, overwrite: bool = False, memory_limit: int | None = None,
          tile_size: int | None = None,
          progress: bool | Callable[[FileResult], None] = True) -> list[FileResult]:
    """Run a pipeline or workflow over files, on a Dask cluster when ``client`` is given.

    Parameters
    ----------
    pipeline_or_workflow : Pipeline, or callable ``(path, backend) -> Image``
        A pipeline runs through :func:`pixelpipe.exec.files.apply_file`
        (strategy per file: single, tiled or streaming); a callable (e.g. a
        workflow bound to its preset, picklable) returns the image to write,
        or the path of the file it wrote itself.
    inputs : paths
        Files to process; each writes ``out_dir / (stem + suffix)``
        (``suffix`` default: the input's).
    client : distributed.Client or None
        None runs the files one after the other in this process.
    backend : str
        Resolved in each worker: ``"auto"`` takes that worker's GPU.
    progress : bool or callable
        True: a rich progress bar on stderr (when it is a terminal) and one
        line per failure; a callable gets each :class:`FileResult` as it
        completes.

    Returns
    -------
    list of FileResult
        In input order; failures carry their error, the others their output.
        A task that fails on the cluster itself (its worker process died and
        the scheduler gave up on it — ``distributed.scheduler.allowed-failures``
        retries, default 3 —, or it was cancelled or lost) is a failure of that
        file only: its result carries the error and the other files' results
        are kept.
    """
    paths = [str(p) for p in inputs]
    out = Path(out_dir)
    if not out.is_dir():
        raise ParameterError(f"{out}: output folder does not exist")
    args = (str(out), suffix, backend, bit_depth, overwrite, memory_limit, tile_size)
    if callable(progress):
        step, stop = progress, (lambda: None)
    elif progress:
        step, stop = _progress_bar(len(paths))
    else:
        step, stop = (lambda r: None), (lambda: None)
    results: dict[str, FileResult] = {}
    try:
        if client is None:
            for p in paths:
                r = _run_one(pipeline_or_workflow, p, *args)
                results[p] = r
                step(r)
        else:
            from distributed import as_completed

            job = client.scatter(pipeline_or_workflow, broadcast=True)
            futures = [client.submit(_run_one, job, p, *args, pure=False, key=f"pixelpipe-{i}")
                       for i, p in enumerate(paths)]
            owner = {fut.key: p for fut, p in zip(futures, paths, strict=True)}
            for fut in as_completed(futures):
                r = _collect(fut, owner[fut.key])
                results[r.input] = r
                step(r)
    finally:
        stop()
    return [results[p] for p in paths]


def client_for(scheduler: str | None = None, dask_local: str | None = None) -> Any:
    """A ``distributed.Client`` for ``--scheduler tcp://HOST:PORT`` or ``--dask local:N``.

    ``local:N`` starts a LocalCluster of N worker processes, one thread each.
    Returns None when neither is given. Raises :class:`ParameterError` for a
    malformed value, :class:`PipelineError` when Dask is not installed.
    """
    if scheduler is None and dask_local is None:
        return None
    if scheduler is not None and dask_local is not None:
        raise ParameterError("give either --scheduler or --dask, not both")
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise PipelineError('Dask clusters need: pip install "pixelpipe[dask]"') from None
    if scheduler is not None:
        if "://" not in scheduler:
            raise ParameterError(f"--scheduler {scheduler!r}: expected tcp://HOST:PORT")
        try:
            return Client(scheduler, timeout=30)
        except OSError as exc:
            raise ParameterError(f"--scheduler {scheduler}: cannot connect: {exc}") from None
    assert dask_local is not None
    kind, _, n = dask_local.partition(":")
    if kind != "local" or not n.isdigit() or int(n) < 1:
        raise ParameterError(f"--dask {dask_local!r}: expected local:N with N >= 1")
    cluster = LocalCluster(n_workers=int(n), threads_per_worker=1, processes=True,
                           dashboard_address=":0")
    return Client(cluster)


__all__ = ["FileResult", "apply", "batch", "client_for"]
