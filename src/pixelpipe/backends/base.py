"""What every backend provides."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from pixelpipe.ops.base import Array
from pixelpipe.pipeline.plan import Plan
from pixelpipe.samples import channels_of, from_float, from_rgba, to_rgba


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

    def run_samples(self, plan: Plan, samples: npt.NDArray[Any], out_dtype: Any = np.float32,
                    out_channels: int | None = None) -> npt.NDArray[Any]:
        """Run ``plan`` on raw samples (H, W[, C]) of uint8/uint16/float16/float32.

        Returns samples of ``out_dtype`` with ``out_channels`` (default: the
        input's), converted by the rules of :mod:`pixelpipe.samples`. This
        host implementation converts on the CPU; the WebGPU backend converts
        on the device so that only the samples' own bytes cross the bus.
        """
        channels = channels_of(samples)
        out = self.run(plan, to_rgba(samples))
        return from_float(from_rgba(out, channels if out_channels is None else out_channels),
                          out_dtype)

    def describe(self) -> str:
        """One line naming the device the backend runs on."""
        return self.name
