"""Gaussian blur.

Algorithm
---------
The 2-D Gaussian is separable, so the image is correlated with the sampled
1-D kernel along x and then along y (two passes; see
:mod:`pixelpipe.ops.spatial.separable` for edge modes, precision and
non-finite values)::

    r    = int(truncate * sigma + 0.5)
    g[k] = exp(-k**2 / (2 * sigma**2)),   k = -r .. r
    w[k] = g[k] / sum(g)

The weights are computed in float64 on the host and normalised to sum 1,
so a flat image stays flat. ``r`` is the radius that
``scipy.ndimage.gaussian_filter`` uses for the same ``sigma`` and
``truncate``, and with the same ``mode`` the result equals that function
applied with ``sigma=(s, s, 0)`` (tested to 1e-5). Every channel, alpha
included, is filtered independently (straight, not premultiplied, values).

Why sampled rather than integrated over the pixel: it is the convention of
scipy, OpenCV (``getGaussianKernel`` for large sigma) and most image
libraries, so results are comparable; for sigma below about 0.5 the sampled
kernel degenerates towards the identity.

Source: the sampled, truncated Gaussian kernel as defined by
``scipy.ndimage.gaussian_filter1d``; R. C. Gonzalez and R. E. Woods,
*Digital Image Processing*, 4th ed., section 3.5 (smoothing spatial filters).
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


def gaussian_weights(sigma: float, radius: int) -> npt.NDArray[np.float64]:
    """Sampled Gaussian of standard deviation ``sigma`` (pixels), float64 ``(2 * radius + 1,)``.

    Normalised to sum 1.
    """
    k = np.arange(-radius, radius + 1, dtype=np.float64)
    g = np.exp(-0.5 * (k / sigma) ** 2)
    return g / g.sum()


class GaussianBlur(Op):
    """Separable Gaussian blur of all four channels.

    Parameters
    ----------
    sigma : float, pixels, > 0 and <= 200
        Standard deviation of the Gaussian.
    truncate : float, 0.5 to 10, default 4
        Kernel radius in standard deviations: ``radius = int(truncate * sigma + 0.5)``.
    mode : "mirror" | "reflect" | "nearest" | "wrap" | "constant", default "mirror"
        Edge handling (scipy.ndimage names; "mirror" is reflect-101).
    cval : float, default 0
        Value outside the image in "constant" mode.

    Input/output: float32 (H, W, 4), same size. A NaN spreads over the
    kernel footprint (like scipy). Out-of-range parameters raise
    :class:`~pixelpipe.errors.ParameterError` through :meth:`Op.from_config`
    (pydantic ``ValidationError`` when constructed directly).
    """

    op_name: ClassVar[str] = "gaussian_blur"
    kind: ClassVar[OpKind] = OpKind.NEIGHBORHOOD

    sigma: float = Field(..., gt=0.0, le=200.0,
                         description="standard deviation of the Gaussian",
                         json_schema_extra={"unit": "pixels"})
    truncate: float = Field(4.0, ge=0.5, le=10.0,
                            description="kernel radius in standard deviations "
                                        "(radius = int(truncate * sigma + 0.5))",
                            json_schema_extra={"unit": "sigmas"})
    mode: EdgeMode = Field("mirror", description=MODE_DESCRIPTION)
    cval: float = Field(0.0, allow_inf_nan=False,
                        description="value outside the image in constant mode",
                        json_schema_extra={"unit": "image value"})

    def radius(self) -> int:
        """Kernel radius in pixels: ``int(truncate * sigma + 0.5)`` (the planner's halo)."""
        return int(self.truncate * self.sigma + 0.5)

    def weights(self) -> npt.NDArray[np.float64]:
        """The normalised 1-D kernel, float64 ``(2 * radius() + 1,)``."""
        return gaussian_weights(self.sigma, self.radius())

    def reference(self, x: Array) -> Array:
        return separable_reference(x, self.weights(), self.mode, self.cval)

    def gpu_passes(self, height: int, width: int) -> list[GpuPass]:
        return separable_passes(height, width, self.weights(), self.mode, self.cval)
