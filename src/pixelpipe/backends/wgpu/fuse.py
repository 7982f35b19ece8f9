"""Code generation: a run of pointwise ops -> one WGSL compute kernel."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pixelpipe.ops.base import Array, PointwiseOp

_MAIN = """
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {{
    let p = pixel_coord(wid, lid);
    if (p.x >= dims.out_w || p.y >= dims.out_h) {{
        return;
    }}
    let i = p.y * dims.out_w + p.x;
    var c = src0[i];
{calls}    dst[i] = c;
}}
"""


def fused_shader(ops: Sequence[PointwiseOp]) -> tuple[str, Array]:
    """WGSL body (after the prelude) applying ``ops`` in order, and its packed params.

    Each op's function source appears once however often the op occurs;
    each call gets the offset of that op's parameter rows in ``params``.
    """
    snippets: list[str] = []
    calls: list[str] = []
    blocks: list[Array] = []
    base = 0
    for op in ops:
        src = op.wgsl()
        if src not in snippets:
            snippets.append(src)
        p = np.asarray(op.params(), np.float32).reshape(-1, 4)
        calls.append(f"    c = {op.wgsl_function()}(c, {base}u);\n")
        blocks.append(p)
        base += p.shape[0]
    params = np.concatenate(blocks) if blocks else np.zeros((0, 4), np.float32)
    body = "\n".join(snippets) + _MAIN.format(calls="".join(calls))
    return body, params
