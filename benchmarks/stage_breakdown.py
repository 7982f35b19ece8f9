"""Where the develop workflow's GPU time and memory go: each op of the heavy preset alone.

    python benchmarks/stage_breakdown.py [--size 6000x4000] [--repeat 5]

For every op of the heaviest example preset's pipeline: GPU time with the
data resident (timestamp queries), kernels dispatched, and the most image
memory one run held. For the global ops (dehaze, denoise), also their statistics (host wall
time of ``gpu_statistics``: kernels and read-backs) and their apply passes
alone with the statistics fixed. Also the cost of a cold start (process start, device,
shader compilation) that a ``pixelpipe develop --batch`` run pays once.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from typing import Any, ClassVar

import numpy as np
from pydantic import ConfigDict

from pixelpipe import Pipeline
from pixelpipe.backends import get_backend
from pixelpipe.bench.suite import heavy_pipeline, make_image
from pixelpipe.ops.base import Array, GlobalOp, GpuPass, Op, OpKind


class _Frozen(Op):
    """A global op's apply passes with statistics fixed in advance (no mid-plan read-back)."""

    kind: ClassVar[OpKind] = OpKind.NEIGHBORHOOD
    model_config = ConfigDict(arbitrary_types_allowed=True)
    inner: Any
    stats: Any

    def __init__(self, inner: GlobalOp, stats: Any) -> None:
        super().__init__(inner=inner, stats=stats)

    def reference(self, x: Array) -> Array:
        return self.inner.apply(x, self.stats)

    def gpu_passes(self, height: int, width: int) -> list[GpuPass]:
        return self.inner.gpu_passes_with(height, width, self.stats)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", default="6000x4000")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    be = get_backend("wgpu")
    x = make_image(h, w)
    pipe = heavy_pipeline(x)
    f32 = x.nbytes
    t0 = time.perf_counter()
    pipe.run(x, backend=be)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    pipe.run(x, backend=be)
    second = time.perf_counter() - t0
    print(f"device: {be.describe()}  image {w}x{h}")
    print(f"whole pipeline: first run {first:.2f} s (shader compilation), second {second:.3f} s")
    total = statistics.median(be.time_resident(pipe.plan(), x, args.repeat, warmup_s=1.0))
    print(f"whole pipeline GPU time (resident): {total * 1e3:.2f} ms, "
          f"{be.kernels_dispatched} kernels, image memory {be.last_run_bytes / f32:.1f}x f32")
    print(f"{'op':16} {'gpu ms':>9} {'kernels':>8} {'memory x f32':>13}")
    for op in pipe.ops:
        p = Pipeline([op])
        p.run(x, backend=be)
        t = statistics.median(be.time_resident(p.plan(), x, args.repeat, warmup_s=0.3))
        print(f"{op.op_name:16} {t * 1e3:9.3f} {be.kernels_dispatched:8d} "
              f"{be.last_run_bytes / f32:13.1f}")
    print("global ops, split: statistics (host wall: GPU kernels + read-backs) / apply (GPU)")
    x4 = np.concatenate([x, np.ones((*x.shape[:2], 1), np.float32)], axis=2)
    buf = be.pool.acquire(x4.nbytes)
    be.staging.upload(x4, buf)
    for op in pipe.ops:
        if not isinstance(op, GlobalOp):
            continue
        walls = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            stats = op.gpu_statistics(be, buf, h, w)
            walls.append(time.perf_counter() - t0)
        frozen = Pipeline([_Frozen(op, stats)]).plan()
        t = statistics.median(be.time_resident(frozen, x, args.repeat, warmup_s=0.3))
        print(f"{op.op_name:16} statistics {statistics.median(walls) * 1e3:8.3f} ms   "
              f"apply {t * 1e3:8.3f} ms")
    be.pool.release(buf)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import pixelpipe.backends as b; b.get_backend('wgpu')"],
                   check=True)
    print(f"cold start (import + adapter + device): {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
