"""Image statistics: histograms, min / max / mean, percentiles — per channel and luma.

Every function takes an :class:`~pixelpipe.image.Image` or an array of
shape ``(H, W)`` or ``(H, W, C)`` (C = 1 to 4, any real dtype, converted to
float32 with values unchanged) and returns one row per channel plus a last
row for the luma, named in the result's ``channels`` (``("R", "G", "B",
"A", "luma")``, ``("R", "G", "B", "luma")``, ``("Y", "luma")`` …).

Luma: ``(wr*R + wg*G) + wb*B`` evaluated in float32 in that order, with the
Rec.709 weights (0.2126, 0.7152, 0.0722; ITU-R BT.709-6 item 3.2) or the
Rec.2020 weights (0.2627, 0.6780, 0.0593; ITU-R BT.2020-2 table 4). On
scene-linear data this is relative luminance Y; on display-encoded data it
is luma Y'. Alpha does not enter it. For grey images the luma row is the
grey channel.

``backend``: ``"cpu"`` (the NumPy reference that defines the results),
``"wgpu"``, ``"auto"`` (as :func:`pixelpipe.backends.get_backend`) or a
backend instance. Results agree between backends: histogram counts,
min, max and percentiles exactly; the mean within the bound stated in
:func:`statistics`. The algorithms and their sources are described in
``docs/stats.md``.

Errors: :class:`~pixelpipe.errors.ParameterError` for a bad image shape or
dtype, an empty image, or a bad parameter (each message names it);
:class:`~pixelpipe.errors.BackendUnavailable` when a backend named
explicitly cannot start; :class:`~pixelpipe.errors.GPUError` when the GPU
fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pixelpipe.backends import get_backend
from pixelpipe.stats import core
from pixelpipe.stats.core import F32, F64, I64, LUMA_WEIGHTS, MAX_BINS, PERCENTILE_METHOD

DEFAULT_Q: tuple[float, ...] = (0.1, 1.0, 50.0, 99.0, 99.9)


@dataclass(frozen=True)
class Histogram:
    """Histogram counts per channel and luma.

    Attributes
    ----------
    counts : int64 ndarray, shape (channels + 1, bins)
        ``counts[k, i]`` = values of row ``k`` with ``edges[i] <= v < edges[i+1]``;
        the last bin also counts ``v == edges[-1]`` (numpy.histogram's rule).
        Values outside the range are not in any bin.
    edges : float32 ndarray, shape (bins + 1,)
        Bin edges: ``numpy.linspace(lo, hi, bins + 1)`` rounded to float32,
        the edges numpy.histogram uses for float32 data.
    underflow, overflow : int64 ndarray, shape (channels + 1,)
        Values below ``edges[0]`` (``-inf`` included) and above ``edges[-1]``
        (``+inf`` included).
    nan : int64 ndarray, shape (channels + 1,)
        NaN values (never binned).
    channels : tuple of str
        Row names; the last is ``"luma"``.
    luma : str
        The luma weights used (``"rec709"`` or ``"rec2020"``).
    """

    counts: I64
    edges: F32
    underflow: I64
    overflow: I64
    nan: I64
    channels: tuple[str, ...]
    luma: str

    @property
    def bins(self) -> int:
        return int(self.counts.shape[1])

    def row(self, name: str) -> I64:
        """The counts of the row called ``name`` (``"R"``, ``"luma"`` …); KeyError if none."""
        return self.counts[_index(self.channels, name)]


@dataclass(frozen=True)
class Stats:
    """Summary statistics per channel and luma; every array has shape (channels + 1,).

    Attributes
    ----------
    min, max : float64 ndarray
        Smallest / largest non-NaN value (±inf when present); NaN for a row
        without any non-NaN value. Exact (they are float32 image values).
    mean : float64 ndarray
        Mean of the non-NaN values: the float64 sum of the finite values
        divided by their count, or ±inf when only +inf / only -inf values
        occur, NaN when both occur or no value does (numpy.nanmean's IEEE
        semantics).
    count : int64 ndarray
        Non-NaN values.
    nan_count, posinf_count, neginf_count : int64 ndarray
        NaN, +inf and -inf values.
    channels : tuple of str
        Row names; the last is ``"luma"``.
    """

    min: F64
    max: F64
    mean: F64
    count: I64
    nan_count: I64
    posinf_count: I64
    neginf_count: I64
    channels: tuple[str, ...]


@dataclass(frozen=True)
class Percentiles:
    """Percentiles per channel and luma.

    Attributes
    ----------
    values : float64 ndarray, shape (channels + 1, len(q))
        ``values[k, j]`` = the ``q[j]``-th percentile of the non-NaN values
        of row ``k`` (NaN for a row without any).
    q : tuple of float
        The percentiles asked for, in [0, 100].
    method : str
        ``"linear"`` (numpy.percentile's default; Hyndman & Fan definition 7).
    channels : tuple of str
        Row names; the last is ``"luma"``.
    """

    values: F64
    q: tuple[float, ...]
    method: str
    channels: tuple[str, ...]

    def row(self, name: str) -> F64:
        """The percentiles of the row called ``name``; KeyError if none."""
        return self.values[_index(self.channels, name)]


def _index(channels: tuple[str, ...], name: str) -> int:
    try:
        return channels.index(name)
    except ValueError:
        raise KeyError(f"no row {name!r}; rows: {', '.join(channels)}") from None


def _gpu(backend: Any) -> Any:
    """The WgpuBackend to run on, or None for the NumPy reference."""
    from pixelpipe.backends.wgpu.backend import WgpuBackend

    be = get_backend(backend)
    return be if isinstance(be, WgpuBackend) else None


def histogram(x: Any, bins: int = 256, range: Sequence[float] = (0.0, 1.0),
              backend: Any = "auto", luma: str = "rec709") -> Histogram:
    """Counts of values in ``bins`` equal bins over ``range``, per channel and luma.

    Parameters
    ----------
    x : Image or array (H, W) / (H, W, C), C in 1..4
        Converted to float32.
    bins : int, 1 to 4096
        Number of equal-width bins.
    range : (low, high), finite, low < high, within float32
        Values outside ``[low, high]`` are not binned; they are reported in
        ``underflow`` / ``overflow``, NaN in ``nan``. Same unit as the pixel
        values.
    backend : "auto", "cpu", "wgpu" or a backend instance
    luma : "rec709" or "rec2020"
        Weights of the luma row.

    Returns
    -------
    Histogram
        int64 counts equal to ``numpy.histogram(values, bins, range)`` for
        each row (same float32 edges, same rule: left-closed bins, the last
        one closed on both sides).

    Raises
    ------
    ParameterError
        Bad image, ``bins`` outside 1..4096, bad ``range`` (also when it is
        so narrow that neighbouring float32 edges coincide), unknown ``luma``.
    """
    s = core.prepare(x, luma)
    n_bins = core.check_bins(bins)
    edges = core.bin_edges(n_bins, range)
    be = _gpu(backend)
    if be is None:
        counts, under, over, nan = core.histogram_reference(s, edges)
    else:
        from pixelpipe.stats import gpu

        with gpu.kernels(be).lock:
            r = gpu.run(be, s)
            try:
                counts, under, over, nan = r.histogram(edges)
            finally:
                r.release()
    return Histogram(counts, edges, under, over, nan, s.names, luma)


def statistics(x: Any, backend: Any = "auto", luma: str = "rec709") -> Stats:
    """Min, max, mean and special-value counts per channel and luma.

    Parameters
    ----------
    x : Image or array (H, W) / (H, W, C), C in 1..4
        Converted to float32.
    backend : "auto", "cpu", "wgpu" or a backend instance
    luma : "rec709" or "rec2020"

    Returns
    -------
    Stats
        min, max: exact on both backends. mean: on the CPU the float64
        (pairwise) sum of the finite values over their count; on the GPU
        each workgroup sums up to 16 values per invocation then a 256-way
        tree in float32 and the host adds the workgroups' partials in
        float64, so the GPU mean is within ``24 * 2**-24`` (1.5e-6) times
        the mean absolute finite value of the CPU's (images up to
        ``16 * 256 * max-compute-workgroups-per-dimension`` pixels per
        chunk; larger ones add one ``2**-24`` per extra value per invocation).

    Raises
    ------
    ParameterError
        Bad image or unknown ``luma``.
    """
    s = core.prepare(x, luma)
    be = _gpu(backend)
    if be is None:
        m = core.moments_reference(s)
    else:
        from pixelpipe.stats import gpu

        with gpu.kernels(be).lock:
            r = gpu.run(be, s)
            try:
                m = r.moments()[0]
            finally:
                r.release()
    return Stats(m.lo, m.hi, m.mean(), m.count(), m.nan, m.posinf, m.neginf, s.names)


def percentiles(x: Any, q: Sequence[float] = DEFAULT_Q, backend: Any = "auto",
                luma: str = "rec709") -> Percentiles:
    """Percentiles of the non-NaN values per channel and luma, exact on both backends.

    Method "linear" (numpy.percentile's default; Hyndman & Fan 1996,
    definition 7): with the ``n`` values sorted as ``x[0] <= … <= x[n-1]``
    and ``h = q/100 * (n - 1) = k + f``, the result is ``x[k]`` when
    ``f == 0`` or ``x[k] == x[k+1]``, else ``x[k] + f * (x[k+1] - x[k])`` in
    float64. ``h`` is computed exactly (rationals), the order statistics are
    exact on both backends (the GPU finds them by refining a histogram in
    the floats' order-key space, then sorting the few values of the last
    range on the host), so both backends return identical numbers; they
    agree with ``numpy.nanpercentile(..., method="linear")`` to its own
    rounding (≤ 1e-6 of the value range).

    Parameters
    ----------
    x : Image or array (H, W) / (H, W, C), C in 1..4
    q : sequence of float in [0, 100]
        Percentiles (not fractions).
    backend : "auto", "cpu", "wgpu" or a backend instance
    luma : "rec709" or "rec2020"

    Raises
    ------
    ParameterError
        Bad image, empty ``q`` or a value outside [0, 100], unknown ``luma``.
    """
    s = core.prepare(x, luma)
    qs = core.check_q(q)
    be = _gpu(backend)
    if be is None:
        values = core.percentiles_reference(s, qs)
    else:
        from pixelpipe.stats import gpu

        with gpu.kernels(be).lock:
            r = gpu.run(be, s)
            try:
                values = r.percentiles(qs)
            finally:
                r.release()
    return Percentiles(np.asarray(values, np.float64), qs, PERCENTILE_METHOD, s.names)


__all__ = [
    "DEFAULT_Q",
    "LUMA_WEIGHTS",
    "MAX_BINS",
    "Histogram",
    "Percentiles",
    "Stats",
    "histogram",
    "percentiles",
    "statistics",
]
