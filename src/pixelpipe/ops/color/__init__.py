"""Colour ops: pointwise transforms of RGB values.

Each op module registers itself when imported; add one re-export line per op.
"""

from pixelpipe.ops.color.cdl import CDL as CDL
from pixelpipe.ops.color.exposure import Exposure as Exposure
