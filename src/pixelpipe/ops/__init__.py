"""The operation catalogue.

One subpackage per family; every op is a frozen pydantic model with a
NumPy reference and a WGSL implementation (see :mod:`pixelpipe.ops.base`).
"""

from pixelpipe.ops.base import (
    GlobalOp,
    GpuPass,
    Op,
    OpKind,
    PointwiseOp,
    get_op_class,
    registry,
)
from pixelpipe.ops.color import *  # noqa: F403
from pixelpipe.ops.film import *  # noqa: F403
from pixelpipe.ops.geometry import *  # noqa: F403
from pixelpipe.ops.spatial import *  # noqa: F403
from pixelpipe.ops.tone import *  # noqa: F403

__all__ = ["GlobalOp", "GpuPass", "Op", "OpKind", "PointwiseOp", "get_op_class", "registry"]
