"""The tools users would pick instead, run on the same data in the same process.

Each peer is measured only where its library is installed; a missing one
yields a row saying so rather than a figure.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from pixelpipe.bench.result import F32, Result


def _time(fn: Callable[[], Any], repeat: int = 3) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _cupy() -> Any:
    try:
        import cupy as cp

        cp.cuda.runtime.getDeviceCount()
        return cp
    except Exception:
        return None


def _gpu_time(cp: Any, fn: Callable[[], Any], repeat: int = 5) -> float:
    fn()
    start, end = cp.cuda.Event(), cp.cuda.Event()
    times = []
    for _ in range(repeat):
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(cp.cuda.get_elapsed_time(start, end) * 1e-3)
    return statistics.median(times)


def _missing(workload: str, impl: str, why: str) -> Result:
    return Result(workload, impl, note=f"not measured: {why}")


def w1(x: F32, lut: F32, chain: Sequence[Any]) -> list[Result]:
    out: list[Result] = []
    try:
        import PyOpenColorIO as ocio

        cdl, mat, _, _ = chain
        group = ocio.GroupTransform()
        t = ocio.CDLTransform()
        t.setSlope(list(cdl.slope))
        t.setOffset(list(cdl.offset))
        t.setPower(list(cdl.power))
        t.setSat(cdl.saturation)
        group.appendTransform(t)
        m44 = np.eye(4)
        m44[:3, :3] = np.asarray(mat.matrix)
        group.appendTransform(ocio.MatrixTransform(m44.ravel().tolist()))
        lt = ocio.Lut3DTransform()
        n = lut.shape[0]
        lt.setGridSize(n)
        for r in range(n):
            for g in range(n):
                for b in range(n):
                    lt.setValue(r, g, b, *map(float, lut[r, g, b]))
        lt.setInterpolation(ocio.INTERP_TETRAHEDRAL)
        group.appendTransform(lt)
        srgb = ocio.ExponentWithLinearTransform()
        srgb.setGamma([2.4] * 4)
        srgb.setOffset([0.055] * 3 + [0.0])
        srgb.setDirection(ocio.TRANSFORM_DIR_INVERSE)
        group.appendTransform(srgb)
        cpu = ocio.GetCurrentConfig().getProcessor(group).getDefaultCPUProcessor()
        buf = np.ascontiguousarray(x)

        def run() -> None:
            y = buf.copy()
            cpu.applyRGB(y)

        out.append(Result("W1", "OpenColorIO CPU processor", wall_s=_time(run, 1)))
    except ImportError:
        out.append(_missing("W1", "OpenColorIO CPU processor", "PyOpenColorIO not installed"))
    cp = _cupy()
    if cp is None:
        out.append(_missing("W1", "CuPy array code", "no CuPy / CUDA device"))
        return out
    xg, lg = cp.asarray(x), cp.asarray(lut)
    out.append(Result("W1", "CuPy array code (GPU)",
                      gpu_s=_gpu_time(cp, lambda: w1_array_code(cp, xg, lg, chain))))
    return out


#: Tetrahedral interpolation: for each ordering of the fractional parts, the two
#: intermediate corners (r, g, b offsets) and the order in which fractions apply.
_TETRA = (
    ((1, 0, 0), (1, 1, 0), (0, 1, 2)),  # fr > fg > fb
    ((1, 0, 0), (1, 0, 1), (0, 2, 1)),  # fr > fb >= fg
    ((0, 0, 1), (1, 0, 1), (2, 0, 1)),  # fb >= fr > fg
    ((0, 0, 1), (0, 1, 1), (2, 1, 0)),  # fb > fg >= fr
    ((0, 1, 0), (0, 1, 1), (1, 2, 0)),  # fg >= fb > fr
    ((0, 1, 0), (1, 1, 0), (1, 0, 2)),  # fg >= fr >= fb
)


def w1_array_code(xp: Any, x: Any, lut: Any, chain: Sequence[Any]) -> Any:
    """W1 written as plain array code for ``xp`` (CuPy on the GPU host, NumPy in tests).

    The same math as pixelpipe's W1 chain (ASC-clamped CDL, matrix,
    tetrahedral LUT3D on [0, 1], sRGB encoding), so the peer does the same work.
    """
    cdl, mat, _, _ = chain
    f32 = xp.float32
    slope, off, pw = (xp.asarray(v, f32) for v in (cdl.slope, cdl.offset, cdl.power))
    w = xp.asarray([0.2126, 0.7152, 0.0722], f32)
    y = xp.clip(x * slope + off, 0, 1) ** pw
    luma = (y @ w)[..., None]
    y = xp.clip(luma + f32(cdl.saturation) * (y - luma), 0, 1)
    y = y @ xp.asarray(np.asarray(mat.matrix, np.float32)).T
    n = lut.shape[0]
    p = xp.clip(y, 0, 1) * f32(n - 1)
    i0 = xp.minimum(xp.floor(p).astype(xp.int32), n - 2)
    f = p - i0
    r, g, b = i0[..., 0], i0[..., 1], i0[..., 2]
    fr, fg, fb = f[..., 0], f[..., 1], f[..., 2]
    conds = (
        (fr > fg) & (fg > fb), (fr > fg) & (fb >= fg) & (fr > fb), (fr > fg) & (fb >= fr),
        (fr <= fg) & (fb > fg), (fr <= fg) & (fb <= fg) & (fb > fr),
        (fr <= fg) & (fb <= fg) & (fb <= fr),
    )
    c000, c111 = lut[r, g, b], lut[r + 1, g + 1, b + 1]
    res = xp.zeros_like(y)
    for cond, (a, bb, order) in zip(conds, _TETRA, strict=True):
        ca = lut[r + a[0], g + a[1], b + a[2]]
        cb = lut[r + bb[0], g + bb[1], b + bb[2]]
        t1, t2, t3 = (f[..., k][..., None] for k in order)
        v = c000 + (ca - c000) * t1 + (cb - ca) * t2 + (c111 - cb) * t3
        res = xp.where(cond[..., None], v, res)
    lin = res <= 0.0031308
    return xp.where(lin, f32(12.92) * res,
                    f32(1.055) * xp.power(xp.maximum(res, f32(0.0031308)), f32(1 / 2.4))
                    - f32(0.055))




def w2(x: F32) -> list[Result]:
    out: list[Result] = []
    try:
        import cv2

        k = 2 * int(4.0 * 8 + 0.5) + 1
        out.append(Result("W2", "OpenCV GaussianBlur", wall_s=_time(
            lambda: cv2.GaussianBlur(x, (k, k), 8.0, borderType=cv2.BORDER_REFLECT_101), 3)))
    except ImportError:
        out.append(_missing("W2", "OpenCV GaussianBlur", "cv2 not installed"))
    cp = _cupy()
    if cp is None:
        out.append(_missing("W2", "cupyx gaussian_filter", "no CuPy / CUDA device"))
        return out
    from cupyx.scipy import ndimage as cnd

    xg = cp.asarray(x)
    xg4 = cp.concatenate([xg, cp.ones_like(xg[..., :1])], axis=-1)
    out.append(Result("W2", "cupyx gaussian_filter RGB (GPU)", gpu_s=_gpu_time(
        cp, lambda: cnd.gaussian_filter(xg, (8.0, 8.0, 0.0), mode="mirror", truncate=4.0))))
    out.append(Result("W2", "cupyx gaussian_filter RGBA (GPU)", gpu_s=_gpu_time(
        cp, lambda: cnd.gaussian_filter(xg4, (8.0, 8.0, 0.0), mode="mirror", truncate=4.0))))
    return out


def w3(x: F32) -> list[Result]:
    out: list[Result] = []
    h, w = x.shape[:2]
    from PIL import Image as PILImage

    x8 = PILImage.fromarray((x * 255 + 0.5).astype(np.uint8))
    out.append(Result("W3", "Pillow LANCZOS (8-bit RGB)", wall_s=_time(
        lambda: x8.resize((w // 4, h // 4), PILImage.Resampling.LANCZOS), 3)))
    try:
        import cv2

        out.append(Result("W3", "OpenCV INTER_AREA (float)", wall_s=_time(
            lambda: cv2.resize(x, (w // 4, h // 4), interpolation=cv2.INTER_AREA), 3)))
        out.append(Result("W3", "OpenCV INTER_LANCZOS4 (float, no AA)", wall_s=_time(
            lambda: cv2.resize(x, (w // 4, h // 4), interpolation=cv2.INTER_LANCZOS4), 3)))
    except ImportError:
        out.append(_missing("W3", "OpenCV resize", "cv2 not installed"))
    return out


def w4(x: F32) -> list[Result]:
    out: list[Result] = []
    luma = x @ np.array([0.2126, 0.7152, 0.0722], np.float32)

    def numpy_hist() -> None:
        for c in range(3):
            np.histogram(x[..., c], 256, (0.0, 1.0))
        np.histogram(luma, 256, (0.0, 1.0))

    out.append(Result("W4", "NumPy histogram", wall_s=_time(numpy_hist, 1)))
    try:
        import cv2

        def cv_hist() -> None:
            for c in range(3):
                cv2.calcHist([x], [c], None, [256], [0.0, 1.0])
            cv2.calcHist([luma], [0], None, [256], [0.0, 1.0])

        out.append(Result("W4", "OpenCV calcHist", wall_s=_time(cv_hist, 3)))
    except ImportError:
        out.append(_missing("W4", "OpenCV calcHist", "cv2 not installed"))
    return out
