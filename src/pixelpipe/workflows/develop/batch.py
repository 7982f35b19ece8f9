"""Develop many files with one preset: decode, GPU and encode overlapped.

:func:`develop_files` is the batch loop of ``pixelpipe develop --batch``
(the CLI calls it, and so does the benchmark suite's W6, so both measure
the same code). Each file goes through three stages:

1. **decode** (:func:`~pixelpipe.workflows.develop.load_input`) on a pool
   of ``jobs`` threads;
2. **develop** on ONE thread that owns the device: upload, the preset's
   plan, download (:func:`~pixelpipe.workflows.develop.run_prepared`);
   files reach it as their decodes finish;
3. **encode** (:func:`write_developed`, atomic write) on the same pool.

The codecs (Pillow, tifffile, OpenEXR, LibRaw) release the GIL, so while
the device works on one file the pool decodes the next ones and encodes
finished ones. At most ``jobs + 2`` files are between the start of their
decode and the end of their encode at any time (memory bound: one decoded
input and one result per file in flight). The backend may be given as a
function that starts it: it is then started on the device thread while the
first files are decoded, and the first file's run compiles the preset's
shaders (later files reuse them). The pipeline is built once per source
colour encoding (:class:`~pixelpipe.workflows.develop.SourceColour`) for
the whole batch, not once per file.

Failures: a file that fails (:class:`~pixelpipe.errors.PixelpipeError` or
``OSError``) is reported in :attr:`BatchResult.failed`; unless
``skip_errors`` no file starts its device stage after that, and files not
yet started are counted in :attr:`BatchResult.not_run`. Any other
exception (a bug, or the backend failing to start) stops the batch and is
raised once every thread has finished.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pixelpipe.errors import OutputError, ParameterError, PixelpipeError


def device_dtype(target: Path) -> Any:
    """Sample type to quantise to on the device: uint8 for JPEG (8-bit only), else None
    (float32 pixels; the writer converts to the bit depth it chooses)."""
    from pixelpipe.io import formats

    return np.uint8 if formats.format_of(target, for_write=True) == "jpeg" else None


def write_developed(image: Any, out: Path, preset: Any, bit_depth: int | str | None,
                    quality: int | None, overwrite: bool, source: Path | None) -> Path:
    """Write a developed image, atomically; return the path written.

    ``bit_depth`` as :func:`pixelpipe.io.write` takes it (8, 16, ``"half"``,
    ``"float"``); None: the preset's ``[output] bit_depth`` where the format
    stores it, else the writer's default. ``quality`` (JPEG only; None: the
    preset's ``jpeg_quality``). A JPEG drops the alpha channel. Raises
    :class:`~pixelpipe.errors.OutputError` for ``quality`` with a format other
    than JPEG, and whatever :func:`pixelpipe.io.write` raises.
    """
    from pixelpipe import io
    from pixelpipe.io import formats

    fmt = formats.format_of(out, for_write=True)
    depth = bit_depth
    if depth is None and preset.output.bit_depth is not None:
        want = {8: ("uint", 8), 16: ("uint", 16), 32: ("float", 32)}[preset.output.bit_depth]
        if want in formats.SAMPLE_TYPES[fmt]:
            depth = 8 if want == ("uint", 8) else (16 if want == ("uint", 16) else "float")
    if fmt == "jpeg":
        if image.channels == 4:
            image = image.with_array(image.array[..., :3])
        q = quality if quality is not None else preset.output.jpeg_quality
        return io.write(out, image, bit_depth=depth, quality=q, overwrite=overwrite,
                        source=source)
    if quality is not None:
        raise OutputError(out, "--quality applies to JPEG output only")
    return io.write(out, image, bit_depth=depth, overwrite=overwrite, source=source)


@dataclass
class BatchResult:
    """What :func:`develop_files` did: inputs developed (in completion order),
    failures ``(input, message)``, and the count of files never started."""

    done: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    not_run: int = 0


def _message(f: Path, exc: BaseException) -> str | None:
    """The one-line report of a per-file failure, or None for an exception that stops all."""
    if isinstance(exc, PixelpipeError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{exc.filename or f}: {exc.strerror or exc}"
    return None


def develop_files(todo: Sequence[tuple[Path, Path]], preset: Any,
                  backend: Any | Callable[[], Any], jobs: int = 1,
                  bit_depth: int | str | None = None, quality: int | None = None,
                  overwrite: bool = False, skip_errors: bool = False,
                  on_file: Callable[[Path], None] | None = None) -> BatchResult:
    """Develop ``(input, output)`` pairs with ``preset``, overlapping codecs and the device.

    Parameters
    ----------
    todo : sequence of (Path, Path)
        Input file and output file; the output's folder is created, its
        extension gives the format (JPEG results are quantised to uint8 on
        the device, so only 8-bit samples are downloaded).
    preset : DevelopPreset
    backend : Backend, name, or callable returning a Backend
        A callable is called once, on the device thread, while the first
        files decode (start-up overlapped with decoding); what it raises
        stops the batch and is raised here.
    jobs : int
        Threads decoding and encoding files (>= 1; else
        :class:`~pixelpipe.errors.ParameterError`); the device stage has its
        own thread.
    bit_depth, quality, overwrite
        As :func:`write_developed`.
    skip_errors : bool
        Go on after a failing file (else no file starts its device stage after
        the first failure).
    on_file : callable, optional
        Called with each input as it completes (developed, failed or not run),
        from the calling thread.

    Returns
    -------
    BatchResult
    """
    from pixelpipe.workflows.develop import build_pipeline, load_input, run_prepared

    if jobs < 1:
        raise ParameterError(f"develop_files: jobs must be >= 1, got {jobs}")
    result = BatchResult()
    if not todo:
        return result
    stop = threading.Event()
    slots = threading.Semaphore(jobs + 2)  # files between decode start and encode end
    outcomes: queue.Queue[tuple[Path, str, str | None]] = queue.Queue()
    to_device: queue.Queue[tuple[Path, Path, Any, Any] | None] = queue.Queue()
    fatal: list[BaseException] = []
    wb = preset.white_balance.as_shot

    def finish(f: Path, kind: str, why: str | None = None) -> None:
        if kind != "done":
            if kind == "failed" and not skip_errors:
                stop.set()
        slots.release()
        outcomes.put((f, kind, why))

    def fail(f: Path, exc: BaseException) -> None:
        why = _message(f, exc)
        if why is None:  # not a per-file failure: stop everything, raise it at the end
            fatal.append(exc)
            stop.set()
            finish(f, "not_run")
        else:
            finish(f, "failed", why)

    def decode(f: Path, target: Path) -> None:
        if stop.is_set():
            finish(f, "not_run")
            return
        try:
            prepared, source = load_input(f, wb)
        except BaseException as exc:
            fail(f, exc)
            return
        to_device.put((f, target, prepared, source))

    def encode(f: Path, target: Path, img: Any) -> None:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            write_developed(img, target, preset, bit_depth, quality, overwrite, f)
        except BaseException as exc:
            fail(f, exc)
            return
        finish(f, "done")

    def device_loop(pool: ThreadPoolExecutor) -> None:
        be: Any = backend
        if callable(backend):  # start-up runs while the pool decodes the first files
            try:
                be = backend()
            except BaseException as exc:
                fatal.append(exc)
                stop.set()
        pipelines: dict[Any, Any] = {}
        while True:
            item = to_device.get()
            if item is None:
                return
            f, target, prepared, source = item
            if stop.is_set():
                finish(f, "not_run")
                continue
            try:
                pipe = pipelines.get(source)
                if pipe is None:
                    pipe = pipelines[source] = build_pipeline(preset, source)
                img = run_prepared(prepared, source, preset, be, device_dtype(target),
                                   pipeline=pipe)
            except BaseException as exc:
                fail(f, exc)
                continue
            del prepared
            pool.submit(encode, f, target, img)

    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="develop-codec") as pool:
        device = threading.Thread(target=device_loop, args=(pool,), name="develop-device",
                                  daemon=True)
        device.start()

        def feed() -> None:
            for f, target in todo:
                slots.acquire()
                if stop.is_set():
                    finish(f, "not_run")
                    continue
                pool.submit(decode, f, target)

        feeder = threading.Thread(target=feed, name="develop-feed", daemon=True)
        feeder.start()
        try:
            for _ in range(len(todo)):
                f, kind, why = outcomes.get()
                if kind == "done":
                    result.done.append(f)
                elif kind == "failed":
                    result.failed.append((f, why or ""))
                else:
                    result.not_run += 1
                if on_file is not None:
                    on_file(f)
        finally:
            stop.set()  # after an interruption: whatever is queued is not started
            feeder.join()
            to_device.put(None)
            device.join()
    if fatal:
        raise fatal[0]
    return result
