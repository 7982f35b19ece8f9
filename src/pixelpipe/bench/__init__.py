"""The benchmark suite: pixelpipe on cpu and wgpu beside peers and hardware ceilings.

``pixelpipe bench`` runs a short version; ``python benchmarks/run.py`` the
full one (24 MP). Every figure is measured in the same run as the ceilings
it is compared with. Speed targets live here, never in timed tests.
"""

from pixelpipe.bench.result import Result
from pixelpipe.bench.suite import run_suite

__all__ = ["Result", "run_suite"]
