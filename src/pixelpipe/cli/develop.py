"""``pixelpipe develop``: develop photos with presets, one file, several looks, or a folder.

Modes
-----
* ``pixelpipe develop IN -o OUT``: one image, one output file.
* ``pixelpipe develop IN -o OUTDIR --preset-each b.toml c.toml``: several looks
  from one decode (the flag may also be repeated: ``--preset-each b.toml
  --preset-each c.toml``); ``--preset`` files are layered under each look;
  outputs are ``OUTDIR/<look file stem>.<ext>``.
* ``pixelpipe develop --batch DIR -o OUTDIR``: every image in ``DIR``
  (``--recursive``: and below, same sub-folders in ``OUTDIR``); outputs are
  ``OUTDIR/<stem><suffix>.<ext>``. Resumable: an existing output is skipped
  unless ``--overwrite``. Writes are atomic (temporary file renamed into
  place), so a failure never leaves a partial output. Without
  ``--skip-errors`` the first failure stops the batch (exit 2) after the
  summary; with it every failure is reported and the batch goes on (exit 0).
  The loop is :func:`pixelpipe.workflows.develop.develop_files`: ``--jobs``
  threads decode and encode, one more thread runs the device (started while
  the first files decode), so codec work overlaps the GPU work.

Order of work (single file): paths and output format are checked, the
presets are loaded, the backend is started, then the input is read.
"""

from __future__ import annotations

import enum
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pixelpipe.cli.running import (
    PROG,
    AdapterOpt,
    BackendName,
    BackendOpt,
    BitDepth,
    check_paths,
    start_backend,
    writer_bit_depth,
)
from pixelpipe.errors import InputError, OutputError


class OutFormat(enum.StrEnum):
    """Values of ``--format`` (batch and ``--preset-each`` outputs)."""

    jpeg = "jpeg"
    png = "png"
    tiff = "tiff"


_EXT = {"jpeg": ".jpg", "png": ".png", "tiff": ".tif"}


def _load(presets: list[Path] | None, sets: list[str] | None, extra: Path | None = None) -> Any:
    from pixelpipe.workflows.develop.preset import load_presets

    paths = list(presets or []) + ([extra] if extra is not None else [])
    return load_presets(paths, list(sets or []))


def _write(image: Any, out: Path, preset: Any, bit_depth: BitDepth | None,
           quality: int | None, overwrite: bool, source: Path | None) -> Path:
    """Write a developed image: bit depth from the CLI, else the preset where the format has it."""
    from pixelpipe.workflows.develop.batch import write_developed

    return write_developed(image, out, preset, writer_bit_depth(bit_depth), quality, overwrite,
                           source)


def _device_dtype(target: Path) -> Any:
    from pixelpipe.workflows.develop.batch import device_dtype

    return device_dtype(target)


@dataclass
class _Summary:
    done: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)


def _inputs(folder: Path, recursive: bool, exclude: Path) -> list[Path]:
    from pixelpipe.io import formats

    it = folder.rglob("*") if recursive else folder.glob("*")
    ex = exclude.resolve()
    out = []
    for p in sorted(it):
        if not p.is_file() or p.name.startswith(".") or \
                p.suffix.lower() not in formats.EXTENSIONS:
            continue
        if recursive and ex != folder.resolve() and ex in p.resolve().parents:
            continue
        out.append(p)
    return out


def develop(
    inputs: Annotated[
        list[Path] | None,
        typer.Argument(metavar="[IN]", show_default=False,
                       help="Input image (camera RAW, JPEG, PNG, TIFF, EXR); with "
                            "--preset-each, further look files may follow it.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", metavar="OUT", show_default=False,
                                  help="Output file; with --batch or --preset-each a folder.")
    ] = None,
    preset: Annotated[
        list[Path] | None,
        typer.Option("--preset", "-p", metavar="P.toml",
                     help="Preset file; repeat to layer several (a field set later wins).")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="SECTION.KEY=VALUE",
                     help="Override one preset field, e.g. tone.exposure=0.5; repeatable.")
    ] = None,
    preset_each: Annotated[
        list[Path] | None,
        typer.Option("--preset-each", metavar="P.toml",
                     help="One output per look file (layered over --preset), from one "
                          "decode; several files may follow one --preset-each "
                          "(--preset-each b.toml c.toml) or the flag may be repeated; "
                          "OUT is a folder, outputs are named after these files.")
    ] = None,
    batch: Annotated[
        Path | None,
        typer.Option("--batch", metavar="DIR", help="Develop every image in DIR into the "
                     "folder OUT.")
    ] = None,
    recursive: Annotated[bool, typer.Option("--recursive", "-r",
                                            help="With --batch: include sub-folders.")] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, max=64,
                                      help="With --batch: threads decoding/encoding files "
                                           "(the device has its own thread).")] = 1,
    skip_errors: Annotated[bool, typer.Option(
        "--skip-errors", help="With --batch: report a failing file and go on.")] = False,
    suffix: Annotated[str, typer.Option(
        "--suffix", help="With --batch: added to each output's file stem.")] = "",
    out_format: Annotated[OutFormat, typer.Option(
        "--format", "-f", case_sensitive=False,
        help="With --batch / --preset-each: output format.")] = OutFormat.jpeg,
    quality: Annotated[int | None, typer.Option(
        "--quality", "-q", min=1, max=100,
        help="JPEG quality (default: the preset's [output] jpeg_quality, 95).")] = None,
    bit_depth: Annotated[BitDepth | None, typer.Option(
        "--bit-depth", "-d", case_sensitive=False,
        help="Output sample type (default: the preset's [output] bit_depth, else the "
             "source's where the format holds it).")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite",
                                            help="Replace existing outputs.")] = False,
    no_camera_wb: Annotated[bool, typer.Option(
        "--no-camera-wb", help="Camera RAW: decode with LibRaw's daylight white balance, "
        "not the camera's as-shot one (same as --set white_balance.as_shot=false).")] = False,
    backend: BackendOpt = BackendName.auto,
    adapter: AdapterOpt = None,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", metavar="tcp://HOST:PORT",
        help="With --batch: run the files on this Dask scheduler.")] = None,
    dask_local: Annotated[str | None, typer.Option(
        "--dask", metavar="local:N",
        help="With --batch: run the files on a local Dask cluster of N worker "
             "processes.")] = None,
) -> int:
    """Develop photos with TOML presets (white balance, tone, curves, HSL, grading, LUT,
    dehaze, denoise, detail, grain, vignette; sRGB / Display P3 / Adobe RGB output)."""
    from pixelpipe.cli.errors import UsageProblem

    if output is None:
        raise UsageProblem("missing option '--output' / '-o'")
    if no_camera_wb:  # applied last, over every preset and --set
        set_ = [*(set_ or []), "white_balance.as_shot=false"]
    # Click gives an option one value, so in `IN --preset-each b.toml c.toml` the
    # looks after the first arrive as extra positional arguments: with
    # --preset-each, the positional .toml files are more looks and the one other
    # positional argument is IN.
    positional = list(inputs or [])
    input_path = positional[0] if positional else None
    if len(positional) > 1:
        if not preset_each:
            raise UsageProblem("one IN only (extra arguments: "
                               f"{' '.join(str(p) for p in positional[1:])}); several look "
                               "files go after --preset-each")
        more = [p for p in positional if p.suffix.lower() == ".toml"]
        rest = [p for p in positional if p.suffix.lower() != ".toml"]
        if len(rest) != 1:
            raise UsageProblem("with --preset-each, give one IN and look files ending in "
                               f".toml (got: {' '.join(str(p) for p in positional)})")
        input_path = rest[0]
        preset_each = [*preset_each, *more]
    if batch is not None:
        if input_path is not None or preset_each:
            raise UsageProblem("--batch takes no IN and no --preset-each")
        return _batch(batch, output, preset, set_, recursive, jobs, skip_errors, suffix,
                      out_format, quality, bit_depth, overwrite, backend.value, adapter,
                      scheduler, dask_local)
    if scheduler is not None or dask_local is not None:
        raise UsageProblem("--scheduler and --dask go with --batch")
    if input_path is None:
        raise UsageProblem("missing argument 'IN' (or use --batch DIR)")
    if preset_each:
        return _each(input_path, output, preset, set_, preset_each, out_format, quality,
                     bit_depth, overwrite, backend.value, adapter)
    return _single(input_path, output, preset, set_, quality, bit_depth, overwrite,
                   backend.value, adapter)


def _single(inp: Path, out: Path, presets: list[Path] | None, sets: list[str] | None,
            quality: int | None, bit_depth: BitDepth | None, overwrite: bool, backend: str,
            adapter: str | None) -> int:
    from pixelpipe.cli.running import check_output_format
    from pixelpipe.workflows.develop import load_input, run_prepared

    check_paths(inp, out, overwrite)
    check_output_format(out, bit_depth)
    p = _load(presets, sets)
    be, notice = start_backend(backend, adapter)
    prepared, source = load_input(inp, p.white_balance.as_shot)
    if notice:
        print(notice, file=sys.stderr)
    _write(run_prepared(prepared, source, p, be, _device_dtype(out)), out, p, bit_depth, quality,
           overwrite, inp)
    return 0


def _each(inp: Path, outdir: Path, presets: list[Path] | None, sets: list[str] | None,
          each: list[Path], fmt: OutFormat, quality: int | None, bit_depth: BitDepth | None,
          overwrite: bool, backend: str, adapter: str | None) -> int:
    from pixelpipe.workflows.develop import load_input, run_prepared

    if not inp.is_file():
        raise InputError(inp, "no such file")
    if not outdir.is_dir():
        raise OutputError(outdir, "with --preset-each, -o names an existing folder")
    stems = [p.stem for p in each]
    if len(set(stems)) != len(stems):
        raise OutputError(outdir, "two --preset-each files have the same name: "
                          f"{', '.join(sorted(s for s in stems if stems.count(s) > 1))}")
    targets = [outdir / f"{p.stem}{_EXT[fmt.value]}" for p in each]
    for t in targets:
        if t.exists() and not overwrite:
            raise OutputError(t, "already exists; pass --overwrite to replace it")
    looks = [_load(presets, sets, p) for p in each]
    be, notice = start_backend(backend, adapter)
    decoded = {}  # one decode per distinct [white_balance] as_shot (it matters for RAW)
    decoded[looks[0].white_balance.as_shot] = load_input(inp, looks[0].white_balance.as_shot)
    if notice:
        print(notice, file=sys.stderr)
    for look, target in zip(looks, targets, strict=True):
        wb = look.white_balance.as_shot
        if wb not in decoded:
            decoded[wb] = load_input(inp, wb)
        prepared, source = decoded[wb]
        img = run_prepared(prepared, source, look, be, _device_dtype(target))
        _write(img, target, look, bit_depth, quality, overwrite, inp)
        print(target)
    return 0


def _batch(folder: Path, outdir: Path, presets: list[Path] | None, sets: list[str] | None,
           recursive: bool, jobs: int, skip_errors: bool, suffix: str, fmt: OutFormat,
           quality: int | None, bit_depth: BitDepth | None, overwrite: bool, backend: str,
           adapter: str | None, scheduler: str | None = None,
           dask_local: str | None = None) -> int:
    from pixelpipe.workflows.develop import develop_files

    if not folder.is_dir():
        raise InputError(folder, "--batch needs a folder")
    if not outdir.is_dir():
        raise OutputError(outdir, "with --batch, -o names an existing folder")
    if "/" in suffix or "\\" in suffix:
        raise OutputError(outdir, f"--suffix {suffix!r} must not contain a path separator")
    look = _load(presets, sets)
    files = _inputs(folder, recursive, outdir)
    summary = _Summary()
    todo: list[tuple[Path, Path]] = []
    for f in files:
        target = outdir / f.parent.relative_to(folder) / f"{f.stem}{suffix}{_EXT[fmt.value]}"
        if target.exists() and not overwrite:
            summary.skipped.append(f)
        else:
            todo.append((f, target))
    if scheduler is not None or dask_local is not None:
        _be, notice = start_backend(backend, adapter)  # a backend that cannot start: exit 2
        if notice:
            print(notice, file=sys.stderr)
        return _dask_batch(todo, summary, _DevelopFile(look, dict(todo), bit_depth, quality,
                                                       overwrite), outdir, backend,
                           scheduler, dask_local, skip_errors)
    console = Console(stderr=True)

    def start() -> Any:  # on the batch's device thread, while the first files decode
        be, notice = start_backend(backend, adapter)
        if notice:
            print(notice, file=sys.stderr)
        return be

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console,
                  disable=not console.is_terminal) as progress:
        task = progress.add_task("developing", total=len(todo))
        res = develop_files(todo, look, start, jobs=jobs, bit_depth=writer_bit_depth(bit_depth),
                            quality=quality, overwrite=overwrite, skip_errors=skip_errors,
                            on_file=lambda _f: progress.advance(task))
    summary.done, summary.failed = res.done, res.failed
    for _f, why in summary.failed:
        print(f"{PROG}: failed: {' '.join(why.split())}", file=sys.stderr)
    not_run = res.not_run
    line = (f"developed {len(summary.done)}, skipped {len(summary.skipped)} (output exists), "
            f"failed {len(summary.failed)}")
    if not_run:
        line += f", not run {not_run} (stopped at the first failure; --skip-errors goes on)"
    print(line)
    if summary.failed and not skip_errors:
        return 2
    return 0


class _DevelopFile:
    """One --batch file in a Dask worker: develop, write, return the written path."""

    def __init__(self, look: Any, targets: dict[Path, Path], bit_depth: BitDepth | None,
                 quality: int | None, overwrite: bool) -> None:
        self.look, self.targets = look, targets
        self.bit_depth, self.quality, self.overwrite = bit_depth, quality, overwrite

    def __call__(self, src: Path, be: Any) -> Path:
        from pixelpipe.workflows.develop import load_input, run_prepared

        target = self.targets[Path(src)]
        prepared, source = load_input(src, self.look.white_balance.as_shot)
        img = run_prepared(prepared, source, self.look, be, _device_dtype(target))
        target.parent.mkdir(parents=True, exist_ok=True)
        _write(img, target, self.look, self.bit_depth, self.quality, self.overwrite, Path(src))
        return target


def _dask_batch(todo: list[tuple[Path, Path]], summary: Any, job: _DevelopFile, outdir: Path,
                backend: str, scheduler: str | None, dask_local: str | None,
                skip_errors: bool) -> int:
    """--batch on a Dask cluster (:func:`pixelpipe.dask.batch`).

    Every file is tried (the tasks run at once); the exit status follows
    ``--skip-errors`` as in a local batch.
    """
    from pixelpipe import dask as pdask

    client = pdask.client_for(scheduler, dask_local)
    try:
        results = pdask.batch(job, [f for f, _ in todo], outdir, client=client, backend=backend)
    finally:
        client.close()
    for r in results:
        if r.ok:
            summary.done.append(Path(r.input))
        else:
            summary.failed.append((Path(r.input), r.error or ""))
    for _f, why in summary.failed:
        print(f"{PROG}: failed: {' '.join(why.split())}", file=sys.stderr)
    print(f"developed {len(summary.done)}, skipped {len(summary.skipped)} (output exists), "
          f"failed {len(summary.failed)}")
    return 2 if summary.failed and not skip_errors else 0
