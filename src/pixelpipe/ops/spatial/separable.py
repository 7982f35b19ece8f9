"""Separable correlation: the shared machinery of the linear blur ops.

Algorithm
---------
A separable 2-D filter with 1-D kernel ``w[0..2r]`` (``2r + 1`` taps,
centred on tap ``r``) is applied as two 1-D correlations, first along x
(columns within each row), then along y::

    h[y, x] = sum_k w[k] * in[y, ext_x(x + k - r)]
    out[y, x] = sum_k w[k] * h[ext_y(y + k - r), x]

``ext`` maps an index outside ``[0, n)`` back into the image according to
the edge mode; the names and their meaning follow ``scipy.ndimage``
(OpenCV's ``BORDER_*`` names in brackets), shown for ``n = 4`` samples
``a b c d``:

========== ====================================== =====================
mode       extension                              also known as
========== ====================================== =====================
mirror     ``... c b | a b c d | c b a ...``      reflect-101
                                                  (BORDER_REFLECT_101)
reflect    ``... b a | a b c d | d c b ...``      half-sample symmetric
                                                  (BORDER_REFLECT)
nearest    ``... a a | a b c d | d d d ...``      edge (BORDER_REPLICATE)
wrap       ``... c d | a b c d | a b c ...``      periodic (BORDER_WRAP)
constant   ``... k k | a b c d | k k k ...``      ``k = cval``
                                                  (BORDER_CONSTANT)
========== ====================================== =====================

The extensions repeat periodically, so a kernel wider than the image is
well defined (``mirror`` has period ``2n - 2``, ``reflect`` ``2n``, ``wrap``
``n``); a 1-pixel-wide image under ``mirror`` repeats its one sample. In
``constant`` mode each 1-D pass pads its own input with ``cval`` (as
``scipy.ndimage.correlate1d`` does), which for a kernel summing to 1 equals
padding the image with ``cval`` in 2-D.

Every channel (R, G, B and alpha) is filtered independently, as straight
(not premultiplied) values.

Precision: the reference accumulates each 1-D pass in float64 and rounds
the pass result to float32 (what ``scipy.ndimage`` does for a float32
output). The WebGPU kernels accumulate in float32 (chunk-wise partial sums,
see ``separable.wgsl``) with the float64 weights rounded to float32; for
weights that are all positive this agrees with the reference to a few
float32 ulps of the result, well within 1e-5 relative.

Non-finite values: a NaN anywhere in the kernel footprint gives NaN (IEEE
arithmetic, as in ``scipy.ndimage.correlate1d``); +Inf and -Inf in one
footprint give NaN; a lone Inf spreads as Inf.

Source: the edge modes are those documented for ``scipy.ndimage``
(``mode`` parameter of ``correlate1d``) and OpenCV (``BorderTypes``).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from pixelpipe.ops.base import Array, GpuPass, array_namespace, load_wgsl

EdgeMode = Literal["mirror", "reflect", "nearest", "wrap", "constant"]

#: Edge mode -> the integer the WGSL kernel switches on.
MODE_CODES: dict[str, int] = {"mirror": 0, "reflect": 1, "nearest": 2, "wrap": 3, "constant": 4}

MODE_DESCRIPTION = (
    "edge handling: mirror (reflect-101, d c b | a b c d), reflect (half-sample "
    "symmetric, b a | a b c d), nearest (edge pixel repeated), wrap (periodic), "
    "constant (cval outside the image); names as in scipy.ndimage"
)


def edge_indices(i: npt.NDArray[np.int64], n: int, mode: str
                 ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Map integer positions ``i`` (any value) onto ``[0, n)`` for edge mode ``mode``.

    Returns ``(index, outside)``: ``outside`` marks positions that ``constant``
    mode fills with ``cval`` (their ``index`` is 0); all False for other modes.
    Raises ``ValueError`` for an unknown mode.
    """
    outside = np.zeros(i.shape, bool)
    if mode == "mirror":
        if n == 1:
            return np.zeros_like(i), outside
        period = 2 * n - 2
        m = np.mod(i, period)
        return np.where(m >= n, period - m, m), outside
    if mode == "reflect":
        period = 2 * n
        m = np.mod(i, period)
        return np.where(m >= n, period - 1 - m, m), outside
    if mode == "nearest":
        return np.clip(i, 0, n - 1), outside
    if mode == "wrap":
        return np.mod(i, n), outside
    if mode == "constant":
        outside = (i < 0) | (i >= n)
        return np.where(outside, 0, i), outside
    raise ValueError(f"unknown edge mode {mode!r}")


def correlate_axis(x: Array, weights: npt.NDArray[np.float64], axis: int, mode: str,
                   cval: float = 0.0) -> Array:
    """1-D correlation of ``x`` float32 (H, W, C) along ``axis`` (0 = y, 1 = x).

    ``weights`` float64 ``(2r + 1,)``, centred. Accumulates in float64, returns
    float32 of the same shape as ``x``.
    """
    xp = array_namespace(x)
    n = x.shape[axis]
    r = (len(weights) - 1) // 2
    idx, outside = edge_indices(np.arange(-r, n + r, dtype=np.int64), n, mode)
    padded = xp.take(x, xp.asarray(idx), axis=axis).astype(xp.float64)
    if outside.any():
        sl: list[Any] = [slice(None)] * x.ndim
        sl[axis] = xp.asarray(np.flatnonzero(outside))
        padded[tuple(sl)] = cval
    acc = xp.zeros(x.shape, xp.float64)
    for k, wk in enumerate(weights):
        sl = [slice(None)] * x.ndim
        sl[axis] = slice(k, k + n)
        acc += float(wk) * padded[tuple(sl)]
    return acc.astype(xp.float32)


def separable_reference(x: Array, weights: npt.NDArray[np.float64], mode: str,
                        cval: float = 0.0) -> Array:
    """Correlate ``x`` float32 (H, W, C) with ``weights`` along x, then along y."""
    return correlate_axis(correlate_axis(x, weights, 1, mode, cval), weights, 0, mode, cval)


def pass_params(weights: npt.NDArray[np.float64], mode: str, cval: float) -> Array:
    """Parameters of one ``separable.wgsl`` pass, float32 ``(2r + 2, 4)``.

    Row 0: ``(r, mode code, cval, 0)``; row ``1 + k``: weight ``k`` in all four lanes.
    """
    r = (len(weights) - 1) // 2
    p = np.empty((len(weights) + 1, 4), np.float32)
    p[0] = (r, MODE_CODES[mode], cval, 0.0)
    p[1:] = np.asarray(weights, np.float64)[:, None]
    return p


def pass_shader(axis: int) -> str:
    """WGSL of the 1-D correlation pass along ``axis`` (0 = y / vertical, 1 = x / horizontal)."""
    body = load_wgsl(__package__, "separable.wgsl")
    return f"const AXIS_X: bool = {'true' if axis == 1 else 'false'};\n" + body


def separable_passes(height: int, width: int, weights: npt.NDArray[np.float64], mode: str,
                     cval: float, source: str = "in", first: int = 0) -> list[GpuPass]:
    """The two GpuPasses (x then y) correlating ``source`` with ``weights``.

    ``first`` is the index of the first of these passes among the op's passes
    (the y pass reads ``p{first}``).
    """
    params = pass_params(weights, mode, cval)
    size = (height, width)
    return [
        GpuPass(pass_shader(1), params, size, (source,)),
        GpuPass(pass_shader(0), params, size, (f"p{first}",)),
    ]
