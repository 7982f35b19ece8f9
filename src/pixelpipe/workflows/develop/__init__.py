"""``pixelpipe.workflows.develop``: the photo developer.

A camera RAW, JPEG, PNG, TIFF or EXR and a :class:`DevelopPreset` give the
developed photo, on the GPU when there is one. The stage order is fixed
(see :mod:`pixelpipe.workflows.develop.stages` and ``docs/develop.md``); every
pixel operation is a catalogue op, so the CPU reference and the WebGPU
backend run the same pipeline.

Examples
--------
>>> from pixelpipe.workflows.develop import develop, load_presets   # doctest: +SKIP
>>> img = develop("photo.dng", load_presets(["warm-film.toml"]), backend="wgpu")
>>> pixelpipe.io.write("photo.jpg", img, quality=92)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pixelpipe.image import Image
from pixelpipe.pipeline import Pipeline
from pixelpipe.workflows.develop.batch import BatchResult, develop_files
from pixelpipe.workflows.develop.colour import SourceColour, prepare_input
from pixelpipe.workflows.develop.preset import DevelopPreset, load_preset, load_presets
from pixelpipe.workflows.develop.stages import build_pipeline

__all__ = [
    "BatchResult",
    "DevelopPreset",
    "SourceColour",
    "build_pipeline",
    "develop",
    "develop_files",
    "develop_many",
    "grey_to_rgb",
    "load_input",
    "load_preset",
    "load_presets",
    "run_prepared",
]


def load_input(image_or_path: Image | str | Path,
               camera_wb: bool = True) -> tuple[Image, SourceColour]:
    """Decode (when given a path) and prepare an input: orientation applied, ICC honoured.

    ``camera_wb`` (camera RAW files only): decode with the camera's as-shot
    white balance (default) or LibRaw's daylight multipliers; a preset's
    ``[white_balance] as_shot``. Returns the upright image, float32 (H, W, C),
    and its source encoding. Raises :class:`~pixelpipe.errors.InputError` for
    an unreadable file.
    """
    if isinstance(image_or_path, Image):
        img = image_or_path
    else:
        from pixelpipe.io import read

        img = read(image_or_path, camera_wb=camera_wb)
    from pixelpipe.errors import InputError

    try:
        return prepare_input(img)
    except InputError as exc:
        if exc.path is None and not isinstance(image_or_path, Image):
            raise InputError(image_or_path, exc.problem) from None
        raise


def grey_to_rgb(image: Image) -> Image:
    """A grey (H, W, 1) or grey + alpha (H, W, 2) image as RGB (H, W, 3) / RGBA (H, W, 4).

    The grey value is copied to R, G and B (alpha kept), in the image's own
    sample type; other channel counts are returned unchanged. The develop
    workflow does this before any colour stage so that white balance, HSL,
    grading, LUTs and the output gamut act on all three channels (a grey
    image would otherwise keep only the first channel of the result).
    """
    from dataclasses import replace

    import numpy as np

    c = image.channels
    if c not in (1, 2):
        return image
    px = image.pixels
    grey = px[..., :1]
    parts = [grey, grey, grey] + ([px[..., 1:2]] if c == 2 else [])
    rgb = np.ascontiguousarray(np.concatenate(parts, axis=-1))
    meta = replace(image.meta, channel_names=("R", "G", "B", "A")[: len(parts)])
    if rgb.dtype == np.float32:
        return Image(rgb, meta)
    return Image(meta=meta, samples=rgb)


def run_prepared(prepared: Image, source: SourceColour, preset: DevelopPreset,
                 backend: Any = "auto", out_dtype: Any = None,
                 pipeline: Pipeline | None = None) -> Image:
    """Develop an input already through :func:`load_input` (see :func:`develop`).

    ``out_dtype`` (e.g. ``numpy.uint8`` for a JPEG) has the result quantised
    on the device, so only the output's own bytes are downloaded; default:
    float32 pixels. A grey input is expanded to RGB (:func:`grey_to_rgb`)
    when any stage runs; with the all-neutral preset (empty pipeline) it is
    returned unchanged, still grey. ``pipeline``: ``build_pipeline(preset,
    source)`` built once by the caller, for a batch that runs many files with
    the same preset and source encoding (default: built here).
    """
    from pixelpipe.workflows.develop.colour import output_meta

    pipe = build_pipeline(preset, source) if pipeline is None else pipeline
    if len(pipe) and prepared.channels in (1, 2):
        prepared = grey_to_rgb(prepared)
    out = pipe.run(prepared, backend=backend, out_dtype=out_dtype) if len(pipe) else prepared
    meta = output_meta(prepared.meta, preset.output.gamut, preset.output.bit_depth)
    if out.samples is not None:
        return Image(meta=meta, samples=out.samples)
    return Image(out.array, meta)


def develop(image_or_path: Image | str | Path, preset: DevelopPreset,
            backend: Any = "auto") -> Image:
    """Develop one image with ``preset``.

    Parameters
    ----------
    image_or_path : Image or path
        A decoded :class:`~pixelpipe.image.Image` or a file that
        :func:`pixelpipe.io.read` reads (PNG, JPEG, TIFF, EXR, camera RAW).
    preset : DevelopPreset
        The settings; :func:`load_presets` reads them from TOML.
    backend : {"auto", "cpu", "wgpu"} or Backend
        Where the pipeline runs.

    Returns
    -------
    Image
        float32 (H, W, C) values encoded for ``preset.output.gamut`` (sRGB,
        Display P3 or Adobe RGB), with that gamut's ICC profile, the source's
        EXIF (orientation 1) and the sample type of ``preset.output.bit_depth``
        (default: the source's, 16-bit for float sources) in ``meta``; ready
        for :func:`pixelpipe.io.write`.

    Raises
    ------
    InputError, ParameterError, BackendUnavailable
        Unreadable input, a bad preset value or LUT, a backend that cannot start.
    """
    prepared, source = load_input(image_or_path, preset.white_balance.as_shot)
    return run_prepared(prepared, source, preset, backend)


def develop_many(image_or_path: Image | str | Path, presets: Sequence[DevelopPreset],
                 backend: Any = "auto") -> list[Image]:
    """Several looks from one decode: :func:`develop` with each preset, input read once
    (a camera RAW file once per distinct ``[white_balance] as_shot`` value)."""
    decoded: dict[bool, tuple[Image, SourceColour]] = {}
    out = []
    for p in presets:
        key = p.white_balance.as_shot
        if key not in decoded:
            decoded[key] = load_input(image_or_path, key)
        out.append(run_prepared(*decoded[key], p, backend))
    return out
