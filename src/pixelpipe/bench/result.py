"""The record of one measured figure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]


@dataclass
class Result:
    """One measured figure: wall time on the host and/or GPU time, in seconds."""

    workload: str
    impl: str
    wall_s: float | None = None
    gpu_s: float | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
