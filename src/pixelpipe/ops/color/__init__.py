"""Colour ops: pointwise transforms of RGB values."""

from pixelpipe.ops.color.exposure import Exposure

__all__ = ["Exposure"]
