"""How the work per invocation changes the speed of the separable and fused kernels.

    python benchmarks/kernel_shape_probe.py [--size 6000x4000] [--repeat 10]

Times, with the data resident (timestamp queries):

* the x pass and the y pass of the separable correlation alone for ``RUN``
  (outputs per invocation) = 1, 2, 4, 8 and kernel radii 5, 24, 48
  (sharpen, W2's sigma 8, clarity's sigma 16);
* W1's fused colour chain for ``ROWS`` (pixels per invocation) = 1, 2, 4, 8;

beside a copy kernel reading and writing the same image once (the
memory-bound floor of one pass).
"""

from __future__ import annotations

import argparse
import statistics
from typing import ClassVar

import numpy as np

from pixelpipe import Pipeline
from pixelpipe.backends import get_backend
from pixelpipe.backends.wgpu import fuse
from pixelpipe.bench.suite import make_lut, w1_ops
from pixelpipe.ops.base import Array, GpuPass, Op, OpKind
from pixelpipe.ops.spatial.gaussian_blur import gaussian_weights
from pixelpipe.ops.spatial.separable import pass_params, pass_shader, pass_tile

COPY = """
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let p = pixel_coord(wid, lid);
    if (p.x >= dims.out_w || p.y >= dims.out_h) { return; }
    let i = p.y * dims.out_w + p.x;
    dst[i] = src0[i];
}
"""


class _Passes(Op):
    kind: ClassVar[OpKind] = OpKind.NEIGHBORHOOD
    passes: ClassVar[list[GpuPass]] = []

    def reference(self, x: Array) -> Array:  # timing only
        return x

    def gpu_passes(self, height: int, width: int) -> list[GpuPass]:
        return type(self).passes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", default="6000x4000")
    ap.add_argument("--repeat", type=int, default=10)
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    be = get_backend("wgpu")
    x = np.random.default_rng(0).random((h, w, 4), dtype=np.float32)

    def time(passes: list[GpuPass]) -> float:
        _Passes.passes = passes
        plan = Pipeline([_Passes()]).plan()
        be.time_resident(plan, x, 2)  # compile, warm up
        return statistics.median(be.time_resident(plan, x, args.repeat)) * 1e3

    size = (h, w)
    copy = time([GpuPass(COPY, np.zeros((1, 4), np.float32), size)])
    print(f"device: {be.describe()}  image {w}x{h} RGBA f32")
    print(f"copy kernel: {copy:.3f} ms")
    print(f"{'radius':>6} {'run':>4} {'x pass ms':>10} {'y pass ms':>10}")
    for r in (5, 24, 48):
        params = pass_params(gaussian_weights(r / 3.0, r), "mirror", 0.0)
        for run in (1, 2, 4, 8):
            t = [time([GpuPass(pass_shader(axis, run), params, size, tile=pass_tile(axis, run))])
                 for axis in (1, 0)]
            print(f"{r:6d} {run:4d} {t[0]:10.3f} {t[1]:10.3f}")
    w1 = Pipeline(w1_ops(make_lut())).plan()
    for rows in (1, 2, 4, 8):
        fuse.ROWS = rows
        be.time_resident(w1, x, 2)
        t1 = statistics.median(be.time_resident(w1, x, args.repeat)) * 1e3
        print(f"W1 fused chain, {rows} px/invocation: {t1:.3f} ms")


if __name__ == "__main__":
    main()
