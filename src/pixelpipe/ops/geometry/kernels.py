"""Resampling kernels and host-side tables shared by the geometry ops.

Every function here runs on the host in float64; the ops cast the results
to float32 once and hand the *same* numbers to the NumPy reference and to
the WGSL kernels, so both backends interpolate with identical weights.

Kernels (``x`` in input pixels, support in brackets):

* box ``(-0.5, 0.5]`` — ``1`` inside (half-open, so a point half-way
  between two pixels belongs to exactly one of them);
* triangle (bilinear) ``[-1, 1]`` — ``1 - |x|``;
* Keys cubic ``[-2, 2]`` with free parameter ``a`` (R. Keys, "Cubic
  convolution interpolation for digital image processing", IEEE Trans.
  ASSP 29(6), 1981): ``a = -0.5`` is the third-order accurate member
  (Catmull-Rom), reproducing quadratics exactly;
* Lanczos-3 ``[-3, 3)`` — ``sinc(x) sinc(x / 3)`` (C. E. Duchon, "Lanczos
  filtering in one and two dimensions", J. Appl. Meteorology 18, 1979).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]


def box(x: F64) -> F64:
    """Box kernel: 1 on (-0.5, 0.5], else 0."""
    return np.where((x > -0.5) & (x <= 0.5), 1.0, 0.0)


def triangle(x: F64) -> F64:
    """Triangle (tent) kernel: ``max(0, 1 - |x|)``."""
    return np.maximum(0.0, 1.0 - np.abs(x))


def keys_cubic(x: F64, a: float = -0.5) -> F64:
    """Keys cubic convolution kernel with parameter ``a`` (support 2)."""
    t = np.abs(x)
    near = ((a + 2.0) * t - (a + 3.0)) * t * t + 1.0
    far = ((t - 5.0) * t + 8.0) * t * a - 4.0 * a
    return np.where(t < 1.0, near, np.where(t < 2.0, far, 0.0))


def lanczos3(x: F64) -> F64:
    """Lanczos kernel with 3 lobes: ``sinc(x) sinc(x/3)`` on [-3, 3), else 0."""
    return np.where((x >= -3.0) & (x < 3.0), np.sinc(x) * np.sinc(x / 3.0), 0.0)


#: name -> (kernel, support in input pixels at scale 1)
FILTERS: dict[str, tuple[Callable[[F64], F64], float]] = {
    "area": (box, 0.5),
    "bilinear": (triangle, 1.0),
    "bicubic": (keys_cubic, 2.0),
    "lanczos3": (lanczos3, 3.0),
}


def nearest_indices(in_size: int, out_size: int) -> npt.NDArray[np.int64]:
    """Source index of each output sample for nearest-neighbour scaling.

    Output sample ``i`` takes input ``floor((i + 0.5) * in_size / out_size)``.
    The positions are accumulated one step at a time in float64, starting at
    ``0.5 * scale``, which is how Pillow's ``Image.resize(NEAREST)``
    tabulates them; this keeps ties (positions that land exactly on a pixel
    edge) on the same side as Pillow.
    """
    scale = in_size / out_size
    steps = np.full(out_size, scale, np.float64)
    steps[0] = scale * 0.5
    pos = np.add.accumulate(steps)  # sequential float64 sums, like a running loop
    return np.clip(np.floor(pos).astype(np.int64), 0, in_size - 1)


def resample_weights(in_size: int, out_size: int, filt: str
                     ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], F64]:
    """Convolution windows of one axis of an antialiased resize.

    Returns ``starts`` (int64, ``(out_size,)``), ``counts`` (int64,
    ``(out_size,)``) and ``weights`` (float64, ``(out_size, K)``, zero past
    each window's count): output sample ``i`` is
    ``sum_j weights[i, j] * in[starts[i] + j]`` for ``j < counts[i]``.

    The model is Pillow's convolution resize: ``scale = in / out``; the
    kernel is stretched by ``s = max(scale, 1)`` (antialiasing on
    downscale); output ``i`` is centred at input coordinate
    ``c = (i + 0.5) * scale`` (pixel edges at integers); the window holds
    input pixels ``trunc(c - support * s + 0.5)`` to
    ``trunc(c + support * s + 0.5) - 1`` clipped to the image; weights are
    ``kernel((k + 0.5 - c) / s)`` normalised to sum 1. Zero weights at
    either end of a window are dropped (so a non-finite pixel under a
    zero weight does not reach the output). ``"nearest"`` gives one tap of
    weight 1 at :func:`nearest_indices`.
    """
    if filt == "nearest":
        starts = nearest_indices(in_size, out_size)
        return starts, np.ones(out_size, np.int64), np.ones((out_size, 1), np.float64)
    kernel, base_support = FILTERS[filt]
    scale = in_size / out_size
    fscale = max(scale, 1.0)
    support = base_support * fscale
    centers = (np.arange(out_size, dtype=np.float64) + 0.5) * scale
    # C-style truncation toward zero, then clip to the image
    lo = np.clip(np.trunc(centers - support + 0.5), 0, in_size).astype(np.int64)
    hi = np.clip(np.trunc(centers + support + 0.5), 0, in_size).astype(np.int64)
    ksize = math.ceil(support) * 2 + 1
    taps = np.arange(ksize, dtype=np.int64)
    k = lo[:, None] + taps[None, :]
    inside = k < hi[:, None]
    w = np.where(inside, kernel((k + 0.5 - centers[:, None]) / fscale), 0.0)
    total = w.sum(axis=1)
    w = np.where(total[:, None] != 0.0, w / np.where(total == 0.0, 1.0, total)[:, None], 0.0)
    # drop zero weights at the ends of each window
    nz = w != 0.0
    any_nz = nz.any(axis=1)
    first = np.where(any_nz, np.argmax(nz, axis=1), 0)
    last = np.where(any_nz, ksize - 1 - np.argmax(nz[:, ::-1], axis=1), -1)
    counts = np.maximum(last - first + 1, 0)
    kmax = max(int(counts.max()) if out_size else 0, 1)
    idx = np.minimum(first[:, None] + np.arange(kmax)[None, :], ksize - 1)
    out_w = np.take_along_axis(w, idx, axis=1)
    out_w[np.arange(kmax)[None, :] >= counts[:, None]] = 0.0
    return lo + first, counts, out_w


def split_coordinate(v: F64) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]:
    """Split float64 coordinates into an int32 part and a float32 fraction in [0, 1].

    ``v ~= int + frac``. Sums of such pairs keep ~1e-7 pixel precision at
    any image size, which plain float32 coordinates (1/16 pixel at a
    million pixels) do not.
    """
    fl = np.floor(v)
    return fl.astype(np.int32), (v - fl).astype(np.float32)
