"""Code generation: a run of pointwise ops -> one WGSL compute kernel."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pixelpipe.ops.base import Array, PointwiseOp

#: Pixels one invocation processes, 16 rows apart: a workgroup covers
#: 16 columns x 16 * ROWS rows. More work per invocation hides the latency of
#: the loads (fewer, longer-lived invocations keep more loads in flight).
ROWS = 4

_MAIN = """
const ROWS: u32 = {rows}u;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {{
    let t = tile_index(wid);
    let x = t.x * 16u + lid.x;
    if (x >= dims.out_w) {{
        return;
    }}
    for (var k = 0u; k < ROWS; k++) {{
        let y = (t.y * ROWS + k) * 16u + lid.y;
        if (y >= dims.out_h) {{
            return;
        }}
        let i = y * dims.out_w + x;
        var c = src0[i];
{calls}        dst[i] = c;
    }}
}}
"""


def fused_tile(rows: int | None = None) -> tuple[int, int]:
    """Outputs (rows, columns) of one workgroup of a fused kernel (``rows``: default ROWS)."""
    return (16 * (ROWS if rows is None else rows), 16)


def _chain(ops: Sequence[PointwiseOp], base: int, indent: str
           ) -> tuple[list[str], str, Array]:
    """(function sources, the calls applying ``ops`` to ``c``, their params from row ``base``)."""
    snippets: list[str] = []
    calls: list[str] = []
    blocks: list[Array] = []
    for op in ops:
        src = op.wgsl()
        if src not in snippets:
            snippets.append(src)
        p = np.asarray(op.params(), np.float32).reshape(-1, 4)
        calls.append(f"{indent}c = {op.wgsl_function()}(c, {base}u);\n")
        blocks.append(p)
        base += p.shape[0]
    params = np.concatenate(blocks) if blocks else np.zeros((0, 4), np.float32)
    return snippets, "".join(calls), params


def fused_shader(ops: Sequence[PointwiseOp], rows: int | None = None) -> tuple[str, Array]:
    """WGSL body (after the prelude) applying ``ops`` in order, and its packed params.

    Each op's function source appears once however often the op occurs;
    each call gets the offset of that op's parameter rows in ``params``.
    Each invocation processes ``rows`` pixels (default :data:`ROWS`); the
    dispatch uses :func:`fused_tile` of the same ``rows``.
    """
    snippets, calls, params = _chain(ops, 0, "        ")
    rows = ROWS if rows is None else rows
    body = "\n".join(snippets) + _MAIN.format(rows=rows, calls=calls)
    return body, params


def epilogue_source(ops: Sequence[PointwiseOp], base: int) -> tuple[str, Array]:
    """WGSL of ``fn epilogue(c) -> vec4<f32>`` applying ``ops``, and their params.

    The params are appended to a pass's own, starting at row ``base``. With
    no ops the epilogue is the identity.
    """
    snippets, calls, params = _chain(ops, base, "    ")
    fn = ("fn epilogue(c_in: vec4<f32>) -> vec4<f32> {\n    var c = c_in;\n"
          f"{calls}    return c;\n}}\n")
    return "\n".join([*snippets, fn]), params
