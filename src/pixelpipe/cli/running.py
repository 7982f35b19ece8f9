"""``pixelpipe apply`` and ``pixelpipe demo``: read, run a pipeline, write.

Order of work, so that bad input fails before anything slow and nothing is
written unless everything succeeded:

1. check the paths (input exists; output is neither the input nor an
   existing file unless ``--overwrite``; output folder exists) and that the
   output format can take the asked ``--bit-depth``;
2. build the pipeline (``--pipeline`` TOML or ``--op`` strings);
3. start the backend;
4. read the input; only then print the ``--backend auto`` fallback notice,
   so that a bad input file is the one line on stderr;
5. run the plan and write the output (the writer writes to a temporary
   file and renames it into place, so a failure leaves no partial output).
"""

from __future__ import annotations

import enum
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Annotated

import typer
from rich.console import Console
from rich.status import Status

from pixelpipe.backends.base import Backend
from pixelpipe.cli.errors import UsageProblem
from pixelpipe.errors import BackendUnavailable, InputError, OutputError
from pixelpipe.pipeline import Pipeline

#: Name printed before each stderr line.
PROG = "pixelpipe"
#: The bundled demo pipeline (cdl -> lut3d -> resize), beside the bundled LUT.
DEMO_PIPELINE = "demo.toml"
#: Default output of ``pixelpipe demo``, in the current folder.
DEMO_OUTPUT = "pixelpipe-demo.png"
#: Seconds of work before the progress spinner appears.
SPINNER_DELAY_S = 1.0


class BackendName(enum.StrEnum):
    """Values of ``--backend``."""

    auto = "auto"
    cpu = "cpu"
    wgpu = "wgpu"


class BitDepth(enum.StrEnum):
    """Values of ``--bit-depth`` (``32`` is the same as ``float``)."""

    b8 = "8"
    b16 = "16"
    half = "half"
    float = "float"
    b32 = "32"


def writer_bit_depth(value: BitDepth | None) -> int | str | None:
    """``--bit-depth`` as :func:`pixelpipe.io.write` takes it: 8, 16, ``"half"``, ``"float"``."""
    if value is None:
        return None
    table: dict[str, int | str] = {"8": 8, "16": 16, "half": "half", "float": "float",
                                   "32": "float"}
    return table[value.value]


#: ``--bit-depth`` -> (sample type, bits), as :data:`pixelpipe.io.formats.SAMPLE_TYPES` names them.
_SAMPLE_TYPES: dict[str, tuple[str, int]] = {
    "8": ("uint", 8), "16": ("uint", 16), "half": ("half", 16), "float": ("float", 32),
    "32": ("float", 32),
}


def check_output_format(output_path: Path, bit_depth: BitDepth | None) -> None:
    """Refuse, before any work, an output extension or bit depth the writer cannot take.

    Raises :class:`OutputError` naming the file: unknown extension, or a
    ``--bit-depth`` the format cannot store (e.g. ``float`` to PNG).
    """
    from pixelpipe.io import formats

    fmt = formats.format_of(output_path, for_write=True)
    if bit_depth is None:
        return
    allowed = formats.SAMPLE_TYPES.get(fmt, ())
    if _SAMPLE_TYPES[bit_depth.value] not in allowed:
        names = ", ".join(k for k, v in _SAMPLE_TYPES.items() if v in allowed and k != "32")
        raise OutputError(output_path, f"{fmt.upper()} cannot store --bit-depth "
                          f"{bit_depth.value}; it stores: {names}")


def start_backend(backend: str, adapter: str | None) -> tuple[Backend, str | None]:
    """The backend to run on, and the notice to print if ``auto`` fell back to the CPU.

    Same choice as :func:`pixelpipe.backends.get_backend`: ``auto`` takes
    WebGPU (a hardware adapter, or the one ``adapter`` / ``PIXELPIPE_ADAPTER``
    names) and otherwise the CPU. The notice is returned rather than printed
    so that a later error in the input file stays the only line on stderr.
    Raises :class:`~pixelpipe.errors.BackendUnavailable` for a named backend
    that cannot start.
    """
    from pixelpipe.backends import get_backend

    if backend == "auto":
        try:
            return get_backend("wgpu", adapter), None
        except BackendUnavailable as exc:
            return get_backend("cpu"), f"{PROG}: no GPU backend ({exc}); running on the CPU"
    return get_backend(backend, adapter), None


# --- progress ---------------------------------------------------------------
class Activity:
    """A rich spinner on stderr that appears only once work has taken longer than a second.

    Nothing is drawn when stderr is not a terminal (pipes, logs, tests).
    """

    def __init__(self, message: str, delay_s: float = SPINNER_DELAY_S) -> None:
        self._console = Console(stderr=True)
        self._message = message
        self._delay = delay_s
        self._lock = threading.Lock()
        self._status: Status | None = None
        self._timer: threading.Timer | None = None
        self._closed = False

    def __enter__(self) -> Activity:
        if self._console.is_terminal:
            self._timer = threading.Timer(self._delay, self._show)
            self._timer.daemon = True
            self._timer.start()
        return self

    def _show(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._status = Status(self._message, console=self._console, spinner="dots")
            self._status.start()

    def update(self, message: str) -> None:
        """Change the spinner's text (shown now if the spinner is up, else when it appears)."""
        with self._lock:
            self._message = message
            if self._status is not None:
                self._status.update(message)

    def say(self, text: str) -> None:
        """Print a line on stderr, above the spinner if it is up."""
        with self._lock:
            if self._status is not None:
                self._console.print(text, soft_wrap=True, markup=False, highlight=False)
                return
        print(text, file=sys.stderr)

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            self._closed = True
            if self._status is not None:
                self._status.stop()
                self._status = None


@contextmanager
def _timed(timings: list[tuple[str, float]], what: str) -> Iterator[None]:
    t0 = time.perf_counter()
    yield
    timings.append((what, time.perf_counter() - t0))


def _say(text: str) -> None:
    print(text, file=sys.stderr)


# --- checks -------------------------------------------------------------------
def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def check_paths(input_path: Path, output_path: Path, overwrite: bool, *,
                input_replaceable: bool = True) -> None:
    """Refuse, before any work, what would fail or destroy data.

    The output may be the input file itself only with ``overwrite`` (and
    ``input_replaceable``, False where the input is not the user's, as for
    the demo's bundled sample); the writer then replaces it atomically
    (temporary file renamed into place) after the input has been read.

    Raises :class:`InputError` (input missing or not a file) or
    :class:`OutputError` (output is the input without ``overwrite``, exists
    without ``overwrite``, is a folder, or its folder does not exist).
    """
    if not input_path.exists():
        raise InputError(input_path, "no such file")
    if not input_path.is_file():
        raise InputError(input_path, "not a file")
    if _same_file(input_path, output_path):
        if not input_replaceable:
            raise OutputError(output_path, "is the input file; choose another output path")
        if not overwrite:
            raise OutputError(output_path, "is the input file; pass --overwrite to replace it")
    if output_path.is_dir():
        raise OutputError(output_path, "is a folder; give a file name")
    if output_path.exists() and not overwrite:
        raise OutputError(output_path, "already exists; pass --overwrite to replace it")
    parent = output_path.parent
    if not parent.is_dir():
        raise OutputError(output_path, f"folder {str(parent)!r} does not exist")


def run_file(
    input_path: Path,
    output_path: Path,
    pipeline: Pipeline,
    backend: str,
    adapter: str | None,
    bit_depth: BitDepth | None,
    overwrite: bool,
    verbose: bool,
    tile_size: int | None = None,
    memory_limit: str | None = None,
) -> Path:
    """Read ``input_path``, run ``pipeline`` on ``backend``, write ``output_path``.

    ``tile_size`` (pixels) and ``memory_limit`` (``"4GB"``) steer the
    strategy (:func:`pixelpipe.exec.choose`): an image that does not fit
    the device or the budget runs tiled or streamed
    (:func:`pixelpipe.exec.files.apply_file`).

    Returns the written path. Paths must have passed :func:`check_paths` and
    :func:`check_output_format`. The input is read before the ``auto``
    fallback notice is printed, so a bad input file gives one line only.
    Errors: whatever :mod:`pixelpipe.io` and the backend raise
    (:class:`~pixelpipe.errors.PixelpipeError` subclasses for bad input).
    """
    from pixelpipe import io

    timings: list[tuple[str, float]] = []
    plan = pipeline.plan()
    with Activity(f"starting the {backend} backend") as activity:
        with _timed(timings, "backend start"):
            be, notice = start_backend(backend, adapter)
        if verbose:
            activity.say(f"{PROG}: backend: {be.describe()}")
            activity.say(f"{PROG}: plan:")
            for line in plan.describe().splitlines():
                activity.say(f"  {line}")
        from pixelpipe.exec import choose, parse_size
        from pixelpipe.exec.files import apply_file

        limit = parse_size(memory_limit, "--memory-limit") if memory_limit else None
        head = io.info(input_path)
        choice = choose(plan, head.height, head.width, be, limit, tile_size, in_memory=False,
                        source_pixel_bytes=max(1, head.channels) * max(1, head.bit_depth // 8))
        if choice.strategy != "single":
            activity.update(f"running {len(pipeline)} op(s) on {be.describe()}, "
                            f"{choice.strategy}")
            with _timed(timings, "run"):
                written_path, _ = apply_file(
                    pipeline, input_path, output_path, be, limit, tile_size,
                    writer_bit_depth(bit_depth), overwrite,
                    log=(lambda t: activity.say(f"{PROG}: {t}")) if verbose else None)
            if notice:
                activity.say(notice)
            return written_path
        if verbose:
            activity.say(f"{PROG}: {choice.describe()}")
        activity.update(f"reading {input_path}")
        with _timed(timings, "read"):
            image = io.read(input_path)
        if verbose:
            oh, ow = plan.output_shape(image.height, image.width)
            activity.say(f"{PROG}: input {image.width}x{image.height}, {image.channels} channel(s)"
                 f" -> output {ow}x{oh}")
        if notice:
            activity.say(notice)
        activity.update(f"running {len(pipeline)} op(s) on {be.describe()}")
        with _timed(timings, "run"):
            result = pipeline.run(image, backend=be)
        activity.update(f"writing {output_path}")
        with _timed(timings, "write"):
            written = io.write(output_path, result, bit_depth=writer_bit_depth(bit_depth),
                               overwrite=overwrite, source=input_path)
    if verbose:
        total = sum(t for _, t in timings)
        parts = ", ".join(f"{what} {t * 1e3:.1f} ms" for what, t in timings)
        _say(f"{PROG}: timings: {parts}; total {total * 1e3:.1f} ms")
        gpu_time = getattr(be, "last_gpu_time", None)  # WebGPU timestamp queries, if any
        if isinstance(gpu_time, float):
            _say(f"{PROG}: GPU time of the compute passes: {gpu_time * 1e3:.2f} ms")
    return Path(written)


# --- commands -----------------------------------------------------------------
BackendOpt = Annotated[
    BackendName,
    typer.Option("--backend", "-b", case_sensitive=False,
                 help="Where to run: auto (a hardware GPU adapter if there is one, else the "
                      "CPU with a notice), cpu (NumPy reference) or wgpu (WebGPU; an error "
                      "if it cannot start)."),
]
AdapterOpt = Annotated[
    str | None,
    typer.Option("--adapter", "-a", metavar="NAME",
                  help="WebGPU adapter: index or case-insensitive part of its name, vendor or "
                       "backend (see 'pixelpipe backends'); may pick a software adapter such "
                       "as llvmpipe. Default: PIXELPIPE_ADAPTER, else the best hardware one."),
]
VerboseOpt = Annotated[
    bool,
    typer.Option("--verbose", "-v",
                 help="Print the plan, the backend and timings on stderr."),
]


def apply(
    input_path: Annotated[
        Path, typer.Argument(metavar="IN", show_default=False,
                             help="Input image (PNG, JPEG, TIFF, EXR ...).")],
    output: Annotated[
        Path, typer.Option("--output", "-o", metavar="OUT", show_default=False,
                           help="Output image; the format follows the extension.")],
    pipeline: Annotated[
        Path | None,
        typer.Option("--pipeline", "-p", metavar="FILE.toml",
                     help="Pipeline file: [[ops]] tables, each with op = \"name\" and its "
                          "parameters; relative paths inside resolve against its folder."),
    ] = None,
    op: Annotated[
        list[str] | None,
        typer.Option("--op", metavar="\"NAME k=v ...\"",
                     help="One op and its parameters, e.g. \"cdl slope=1.1,1,0.9 "
                          "power=1,1.1,0.95\"; repeat for a chain (applied in order). "
                          "Lists are comma-separated. See 'pixelpipe ops NAME'."),
    ] = None,
    backend: BackendOpt = BackendName.auto,
    adapter: AdapterOpt = None,
    bit_depth: Annotated[
        BitDepth | None,
        typer.Option("--bit-depth", "-d", case_sensitive=False,
                     help="Output sample type: 8 or 16 (unsigned integers), half (float16), "
                          "float or 32 (float32). Default: the source's, where the output "
                          "format can hold it."),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace OUT if it exists.")] = False,
    verbose: VerboseOpt = False,
    tile_size: Annotated[
        int | None,
        typer.Option("--tile-size", metavar="N", min=1,
                     help="Run tile by tile with N x N pixel tiles (plus the plan's halo). "
                          "Default: single pass when the image fits the device and the "
                          "memory limit, else tiles sized from the adapter's limits."),
    ] = None,
    memory_limit: Annotated[
        str | None,
        typer.Option("--memory-limit", metavar="SIZE",
                     help="Memory budget, e.g. 4GB or 512MiB; an image that does not fit "
                          "it is streamed (TIFF/EXR in, tiled BigTIFF or EXR out). Default: "
                          "PIXELPIPE_MEMORY_LIMIT, else half the available memory."),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", metavar="tcp://HOST:PORT",
                     help="Folder input: run the files on this Dask scheduler."),
    ] = None,
    dask_local: Annotated[
        str | None,
        typer.Option("--dask", metavar="local:N",
                     help="Folder input: run the files on a local Dask cluster of N "
                          "worker processes."),
    ] = None,
) -> None:
    """Apply a pipeline of catalogue ops to an image, or to every image in a folder.

    When IN is a folder, OUT (-o) is a folder too (created if missing) and
    each image is written there under its own name; a file that fails is
    reported and the others go on (exit status 2 if any failed).

    Give the pipeline either as a TOML file (--pipeline) or as one or more
    --op strings. Nothing is written unless every step succeeds. OUT may be
    the input file only with --overwrite: it is then replaced once the
    result is complete.

    \b
    Examples:
      pixelpipe apply photo.jpg -o out.png --op "exposure stops=0.5"
      pixelpipe apply in.exr -o out.tiff --bit-depth 16 --pipeline look.toml
      pixelpipe apply in.png -o out.tiff --backend wgpu --adapter llvmpipe \\
          --op "cdl slope=1.1,1,0.9 power=1,1.1,0.95" --op "resize width=512"
    """
    ops = list(op or [])
    if pipeline is not None and ops:
        raise UsageProblem("apply: give either --pipeline or --op, not both")
    if pipeline is None and not ops:
        raise UsageProblem("apply: give a pipeline: --pipeline FILE.toml or one or more --op")
    if adapter is not None and backend == BackendName.cpu:
        raise UsageProblem("apply: --adapter selects a WebGPU adapter; it does not apply to "
                               "--backend cpu")
    if input_path.is_dir():
        pipe = Pipeline.from_toml(pipeline) if pipeline is not None else Pipeline.from_strings(ops)
        apply_folder(input_path, output, pipe, backend.value, bit_depth, overwrite, verbose,
                     tile_size, memory_limit, scheduler, dask_local, adapter)
        return
    if scheduler is not None or dask_local is not None:
        raise UsageProblem("apply: --scheduler and --dask apply to a folder IN")
    check_paths(input_path, output, overwrite)
    check_output_format(output, bit_depth)
    pipe = Pipeline.from_toml(pipeline) if pipeline is not None else Pipeline.from_strings(ops)
    run_file(input_path, output, pipe, backend.value, adapter, bit_depth, overwrite, verbose,
             tile_size, memory_limit)


#: Extensions ``apply`` picks up in a folder IN.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".exr")


def apply_folder(folder: Path, out_dir: Path, pipe: Pipeline, backend: str,
                 bit_depth: BitDepth | None, overwrite: bool, verbose: bool,
                 tile_size: int | None, memory_limit: str | None, scheduler: str | None,
                 dask_local: str | None, adapter: str | None = None) -> None:
    """``apply`` over every image of ``folder`` (see :func:`pixelpipe.dask.batch`).

    ``adapter`` reaches the workers through ``PIXELPIPE_ADAPTER``: in this
    process and in the worker processes of ``--dask local:N``; workers of a
    remote ``--scheduler`` read their own environment.
    """
    from pixelpipe import dask as pdask
    from pixelpipe.exec import parse_size

    if (out_dir.exists() and not out_dir.is_dir()) or out_dir.suffix.lower() in IMAGE_SUFFIXES:
        raise OutputError(out_dir, f"IN {str(folder)!r} is a folder, not a file: -o must name "
                          "an output folder, not an image file")
    files = sorted(p for p in folder.iterdir()
                   if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise InputError(folder, "folder holds no images (" + ", ".join(IMAGE_SUFFIXES) + ")")
    if _same_file(folder, out_dir):
        raise OutputError(out_dir, "is the input folder; choose another output folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    limit = parse_size(memory_limit, "--memory-limit") if memory_limit else None
    if adapter is not None:
        os.environ["PIXELPIPE_ADAPTER"] = adapter  # before local workers start
    client = pdask.client_for(scheduler, dask_local)
    try:
        if verbose and client is not None:
            _say(f"{PROG}: Dask scheduler {client.scheduler.address}, "
                 f"{len(client.scheduler_info()['workers'])} worker(s)")
        results = pdask.batch(pipe, files, out_dir, client=client, backend=backend,
                              bit_depth=writer_bit_depth(bit_depth), overwrite=overwrite,
                              memory_limit=limit, tile_size=tile_size)
    finally:
        if client is not None:
            client.close()
    failed = [r for r in results if not r.ok]
    _say(f"{PROG}: {len(results) - len(failed)} of {len(results)} file(s) written to {out_dir}"
         + (f", {len(failed)} failed" if failed else ""))
    if failed:
        for r in failed:
            _say(f"{PROG}: failed: {r.error}")
        raise typer.Exit(2)


def demo_pipeline_path() -> Path:
    """Path of the bundled demo pipeline (``pixelpipe/data/demo.toml``)."""
    return Path(str(resources.files("pixelpipe").joinpath("data", DEMO_PIPELINE)))


def demo(
    output: Annotated[
        Path, typer.Option("--output", "-o", metavar="OUT",
                           help="Where to write the result (replaced if it exists).")
    ] = Path(DEMO_OUTPUT),
    backend: BackendOpt = BackendName.auto,
    adapter: AdapterOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Run the bundled demo pipeline on the bundled sample image.

    The demo pipeline (pixelpipe/data/demo.toml) is: cdl (ASC CDL
    slope/offset/power) -> lut3d (the bundled Colour_Correct.cube,
    tetrahedral interpolation) -> resize to 256 pixels wide (lanczos3).
    The result is written to OUT (default: pixelpipe-demo.png in the current
    folder); an existing OUT is overwritten, since the demo's output is its
    own. Prints the absolute path of the written file.
    """
    from pixelpipe import io

    sample = Path(io.sample_path())
    check_paths(sample, output, overwrite=True, input_replaceable=False)
    check_output_format(output, None)
    pipe = Pipeline.from_toml(demo_pipeline_path())
    written = run_file(sample, output, pipe, backend.value, adapter, None, True, verbose)
    print(written.resolve())
