"""Definitions shared by both backends, and the NumPy reference.

Everything that decides a result — which samples form a statistic row, how
luma is computed, where bin edges lie, which ranks a percentile needs and
how it interpolates — lives here, once; the WebGPU path (:mod:`.gpu`)
computes the same quantities and hands them to the same host-side code.

Slots
-----
An image of ``C`` channels (1 to 4) gives ``C + 1`` statistic rows
("slots"): the channels in order, then the luma. For 3 or 4 channels the
luma is ``(wr*R + wg*G) + wb*B`` evaluated in float32 in exactly that order
(each product rounded, then the sums); for 1 or 2 channels (grey, grey +
alpha) the luma row is channel 0 itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from pixelpipe.errors import ParameterError
from pixelpipe.image import Image
from pixelpipe.ops.base import array_namespace
from pixelpipe.ops.color.luma import LUMA_WEIGHTS

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

#: Most bins a histogram may have.
MAX_BINS = 4096

#: Percentile method (numpy.percentile's name): linear interpolation between
#: the closest ranks, Hyndman & Fan (1996) definition 7.
PERCENTILE_METHOD = "linear"

_CHANNEL_NAMES = {1: ("Y",), 2: ("Y", "A"), 3: ("R", "G", "B"), 4: ("R", "G", "B", "A")}


@dataclass(frozen=True)
class Samples:
    """An image as statistics see it.

    ``pixels`` is float32 ``(N, C)`` (N = H*W, row-major, C = 1 to 4),
    C-contiguous; ``names`` has ``C + 1`` entries, the last ``"luma"``.
    """

    pixels: Any
    names: tuple[str, ...]
    weights: tuple[float, float, float]

    @property
    def channels(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def n_pixels(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def luma_rgb(self) -> bool:
        """True when the luma row weighs R, G and B; False when it is channel 0."""
        return self.channels >= 3

    def weights32(self) -> F32:
        """The luma weights as float32, the values both backends multiply by."""
        return np.asarray(self.weights, np.float32)


def prepare(x: Any, luma: str) -> Samples:
    """Check ``x`` and ``luma`` and flatten ``x`` to float32 ``(N, C)``.

    ``x`` is an :class:`~pixelpipe.image.Image` or an array ``(H, W)`` or
    ``(H, W, C)`` with C in 1..4 (any real dtype; converted to float32,
    values unchanged). Raises :class:`ParameterError` for another shape, an
    empty image, a non-real dtype or an unknown ``luma``.
    """
    if luma not in LUMA_WEIGHTS:
        raise ParameterError(
            f"luma: unknown weights {luma!r}; choose one of {', '.join(LUMA_WEIGHTS)}"
        )
    a = x.array if isinstance(x, Image) else x
    if not hasattr(a, "shape") or not hasattr(a, "dtype"):
        raise ParameterError(f"image: expected an Image or an array, got {type(x).__name__}")
    xp = array_namespace(a)
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or not 1 <= a.shape[2] <= 4:
        raise ParameterError(
            f"image: expected shape (H, W) or (H, W, C) with C in 1..4, got {tuple(x.shape)}"
            if not isinstance(x, Image) else f"image: unsupported shape {tuple(a.shape)}"
        )
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise ParameterError(f"image: empty image of shape {tuple(a.shape)}")
    if a.dtype.kind not in "biuf":
        raise ParameterError(f"image: unsupported dtype {a.dtype}; expected a real dtype")
    pixels = xp.ascontiguousarray(a, dtype=xp.float32).reshape(-1, a.shape[2])
    return Samples(pixels, (*_CHANNEL_NAMES[a.shape[2]], "luma"), LUMA_WEIGHTS[luma])


def luma_of(s: Samples) -> Any:
    """The luma row, float32 ``(N,)``: ``(wr*R + wg*G) + wb*B`` in float32, or channel 0."""
    p = s.pixels
    if not s.luma_rgb:
        return p[:, 0]
    wr, wg, wb = (np.float32(w) for w in s.weights32())
    with np.errstate(invalid="ignore", over="ignore"):
        return (p[:, 0] * wr + p[:, 1] * wg) + p[:, 2] * wb


def slot_values(s: Samples) -> Any:
    """Every slot as float32 ``(N, C + 1)``: the channels, then the luma."""
    xp = array_namespace(s.pixels)
    return xp.concatenate([s.pixels, luma_of(s)[:, None]], axis=1)


# --- histogram ----------------------------------------------------------------------------
def check_bins(bins: Any) -> int:
    """``bins`` as an int in 1..:data:`MAX_BINS`; ParameterError otherwise."""
    if isinstance(bins, bool) or not isinstance(bins, int | np.integer):
        raise ParameterError(f"bins: expected an integer, got {bins!r}")
    if not 1 <= int(bins) <= MAX_BINS:
        raise ParameterError(f"bins: {int(bins)} is outside 1..{MAX_BINS}")
    return int(bins)


def bin_edges(bins: int, value_range: Any) -> F32:
    """The float32 bin edges, shape ``(bins + 1,)``, exactly as numpy.histogram makes them.

    ``numpy.linspace(lo, hi, bins + 1)`` in float64, rounded to float32 (the
    edges numpy.histogram uses for float32 data). Raises ParameterError when
    ``value_range`` is not two finite numbers with lo < hi, lies outside
    float32, or is too narrow for ``bins`` distinct float32 edges.
    """
    try:
        lo, hi = (float(v) for v in value_range)
    except (TypeError, ValueError):
        raise ParameterError(f"range: expected (low, high), got {value_range!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or not lo < hi:
        raise ParameterError(f"range: expected finite low < high, got ({lo!r}, {hi!r})")
    f32max = float(np.finfo(np.float32).max)
    if abs(lo) > f32max or abs(hi) > f32max:
        raise ParameterError(f"range: ({lo!r}, {hi!r}) exceeds the float32 range")
    edges = np.linspace(lo, hi, bins + 1).astype(np.float32) + np.float32(0)  # -0 -> +0
    if not np.all(edges[1:] > edges[:-1]):
        raise ParameterError(
            f"range: ({lo!r}, {hi!r}) is too narrow for {bins} bins at float32 precision "
            "(neighbouring bin edges coincide)"
        )
    return edges


def histogram_reference(s: Samples, edges: F32) -> tuple[I64, I64, I64, I64]:
    """Counts ``(C+1, bins)``, underflow, overflow and NaN counts ``(C+1,)``, all int64.

    Bin ``i`` holds ``edges[i] <= v < edges[i+1]``; the last bin also holds
    ``v == edges[-1]``. Values below ``edges[0]`` (``-inf`` included) are
    underflow, above ``edges[-1]`` (``+inf`` included) overflow; NaN is
    counted apart. Comparisons are float32 IEEE-754 (-0 == +0).
    """
    v = slot_values(s)
    xp = array_namespace(v)
    bins = int(edges.shape[0]) - 1
    e = xp.asarray(edges)
    nan = xp.isnan(v)
    under = v < e[0]
    over = v > e[-1]
    inside = ~(nan | under | over)
    counts = np.zeros((v.shape[1], bins), np.int64)
    for k in range(v.shape[1]):
        vals = v[inside[:, k], k]
        idx = xp.searchsorted(e, vals, side="right") - 1
        idx = xp.minimum(idx, bins - 1)  # v == edges[-1] belongs to the last bin
        counts[k] = np.asarray(xp.bincount(idx, minlength=bins))
    return (counts, np.asarray(under.sum(0), np.int64), np.asarray(over.sum(0), np.int64),
            np.asarray(nan.sum(0), np.int64))


# --- statistics -----------------------------------------------------------------------------
@dataclass
class Moments:
    """Per-slot raw results that both backends produce (float64 / int64, shape ``(C+1,)``)."""

    finite_sum: F64  #: float64 sum of the finite values
    lo: F64  #: smallest non-NaN value (NaN when there is none)
    hi: F64  #: largest non-NaN value (NaN when there is none)
    nan: I64
    posinf: I64
    neginf: I64
    n: int  #: pixels

    def count(self) -> I64:
        """Non-NaN values per slot."""
        return np.int64(self.n) - self.nan

    def mean(self) -> F64:
        """The mean of the non-NaN values, as numpy.nanmean defines it in IEEE-754.

        +Inf and -Inf both present give NaN, either alone gives itself, no
        value at all gives NaN; otherwise ``finite_sum / count``.
        """
        count = self.count()
        with np.errstate(invalid="ignore", divide="ignore"):
            m = np.where(count > 0, self.finite_sum / np.maximum(count, 1), np.nan)
        m = np.where(self.posinf > 0, np.inf, m)
        m = np.where(self.neginf > 0, -np.inf, m)
        return np.where((self.posinf > 0) & (self.neginf > 0), np.nan, m)


def moments_reference(s: Samples) -> Moments:
    """:class:`Moments` of every slot; sums accumulated in float64 (pairwise)."""
    v = slot_values(s)
    xp = array_namespace(v)
    nan = xp.isnan(v)
    finite = xp.isfinite(v)
    total = xp.sum(xp.where(finite, v, 0).astype(xp.float64), axis=0)
    any_value = ~xp.all(nan, axis=0)
    lo = xp.where(any_value, xp.min(xp.where(nan, xp.inf, v), axis=0), xp.nan)
    hi = xp.where(any_value, xp.max(xp.where(nan, -xp.inf, v), axis=0), xp.nan)
    return Moments(
        finite_sum=np.asarray(total, np.float64),
        lo=np.asarray(lo, np.float64),
        hi=np.asarray(hi, np.float64),
        nan=np.asarray(nan.sum(0), np.int64),
        posinf=np.asarray((v == xp.inf).sum(0), np.int64),
        neginf=np.asarray((v == -xp.inf).sum(0), np.int64),
        n=int(v.shape[0]),
    )


# --- percentiles ---------------------------------------------------------------------------
def check_q(q: Any) -> tuple[float, ...]:
    """Percentiles as a tuple of floats in [0, 100]; ParameterError otherwise."""
    try:
        values = tuple(float(v) for v in np.atleast_1d(np.asarray(q, dtype=np.float64)))
    except (TypeError, ValueError):
        raise ParameterError(f"q: expected numbers in [0, 100], got {q!r}") from None
    if not values:
        raise ParameterError("q: no percentile asked for")
    bad = [v for v in values if not 0.0 <= v <= 100.0]  # NaN fails too
    if bad:
        raise ParameterError(f"q: {bad[0]!r} is outside [0, 100]")
    return values


def rank_position(n: int, q: float) -> tuple[int, Fraction]:
    """0-based rank ``k`` and fraction ``f`` with ``h = q/100 * (n - 1) = k + f``, exactly.

    The "linear" method (Hyndman & Fan definition 7, numpy's default) puts
    the q-th percentile of ``n`` sorted values ``x`` at
    ``x[k] + f * (x[k+1] - x[k])``. ``h`` is computed in exact rational
    arithmetic from the float ``q``, so the ranks never depend on rounding.
    """
    h = Fraction(q) * (n - 1) / 100
    k = math.floor(h)
    return k, h - k


def ranks_needed(n: int, q: tuple[float, ...]) -> list[int]:
    """Sorted 0-based ranks whose values the percentiles ``q`` of ``n`` values need."""
    need: set[int] = set()
    for p in q:
        k, f = rank_position(n, p)
        need.add(k)
        if f:
            need.add(k + 1)
    return sorted(need)


def interpolate(n: int, q: tuple[float, ...], order: dict[int, float]) -> F64:
    """The percentiles from the order statistics ``order`` (rank -> value), float64.

    ``x[k]`` when ``f == 0`` or ``x[k] == x[k+1]``, else
    ``x[k] + f * (x[k+1] - x[k])`` in float64 (±Inf neighbours give ±Inf).
    """
    out = np.empty(len(q), np.float64)
    for i, p in enumerate(q):
        k, f = rank_position(n, p)
        a = order[k]
        if not f or a == order[k + 1]:
            out[i] = a
        else:
            b = order[k + 1]
            out[i] = a + float(f) * (b - a)
    return out


def percentiles_reference(s: Samples, q: tuple[float, ...]) -> F64:
    """Percentiles ``(C+1, len(q))`` float64 of the non-NaN values of each slot.

    Exact order statistics (``numpy.partition``) interpolated by
    :func:`interpolate`; a slot without values gives NaN.
    """
    v = slot_values(s)
    xp = array_namespace(v)
    out = np.full((v.shape[1], len(q)), np.nan)
    for k in range(v.shape[1]):
        vals = v[~xp.isnan(v[:, k]), k]
        n = int(vals.shape[0])
        if n == 0:
            continue
        ranks = ranks_needed(n, q)
        part = np.asarray(xp.partition(vals, ranks))
        out[k] = interpolate(n, q, {r: float(part[r]) for r in ranks})
    return out


# --- order keys (host side of the GPU path) ------------------------------------------------
def order_key(values: F32) -> npt.NDArray[np.uint32]:
    """uint32 keys ordered as the float32 ``values`` (non-NaN; -0 and +0 share a key)."""
    b = (np.asarray(values, np.float32) + np.float32(0)).view(np.uint32)
    neg = (b & np.uint32(0x80000000)) != 0
    return np.where(neg, ~b, b | np.uint32(0x80000000)).astype(np.uint32)


def key_value(keys: Any) -> F32:
    """Inverse of :func:`order_key`: float32 values of uint32 keys."""
    k = np.asarray(keys, np.uint32)
    pos = (k & np.uint32(0x80000000)) != 0
    return np.where(pos, k & np.uint32(0x7FFFFFFF), ~k).astype(np.uint32).view(np.float32)
