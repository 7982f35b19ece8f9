"""The CPU backend: runs each op's reference implementation (NumPy)."""

from __future__ import annotations

import numpy as np

from pixelpipe.backends.base import Backend
from pixelpipe.ops.base import Array
from pixelpipe.pipeline.plan import Plan


class CpuBackend(Backend):
    """The reference backend. Its output defines the right answer."""

    name = "cpu"

    def run(self, plan: Plan, rgba: Array) -> Array:
        x = rgba
        for stage in plan.stages:
            for op in stage.ops:
                x = op.reference(x)
        return np.ascontiguousarray(x, dtype=np.float32)

    def describe(self) -> str:
        return "cpu (NumPy reference)"
