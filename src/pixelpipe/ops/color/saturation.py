"""Saturation: scale chroma around luma.

Algorithm
---------
``luma = w_r*r + w_g*g + w_b*b`` and ``out = luma + s * (rgb - luma)``;
alpha untouched. ``s = 0`` gives grey (every channel equal to luma), ``s = 1``
is the identity, ``s > 1`` increases saturation. Luma is preserved for every
``s`` because the weights sum to 1. This is the saturation of the ASC CDL
v1.2 and of OpenColorIO's ``MatrixTransform.Sat``: the same affine map
written as a 3x3 matrix.

Weights: ``"rec709"`` = (0.2126, 0.7152, 0.0722), the luminance coefficients
of ITU-R BT.709 (also sRGB), for linear Rec.709 / sRGB primaries;
``"rec2020"`` = (0.2627, 0.6780, 0.0593), those of ITU-R BT.2020, for linear
Rec.2020 primaries. They are the Y row of each space's RGB-to-XYZ matrix, so
on linear data luma is the CIE luminance Y. Use the weights of the primaries
the data is in.

Both backends evaluate exactly that expression in float32, in that order
(as OpenColorIO's CDL saturation), so ``s = 1`` is the identity to within one
float32 rounding (``luma + (x - luma)``). NaN/Inf follow
IEEE arithmetic: luma mixes all three channels, so a NaN in any channel makes
the whole pixel NaN, and so does an infinity, for every ``s`` (``luma`` is
then infinite and ``luma + s * (x - luma)`` meets ``inf - inf`` or
``0 * inf``).
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from pixelpipe.ops.base import Array, PointwiseOp, array_namespace, load_wgsl, pack_params
from pixelpipe.ops.color.luma import LUMA_WEIGHTS


class Saturation(PointwiseOp):
    """Scale chroma around luma: ``out = luma + saturation * (rgb - luma)``.

    Parameters
    ----------
    saturation : float, 0 to 4, default 1
        Chroma factor: 0 = greyscale, 1 = unchanged, 2 = twice the chroma.
    weights : {"rec709", "rec2020"}, default "rec709"
        Luma weights: ITU-R BT.709 (0.2126, 0.7152, 0.0722) or ITU-R BT.2020
        (0.2627, 0.6780, 0.0593).

    Input/output: float32 (H, W, 4), linear RGB expected; alpha untouched;
    NaN or Inf in any channel makes all three channels NaN.
    An out-of-range factor or unknown weights name raises
    :class:`~pixelpipe.errors.ParameterError` via :meth:`from_config`.
    """

    op_name: ClassVar[str] = "saturation"

    saturation: float = Field(1.0, ge=0.0, le=4.0, allow_inf_nan=False,
                              description="chroma factor around luma: 0 = greyscale, "
                              "1 = unchanged", json_schema_extra={"unit": "factor"})
    weights: Literal["rec709", "rec2020"] = Field(
        "rec709", description="luma weights: ITU-R BT.709 or ITU-R BT.2020 luminance "
        "coefficients (match the data's primaries)")

    def luma_weights(self) -> Array:
        """The float32 weights (3,) of :attr:`weights`."""
        return np.asarray(LUMA_WEIGHTS[self.weights], np.float32)

    def reference(self, x: Array) -> Array:
        xp = array_namespace(x)
        w = xp.asarray(self.luma_weights())
        s = xp.float32(self.saturation)
        v = x[..., :3]
        with np.errstate(invalid="ignore", over="ignore"):
            luma = (v[..., 0:1] * w[0] + v[..., 1:2] * w[1]) + v[..., 2:3] * w[2]
            out = x.copy()
            out[..., :3] = luma + s * (v - luma)
        return out

    def wgsl(self) -> str:
        return load_wgsl(__package__, "saturation.wgsl")

    def params(self) -> Array:
        w = self.luma_weights()
        return pack_params((w[0], w[1], w[2], self.saturation))
