"""Box blur (moving average).

Algorithm
---------
The mean over a ``(2r + 1) x (2r + 1)`` window centred on each pixel,
computed separably: a 1-D mean of ``2r + 1`` samples along x, then along y
(see :mod:`pixelpipe.ops.spatial.separable` for edge modes, precision and
non-finite values)::

    w[k] = 1 / (2r + 1),   k = -r .. r

With the same ``mode`` the result equals ``scipy.ndimage.uniform_filter``
with ``size=(2r+1, 2r+1, 1)`` (tested to 1e-5) and OpenCV's ``blur`` /
``boxFilter`` with ``normalize=True`` for the matching border. Every
channel, alpha included, is filtered independently.

Both backends sum the window directly (no running sum), so a NaN spreads
over exactly the window around it. ``scipy.ndimage.uniform_filter`` uses a
running sum along each line, which carries a NaN on to the end of the
line; that is the one place the two differ.

Source: the moving-average (mean) filter, R. C. Gonzalez and R. E. Woods,
*Digital Image Processing*, 4th ed., section 3.5.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import numpy.typing as npt
from pydantic import Field

from pixelpipe.ops.base import Array, GpuPass, Op, OpKind
from pixelpipe.ops.spatial.separable import (
    MODE_DESCRIPTION,
    EdgeMode,
    separable_passes,
    separable_reference,
)


class BoxBlur(Op):
    """Separable box (mean) blur of all four channels.

    Parameters
    ----------
    radius : int, pixels, 0 to 2000
        Half-width of the window; the window is ``2 * radius + 1`` pixels
        on each axis (0 = identity).
    mode : "mirror" | "reflect" | "nearest" | "wrap" | "constant", default "mirror"
        Edge handling (scipy.ndimage names; "mirror" is reflect-101).
    cval : float, default 0
        Value outside the image in "constant" mode.

    Input/output: float32 (H, W, 4), same size. A NaN spreads over the window.
    """

    op_name: ClassVar[str] = "box_blur"
    kind: ClassVar[OpKind] = OpKind.NEIGHBORHOOD

    # named radius in configs (the alias); the attribute name keeps Op.radius() free
    window_radius: int = Field(..., ge=0, le=2000, alias="radius",
                               description="half-width of the window (window = 2 r + 1)",
                               json_schema_extra={"unit": "pixels"})
    mode: EdgeMode = Field("mirror", description=MODE_DESCRIPTION)
    cval: float = Field(0.0, allow_inf_nan=False,
                        description="value outside the image in constant mode",
                        json_schema_extra={"unit": "image value"})

    def radius(self) -> int:
        """Window half-width in pixels (the planner's halo)."""
        return self.window_radius

    def weights(self) -> npt.NDArray[np.float64]:
        """The 1-D kernel, float64 ``(2r + 1,)``, all ``1 / (2r + 1)``."""
        n = 2 * self.window_radius + 1
        return np.full(n, 1.0 / n)

    def reference(self, x: Array) -> Array:
        return separable_reference(x, self.weights(), self.mode, self.cval)

    def gpu_passes(self, height: int, width: int) -> list[GpuPass]:
        return separable_passes(height, width, self.weights(), self.mode, self.cval)
