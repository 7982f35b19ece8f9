"""Luma weights and the float32 luma of RGB, shared by every op that needs one.

The weights are the Y row of each standard's RGB -> XYZ matrix (ITU-R
BT.709-6 item 3.2; ITU-R BT.2020-2 table 4). Applied to linear RGB they
give relative luminance; applied to encoded ``R'G'B'`` (the detail ops)
they give the luma ``Y'`` of ``Y'C'bC'r``.
"""

from __future__ import annotations

from pixelpipe.ops.base import Array, array_namespace

#: Luma weights (R, G, B) by standard.
LUMA_WEIGHTS: dict[str, tuple[float, float, float]] = {
    "rec709": (0.2126, 0.7152, 0.0722),  # ITU-R BT.709-6, item 3.2
    "rec2020": (0.2627, 0.6780, 0.0593),  # ITU-R BT.2020-2, table 4
}

#: Rec. ITU-R BT.2020 weights, the ones the photo ops use.
REC2020: tuple[float, float, float] = LUMA_WEIGHTS["rec2020"]


def luma(x: Array, weights: tuple[float, float, float] = REC2020) -> Array:
    """``wr * R + wg * G + wb * B`` of float32 (H, W, >=3) as float32 (H, W).

    The weights are rounded to float32 and the sum is taken in this order,
    as the WebGPU kernels compute it (up to fused multiply-adds).
    """
    xp = array_namespace(x)
    wr, wg, wb = (xp.float32(w) for w in weights)
    return wr * x[..., 0] + wg * x[..., 1] + wb * x[..., 2]
