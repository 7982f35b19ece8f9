"""What every backend provides."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from pixelpipe.ops.base import Array
from pixelpipe.pipeline.plan import Plan


@dataclass
class BackendStatus:
    """Whether a backend can run here, and if not, why."""

    name: str
    available: bool
    reason: str = ""
    adapters: list[dict[str, object]] = field(default_factory=list)


class Backend(ABC):
    """Runs a plan on an RGBA float32 image."""

    name: str = ""

    @abstractmethod
    def run(self, plan: Plan, rgba: Array) -> Array:
        """Run ``plan`` on ``rgba`` (float32, (H, W, 4)); return float32 (H', W', 4)."""

    def describe(self) -> str:
        """One line naming the device the backend runs on."""
        return self.name
