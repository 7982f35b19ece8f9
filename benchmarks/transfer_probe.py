"""Upload and download rates through mapped staging buffers, and their parts.

    python benchmarks/transfer_probe.py [--mb 384 72]

For each transfer size, host copy thread count and staging chunk: the best
of 3 uploads and downloads between a NumPy array and a GPU buffer, beside
the host's memcpy rate with the same threads. Then the parts a transfer is
made of, each alone: filling a mapped staging buffer from host memory,
draining one into host memory, and the GPU's copy between staging and
device memory. A pipelined transfer can at best reach the slower of its
host part and its copy. Guides ``COPY_THREADS`` and the staging chunk of
:mod:`pixelpipe.backends.wgpu.pool`.
"""

from __future__ import annotations

import argparse

from pixelpipe.backends import get_backend
from pixelpipe.backends.wgpu import pool
from pixelpipe.bench import ceilings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--mb", type=int, nargs="+", default=[384, 72])
    args = ap.parse_args()
    be = get_backend("wgpu")
    print(f"device: {be.describe()}")
    print(f"{'MB':>5} {'threads':>7} {'chunk MiB':>9} {'memcpy GB/s':>11} {'up GB/s':>8} "
          f"{'down GB/s':>9}")
    for threads in (8, 12, 16):
        pool.COPY_THREADS = threads
        pool._pool = None  # a new executor with this many threads
        for mb in args.mb:
            nbytes = mb << 20
            memcpy = ceilings.host_memcpy(nbytes, threads)
            for chunk_mb in (16, 32, 64):
                saved = be.staging
                be.staging = pool.Staging(be.device, chunk_mb << 20)
                try:
                    up, down = ceilings.transfer_rates(be, nbytes)
                finally:
                    be.staging = saved
                print(f"{mb:5d} {threads:7d} {chunk_mb:9d} {memcpy / 1e9:11.1f} "
                      f"{up / 1e9:8.1f} {down / 1e9:9.1f}")
        parts = ceilings.staging_parts(be)
        print(f"parts, {threads} threads, 64 MiB: "
              + ", ".join(f"{k} {v / 1e9:.1f} GB/s" for k, v in parts.items()))


if __name__ == "__main__":
    main()
