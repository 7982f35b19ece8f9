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
output). The WebGPU kernels accumulate in float32 (partial sums of 64
taps, see :func:`pass_shader`) with the float64 weights rounded to float32; for
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
    """Parameters of one correlation pass (:func:`pass_shader`), float32 ``(2r + 2, 4)``.

    Row 0: ``(r, mode code, cval, 0)``; row ``1 + k``: weight ``k`` in all four lanes.
    """
    r = (len(weights) - 1) // 2
    p = np.empty((len(weights) + 1, 4), np.float32)
    p[0] = (r, MODE_CODES[mode], cval, 0.0)
    p[1:] = np.asarray(weights, np.float64)[:, None]
    return p


#: Outputs one invocation computes, consecutive along the filtered axis.
RUN = 4
#: Taps per loop iteration (their loads are independent, so they overlap).
UNROLL = 4
#: Taps summed into one float32 partial sum before it joins the total.
PARTIAL = 64


def pass_tile(axis: int, run: int = RUN) -> tuple[int, int]:
    """Outputs (rows, columns) of one 16 x 16 workgroup of a pass along ``axis``."""
    return (16, 16 * run) if axis == 1 else (16 * run, 16)


#: WGSL type, swizzle of a vec4 and widening back to vec4, by number of lanes filtered.
_LANES = {1: ("f32", ".x", "vec4<f32>({}, 0.0, 0.0, 0.0)"),
          2: ("vec2<f32>", ".xy", "vec4<f32>({}, 0.0, 0.0)"),
          4: ("vec4<f32>", "", "{}")}


def _taps_step(run: int, n: int, sw: str = "") -> list[str]:
    """WGSL for ``n`` taps ``k .. k + n - 1``: ``n`` loads, ``n * run`` multiply-adds."""
    last = run - 1
    out = [f"            let n{u} = load(start + i32(k) + {last + u}, line, cval, mode){sw};"
           for u in range(n)]
    window = [f"v{i}" for i in range(last)] + [f"n{u}" for u in range(n)]
    for u in range(n):
        out.append(f"            let w{u} = params[1u + k + {u}u]{sw};")
        out += [f"            s{i} += w{u} * {window[i + u]};" for i in range(run)]
    out += [f"            v{i} = {window[n + i]};" for i in range(last)]
    out.append(f"            k += {n}u;")
    return out


def _taps_unrolled(run: int, unroll: int, sw: str) -> list[str]:
    """``unroll`` taps per iteration while that many are left (independent loads in flight)."""
    if unroll <= 1:
        return []
    return [f"        while (k + {unroll}u <= ce) {{", *_taps_step(run, unroll, sw), "        }"]


def pass_shader(axis: int, run: int = RUN, unroll: int = UNROLL,
                luma: tuple[float, float, float] | None = None, lanes: int = 4) -> str:
    """WGSL of the 1-D correlation pass along ``axis`` (0 = y / vertical, 1 = x / horizontal).

    Each invocation computes ``run`` consecutive outputs of one line and
    keeps the ``run`` input samples they share in registers, sliding along
    the kernel: one global load and ``run`` multiply-adds per tap instead of
    ``run`` loads. The loops are unrolled over ``run`` here because WGSL
    cannot index registers, and over ``unroll`` taps per iteration so that
    that many loads are in flight at once. Taps are summed ``PARTIAL`` at a
    time into partial sums (shorter float32 sums for long kernels). Loads
    go through the L1 cache: neighbouring invocations read overlapping
    windows. On an H100 this beat a window staged in workgroup memory and
    compile-time tap counts (docs/performance.md; run and unroll are
    compared by ``benchmarks/kernel_shape_probe.py``).

    ``luma`` = (wr, wg, wb): the pass reads an RGBA image and filters its
    luma ``wr * R + wg * G + wb * B`` (float32, summed in this order) in
    every lane, instead of the pixels (no pass writing a luma image first).
    ``lanes`` = 1, 2 or 4: only the first ``lanes`` channels are filtered,
    with that much arithmetic per tap; the others are written as 0.
    Raises ``ValueError`` for ``run < 1`` or another ``lanes``.
    """
    if run < 1:
        raise ValueError("run must be at least 1")
    if lanes not in _LANES:
        raise ValueError("lanes must be 1, 2 or 4")
    ty, sw, widen = _LANES[lanes]
    j = range(run)
    last = run - 1
    lines = [
        f"const RUN: u32 = {run}u;",
        "",
        "@compute @workgroup_size(16, 16)",
        "fn main(@builtin(workgroup_id) wid: vec3<u32>, "
        "@builtin(local_invocation_id) lid: vec3<u32>) {",
        "    let t = tile_index(wid);",
        "    var line = t.y * 16u + lid.y;  // a row",
        "    var first = (t.x * 16u + lid.x) * RUN;",
        "    var n_along = dims.out_w;",
        "    var n_across = dims.out_h;",
        "    if (!AXIS_X) {  // lid.x walks columns: neighbours load neighbouring addresses",
        "        line = t.x * 16u + lid.x;",
        "        first = (t.y * 16u + lid.y) * RUN;",
        "        n_along = dims.out_h;",
        "        n_across = dims.out_w;",
        "    }",
        "    if (line >= n_across || first >= n_along) {",
        "        return;",
        "    }",
        "    let r = u32(params[0].x);",
        "    let mode = u32(params[0].y);",
        "    let cval = vec4<f32>(params[0].z);",
        "    let taps = 2u * r + 1u;",
        "    let start = i32(first) - i32(r);",
        *[f"    var v{i} = load(start + {i}, line, cval, mode){sw};" for i in range(last)],
        *[f"    var a{i} = {ty}(0.0);" for i in j],
        f"    for (var c = 0u; c < taps; c += {PARTIAL}u) {{",
        *[f"        var s{i} = {ty}(0.0);" for i in j],
        f"        let ce = min(taps, c + {PARTIAL}u);",
        "        var k = c;",
        *_taps_unrolled(run, unroll, sw),
        "        while (k < ce) {",
        *_taps_step(run, 1, sw),
        "        }",
        *[f"        a{i} += s{i};" for i in j],
        "    }",
        "    if (AXIS_X) {",
        "        let base = line * dims.out_w + first;",
        *[f"        if (first + {i}u < n_along) {{ dst[base + {i}u] = "
          f"{widen.format(f'a{i}')}; }}" for i in j],
        "    } else {",
        *[f"        if (first + {i}u < n_along) {{ dst[(first + {i}u) * dims.out_w + line] = "
          f"{widen.format(f'a{i}')}; }}" for i in j],
        "    }",
        "}",
    ]
    common = load_wgsl(__package__, "separable_common.wgsl")
    axis_x = "true" if axis == 1 else "false"
    wr, wg, wb = (repr(float(np.float32(v))) for v in (luma or (0.0, 0.0, 0.0)))
    head = (f"const AXIS_X: bool = {axis_x};\n"
            f"const LOAD_LUMA: bool = {'true' if luma else 'false'};\n"
            f"const LUMA_W = vec3<f32>({wr}, {wg}, {wb});\n")
    return head + common + "\n" + "\n".join(lines) + "\n"


def correlation_pass(axis: int, params: Array, size: tuple[int, int], source: str,
                     luma: tuple[float, float, float] | None = None,
                     lanes: int = 4) -> GpuPass:
    """One GpuPass correlating ``source`` along ``axis`` with :func:`pass_params` rows.

    ``luma``: filter the luma of ``source``; ``lanes``: how many channels
    (see :func:`pass_shader`).
    """
    return GpuPass(pass_shader(axis, luma=luma, lanes=lanes), params, size, (source,),
                   tile=pass_tile(axis))


def separable_passes(height: int, width: int, weights: npt.NDArray[np.float64], mode: str,
                     cval: float, source: str = "in", first: int = 0) -> list[GpuPass]:
    """The two GpuPasses (x then y) correlating ``source`` with ``weights``.

    ``first`` is the index of the first of these passes among the op's passes
    (the y pass reads ``p{first}``).
    """
    params = pass_params(weights, mode, cval)
    size = (height, width)
    return [correlation_pass(1, params, size, source),
            correlation_pass(0, params, size, f"p{first}")]
