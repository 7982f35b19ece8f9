"""Run the benchmark suite: ``python benchmarks/run.py [--size 6000x4000] [--out results.json]``.

Prints one table last and writes every figure as JSON. Measure on the
machine whose numbers you report; see docs/performance.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pixelpipe.bench.suite import format_table, run_suite


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", default="6000x4000", help="WIDTHxHEIGHT of the test image")
    ap.add_argument("--out", type=Path, default=Path("bench-results.json"))
    ap.add_argument("--adapter", default=None, help="WebGPU adapter (name substring or index)")
    ap.add_argument("--gpu-repeat", type=int, default=5)
    ap.add_argument("--batch", type=int, default=20, help="JPEGs in W6 (0: leave W6 out)")
    ap.add_argument("--cpu-size", default=None,
                    help="WIDTHxHEIGHT for W5's cpu figure (default: the full size)")
    ap.add_argument("--w6-cpu-files", type=int, default=1,
                    help="files of W6 developed on the cpu backend (0: none; minutes each)")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.lower().split("x"))
    cpu_size = None
    if args.cpu_size:
        cw, ch = (int(v) for v in args.cpu_size.lower().split("x"))
        cpu_size = (ch, cw)
    report = run_suite(h, w, out=args.out, adapter=args.adapter, gpu_repeat=args.gpu_repeat,
                       batch_files=args.batch, cpu_size=cpu_size,
                       w6_cpu_files=args.w6_cpu_files)
    print(format_table(report))
    print(f"full results: {args.out}")


if __name__ == "__main__":
    main()
