"""Executors: run a plan on images of any size.

* :func:`choose` picks single pass, tiled or streaming (:mod:`.strategy`);
* :func:`run_tiled` runs a plan tile by tile with halos (:mod:`.tiled`);
* :func:`run_streaming` runs it from a region source to a region sink with
  bounded memory (:mod:`.streaming`);
* :func:`execute` runs a plan on an in-memory array with the chosen strategy.

See ``docs/strategies.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from pixelpipe.exec.budget import default_memory_limit, device_limit, format_size, parse_size
from pixelpipe.exec.strategy import Choice, choose
from pixelpipe.exec.tiled import run_tiled, segments
from pixelpipe.samples import channels_of, from_float, from_rgba, to_rgba


def execute(pipeline: Any, samples: npt.NDArray[Any], backend: Any = "auto",
            memory_limit: int | str | None = None, tile_size: int | None = None,
            out_dtype: Any = np.float32, log: Callable[[str], None] | None = None,
            ) -> tuple[npt.NDArray[Any], Choice]:
    """Run ``pipeline`` (a Pipeline or Plan) on in-memory ``samples`` with the chosen strategy.

    ``samples`` (H, W[, C]) uint8/uint16/float16/float32, C in 1, 3, 4.
    ``memory_limit`` bytes or a size string (``"4GB"``); ``tile_size`` in
    pixels forces tiling. Returns the result (``out_dtype``, the input's
    channel count) and the :class:`Choice` made.
    """
    from pixelpipe.backends import get_backend

    be = get_backend(backend)
    p = pipeline.plan() if hasattr(pipeline, "plan") else pipeline
    arr = np.asarray(samples)
    limit = parse_size(memory_limit) if memory_limit is not None else None
    choice = choose(p, arr.shape[0], arr.shape[1], be, limit, tile_size, in_memory=True)
    if log is not None:
        log(choice.describe())
    channels = channels_of(arr)
    if choice.strategy == "single":
        out = be.run_samples(p, arr, out_dtype, channels)
    else:
        assert choice.tile_size is not None
        rgba = run_tiled(p, to_rgba(arr), be, choice.tile_size, log)
        out = from_float(from_rgba(rgba, channels), out_dtype)
    if arr.ndim == 2:
        out = out[..., 0]
    return out, choice


__all__ = ["Choice", "choose", "default_memory_limit", "device_limit", "execute",
           "format_size", "parse_size", "run_tiled", "segments"]
