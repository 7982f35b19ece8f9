"""Helpers for consistency tests: the reference defines the right answer."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from pixelpipe import Pipeline
from pixelpipe.backends.base import Backend
from pixelpipe.ops.base import Op

#: Image sizes (height, width) for consistency tests: degenerate, odd, not
#: multiples of 16, exactly one workgroup, several workgroups.
SIZES: tuple[tuple[int, int], ...] = ((1, 1), (7, 5), (16, 16), (33, 47), (70, 129))

#: A thin image taller than 1,048,560 rows: no single 2-D dispatch of 16x16
#: workgroups covers it (65,535 workgroups per dimension).
TALL: tuple[int, int] = (1_100_000, 2)


def random_rgba(shape: tuple[int, int], seed: int = 0, low: float = 0.0,
                high: float = 1.0, alpha: bool = True) -> npt.NDArray[np.float32]:
    """Uniform random float32 (H, W, 4) in [low, high); alpha random too when ``alpha``."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(low, high, (*shape, 4)).astype(np.float32)
    if not alpha:
        x[..., 3] = 1.0
    return x


def relative_error(actual: npt.NDArray[np.floating], expected: npt.NDArray[np.floating]
                   ) -> npt.NDArray[np.float64]:
    """|actual - expected| / max(|expected|, 1): relative above 1, absolute below.

    Positions where both are NaN, or both are the same infinity, count as 0.
    """
    a = np.asarray(actual, np.float64)
    e = np.asarray(expected, np.float64)
    same = (np.isnan(a) & np.isnan(e)) | (np.isinf(a) & (a == e))
    with np.errstate(invalid="ignore"):
        err = np.abs(a - e) / np.maximum(np.abs(e), 1.0)
    err[same] = 0.0
    err[np.isnan(err)] = np.inf
    return err


def assert_close(actual: npt.NDArray[np.floating], expected: npt.NDArray[np.floating],
                 rtol: float, what: str = "") -> None:
    """Fail if any element's :func:`relative_error` exceeds ``rtol`` (NaN/Inf must match)."""
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    err = relative_error(actual, expected)
    worst = float(err.max()) if err.size else 0.0
    if worst > rtol:
        idx = np.unravel_index(int(np.argmax(err)), err.shape)
        raise AssertionError(
            f"{what}: max relative error {worst:.3g} > {rtol:g} at {idx}: "
            f"got {actual[idx]!r}, expected {expected[idx]!r}"
        )


def check_consistency(ops: Op | Sequence[Op], x: npt.NDArray[np.float32], backend: Backend,
                      rtol: float) -> npt.NDArray[np.float32]:
    """Run ``ops`` on the CPU reference and on ``backend``; assert they agree within ``rtol``.

    Returns the reference result.
    """
    pipe = Pipeline([ops] if isinstance(ops, Op) else list(ops))
    ref = pipe.run(x, backend="cpu")
    got = pipe.run(x, backend=backend)
    assert_close(got, ref, rtol, what=f"{pipe!r} on {x.shape}")
    return ref
