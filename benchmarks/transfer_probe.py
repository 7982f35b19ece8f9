"""Upload and download rates through mapped staging buffers, by copy threads and chunk size.

    python benchmarks/transfer_probe.py [--mb 384]

For each (host copy threads, staging chunk) pair: the best of 3 uploads and
downloads of ``--mb`` MB between a NumPy array and a GPU buffer, beside the
host's own memcpy rate with the same thread count. Guides ``COPY_THREADS``
and the staging chunk of :mod:`pixelpipe.backends.wgpu.pool`.
"""

from __future__ import annotations

import argparse

from pixelpipe.backends import get_backend
from pixelpipe.backends.wgpu import pool
from pixelpipe.bench import ceilings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--mb", type=int, default=384)
    args = ap.parse_args()
    nbytes = args.mb << 20
    be = get_backend("wgpu")
    print(f"device: {be.describe()}  {args.mb} MB")
    print(f"{'threads':>7} {'chunk MiB':>9} {'memcpy GB/s':>11} {'up GB/s':>8} {'down GB/s':>9}")
    for threads in (4, 8, 12):
        pool.COPY_THREADS = threads
        pool._pool = None  # a new executor with this many threads
        memcpy = ceilings.host_memcpy(nbytes, threads)
        for chunk_mb in (32, 64, 128):
            saved = be.staging
            be.staging = pool.Staging(be.device, chunk_mb << 20)
            try:
                up, down = ceilings.transfer_rates(be, nbytes)
            finally:
                be.staging = saved
            print(f"{threads:7d} {chunk_mb:9d} {memcpy / 1e9:11.1f} {up / 1e9:8.1f} "
                  f"{down / 1e9:9.1f}")


if __name__ == "__main__":
    main()
