"""Planning: an ordered list of ops -> backend-independent stages.

Following OpenColorIO's processor model, adjacent pointwise ops are merged:
every maximal run of consecutive :class:`~pixelpipe.ops.base.PointwiseOp`
becomes ONE fused stage, which the WebGPU backend emits as one generated
kernel (one read and one write of the image however long the chain).
Neighbourhood ops carry their radius; the plan's halo is their sum, which
is what a tiled executor must read around each tile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pixelpipe.ops.base import Op, OpKind, PointwiseOp


@dataclass(frozen=True)
class Stage:
    """One step of a plan: a fused run of pointwise ops, or one other op."""

    ops: tuple[Op, ...]

    @property
    def fused(self) -> bool:
        return isinstance(self.ops[0], PointwiseOp)

    @property
    def kind(self) -> OpKind:
        return self.ops[0].kind

    @property
    def radius(self) -> int:
        return sum(op.radius() for op in self.ops)

    def output_shape(self, height: int, width: int) -> tuple[int, int]:
        for op in self.ops:
            height, width = op.output_shape(height, width)
        return height, width


@dataclass(frozen=True)
class Plan:
    """The stages of a pipeline, in order."""

    stages: tuple[Stage, ...]

    @property
    def halo(self) -> int:
        """Total neighbourhood radius in pixels (input pixels a tile must read beyond itself)."""
        return sum(s.radius for s in self.stages)

    def output_shape(self, height: int, width: int) -> tuple[int, int]:
        for s in self.stages:
            height, width = s.output_shape(height, width)
        return height, width

    def describe(self) -> str:
        """One line per stage, for ``--verbose`` and debugging."""
        lines = []
        for i, s in enumerate(self.stages):
            names = " -> ".join(op.op_name for op in s.ops)
            tag = "fused pointwise" if s.fused else s.kind.value
            extra = f", radius {s.radius}" if s.radius else ""
            lines.append(f"stage {i}: {tag} [{names}]{extra}")
        return "\n".join(lines)


def plan(ops: Sequence[Op]) -> Plan:
    """Group ``ops`` into stages: consecutive pointwise ops share one stage."""
    stages: list[Stage] = []
    run: list[Op] = []
    for op in ops:
        if isinstance(op, PointwiseOp):
            run.append(op)
            continue
        if run:
            stages.append(Stage(tuple(run)))
            run = []
        stages.append(Stage((op,)))
    if run:
        stages.append(Stage(tuple(run)))
    return Plan(tuple(stages))
