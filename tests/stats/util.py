"""Expected values for the statistics tests, computed with NumPy independently of pixelpipe."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

#: Rec.709 / Rec.2020 luma weights as published (ITU-R BT.709-6, BT.2020-2).
WEIGHTS = {"rec709": (0.2126, 0.7152, 0.0722), "rec2020": (0.2627, 0.6780, 0.0593)}


def rows(x: npt.NDArray[np.floating], luma: str = "rec709") -> list[npt.NDArray[np.float32]]:
    """The value rows a statistic covers: each channel, then the luma, as float32 (N,).

    Luma of R, G, B is ``(wr*R + wg*G) + wb*B`` in float32 (each operation
    rounded to float32, in that order, no fused multiply-add); for one or
    two channels it is channel 0.
    """
    a = np.asarray(x, np.float32)
    if a.ndim == 2:
        a = a[:, :, None]
    flat = a.reshape(-1, a.shape[2])
    out = [flat[:, k].copy() for k in range(flat.shape[1])]
    if flat.shape[1] >= 3:
        wr, wg, wb = (np.float32(w) for w in WEIGHTS[luma])
        with np.errstate(invalid="ignore", over="ignore"):
            out.append((flat[:, 0] * wr + flat[:, 1] * wg) + flat[:, 2] * wb)
    else:
        out.append(flat[:, 0].copy())
    return out


def with_specials(x: npt.NDArray[np.float32], seed: int = 0) -> npt.NDArray[np.float32]:
    """A copy of ``x`` with NaN, +Inf and -Inf in a few random samples of each channel."""
    y = x.copy()
    rng = np.random.default_rng(seed)
    flat = y.reshape(-1, y.shape[-1])
    n = flat.shape[0]
    for value in (np.nan, np.inf, -np.inf):
        for c in range(flat.shape[1]):
            k = max(1, n // 50)
            flat[rng.integers(0, n, k), c] = value
    return y
