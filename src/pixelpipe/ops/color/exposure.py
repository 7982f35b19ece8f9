"""Exposure in photographic stops.

Algorithm
---------
Scene-linear exposure is a gain: ``out = in * 2**stops`` on R, G and B;
alpha is untouched. +1 stop doubles the linear value, -1 halves it. The
gain is computed once in float64 on the host and applied in float32 on both
backends, so the two agree to one rounding. Apply to linear data: on
display-encoded values the same gain is not an exposure change.

Source: the definition of the photographic stop (a factor of two in
exposure, ISO 12232 / ISO 2720).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field

from pixelpipe.ops.base import Array, PointwiseOp, array_namespace, load_wgsl, pack_params


class Exposure(PointwiseOp):
    """Scale scene-linear RGB by ``2**stops``.

    Parameters
    ----------
    stops : float, -10 to 10, default 0
        Exposure change in stops (EV).

    Input/output: float32 (H, W, 4); NaN and Inf propagate as in IEEE
    arithmetic (``inf * gain = inf``, ``nan * gain = nan``).
    """

    op_name: ClassVar[str] = "exposure"

    stops: float = Field(0.0, ge=-10.0, le=10.0, description="exposure change in stops (EV)",
                         json_schema_extra={"unit": "stops"})

    def is_identity(self) -> bool:
        return self.stops == 0.0

    def gain(self) -> float:
        return float(2.0 ** self.stops)

    def reference(self, x: Array) -> Array:
        xp = array_namespace(x)
        out = x.copy()
        out[..., :3] = x[..., :3] * xp.float32(self.gain())
        return out

    def wgsl(self) -> str:
        return load_wgsl(__package__, "exposure.wgsl")

    def params(self) -> Array:
        return pack_params(np.float32(self.gain()))
