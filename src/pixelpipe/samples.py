"""Sample types and channel layouts: the conversions every layer agrees on.

Integer samples map to float by ``value / (2**bits - 1)``; float back to
integer by ``round_half_even(clip(x, 0, 1) * (2**bits - 1))`` with NaN -> 0,
+Inf -> max, -Inf -> 0. Grey expands to RGBA as ``(g, g, g, 1)``, RGB as
``(r, g, b, 1)``; cutting RGBA back to grey keeps channel 0. The readers,
the writers, the CPU backend and the GPU conversion kernels all follow
these rules, so a file decoded and processed on either backend sees the
same numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from pixelpipe.errors import ParameterError

#: Sample dtypes pixelpipe moves between host and device.
SAMPLE_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.float16),
                 np.dtype(np.float32))


def to_float(arr: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    """Decoded samples -> float32; integers scaled by 1 / (2**bits - 1)."""
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / np.float32(255.0)
    if arr.dtype == np.uint16:
        return arr.astype(np.float32) / np.float32(65535.0)
    if arr.dtype.kind in "uib":
        raise ParameterError(f"unsupported integer sample type {arr.dtype}; use uint8 or uint16")
    return arr.astype(np.float32, copy=False)


def from_float(arr: npt.NDArray[np.float32], dtype: Any) -> npt.NDArray[Any]:
    """float32 pixels -> samples of ``dtype`` (uint8, uint16, float16 or float32).

    Integer targets: ``round(clip(x, 0, 1) * (2**bits - 1))`` (round half to
    even), NaN -> 0, +Inf -> max, -Inf -> 0. float16: IEEE binary16
    conversion (overflow -> Inf). float32: as is.
    """
    dt = np.dtype(dtype)
    if dt.kind == "u":
        top = float(np.iinfo(dt).max)
        x = np.nan_to_num(arr, nan=0.0, posinf=1.0, neginf=0.0)
        return np.rint(np.clip(x, 0.0, 1.0) * np.float32(top)).astype(dt)
    if dt == np.float16:
        with np.errstate(over="ignore"):
            return arr.astype(np.float16)
    if dt == np.float32:
        return arr.astype(np.float32, copy=False)
    raise ParameterError(f"unsupported sample type {dt}; use uint8, uint16, float16 or float32")


def channels_of(array: npt.NDArray[Any]) -> int:
    """Channel count of an ``(H, W)`` or ``(H, W, C)`` array, C in 1, 3, 4."""
    if array.ndim == 2:
        return 1
    if array.ndim == 3 and array.shape[2] in (1, 3, 4):
        return int(array.shape[2])
    raise ParameterError(f"expected an (H, W, C) array with C in 1, 3, 4; got shape {array.shape}")


def to_rgba(array: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    """Samples ``(H, W[, C])`` of any supported dtype -> float32 ``(H, W, 4)``."""
    a = np.asarray(array)
    c = channels_of(a)
    if a.dtype.kind in "ui":
        a = to_float(a)
    a = np.asarray(a, dtype=np.float32)
    if a.ndim == 2:
        a = a[:, :, None]
    if c == 4:
        return np.ascontiguousarray(a)
    h, w = a.shape[:2]
    out = np.empty((h, w, 4), np.float32)
    out[..., :3] = a if c == 3 else a[..., :1]
    out[..., 3] = 1.0
    return out


def from_rgba(rgba: npt.NDArray[np.float32], channels: int) -> npt.NDArray[np.float32]:
    """Cut an ``(H, W, 4)`` result back to ``channels`` (1: channel 0, 3: RGB, 4: RGBA)."""
    if channels == 4:
        return rgba
    return np.ascontiguousarray(rgba[..., :channels])
