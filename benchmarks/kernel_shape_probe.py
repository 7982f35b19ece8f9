"""How the work per invocation changes the speed of the separable and fused kernels.

    python benchmarks/kernel_shape_probe.py [--size 6000x4000] [--repeat 10]

Times, with the data resident (timestamp queries):

* the x pass and the y pass of the separable correlation alone for several
  ``run`` (outputs per invocation) and ``unroll`` (taps per loop iteration),
  kernel radii 5, 24, 48 (sharpen, W2's sigma 8, clarity's sigma 16), each
  checked against the reference on a small odd-sized image;
* W1's fused colour chain for ``ROWS`` (pixels per invocation) = 1, 2, 4, 8;

beside a copy kernel reading and writing the same image once (the
memory-bound floor of one pass). Each timing follows 0.3 s of untimed
runs, so the GPU's clocks have ramped up.
"""

from __future__ import annotations

import argparse
import statistics
from typing import ClassVar

import numpy as np

from pixelpipe import Pipeline
from pixelpipe.backends import get_backend
from pixelpipe.backends.wgpu import fuse
from pixelpipe.bench import ceilings
from pixelpipe.bench.suite import make_image, make_lut, w1_ops
from pixelpipe.ops.base import Array, GpuPass, Op, OpKind
from pixelpipe.ops.spatial.gaussian_blur import gaussian_weights
from pixelpipe.ops.spatial.separable import (
    pass_params,
    pass_shader,
    pass_tile,
    separable_reference,
)

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
    ap.add_argument("--only-w1", action="store_true", help="only the fused colour chain")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    be = get_backend("wgpu")
    x = np.random.default_rng(0).random((h, w, 4), dtype=np.float32)

    def time(passes: list[GpuPass]) -> float:
        _Passes.passes = passes
        plan = Pipeline([_Passes()]).plan()
        return statistics.median(be.time_resident(plan, x, args.repeat, warmup_s=0.3)) * 1e3

    size = (h, w)
    copy = time([GpuPass(COPY, np.zeros((1, 4), np.float32), size)])
    print(f"device: {be.describe()}  image {w}x{h} RGBA f32")
    print(f"copy kernel: {copy:.3f} ms")
    print(f"{'radius':>6} {'kernel':>22} {'x pass ms':>10} {'y pass ms':>10}")
    ref = np.random.default_rng(1).random((37, 53, 4), dtype=np.float32)
    for r in () if args.only_w1 else (5, 24, 48):
        wts = gaussian_weights(r / 3.0, r)
        params = pass_params(wts, "mirror", 0.0)
        expect = separable_reference(ref, wts, "mirror")
        for run, unroll in ((2, 1), (4, 1), (2, 4), (4, 4), (4, 8), (8, 4)):
            name = f"run {run}, unroll {unroll}"

            def make(a: int, run: int = run, unroll: int = unroll) -> tuple[str, tuple[int, int]]:
                return pass_shader(a, run, unroll), pass_tile(a, run)

            t = []
            for axis in (1, 0):
                src, tile = make(axis)
                t.append(time([GpuPass(src, params, size, tile=tile)]))
            # correctness of the candidate on a small odd-sized image
            _Passes.passes = [GpuPass(make(1)[0], params, ref.shape[:2], tile=make(1)[1]),
                              GpuPass(make(0)[0], params, ref.shape[:2], ("p0",),
                                      tile=make(0)[1])]
            got = Pipeline([_Passes()]).run(ref, backend=be)
            err = float(np.max(np.abs(got - expect)))
            print(f"{r:6d} {name:>22} {t[0]:10.3f} {t[1]:10.3f}   max err {err:.1e}")
    x = np.concatenate([make_image(h, w), np.ones((h, w, 1), np.float32)], axis=2)
    rate = ceilings.cupy_device_copy_rate(x.nbytes)
    if rate:
        print(f"CuPy device copy of the image: {x.nbytes / rate * 1e3:.3f} ms")
    w1 = Pipeline(w1_ops(make_lut())).plan()
    for rows in (1, 2, 4, 8):
        fuse.ROWS = rows
        t1 = statistics.median(be.time_resident(w1, x, args.repeat, warmup_s=0.3)) * 1e3
        print(f"W1 fused chain, {rows} px/invocation: {t1:.3f} ms")


if __name__ == "__main__":
    main()
