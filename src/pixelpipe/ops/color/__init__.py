"""Colour ops: pointwise transforms of RGB values.

Each op module registers itself when imported; add one re-export line per op.
"""

from pixelpipe.ops.color.cdl import CDL as CDL
from pixelpipe.ops.color.colorspace import ColorSpace as ColorSpace
from pixelpipe.ops.color.exposure import Exposure as Exposure
from pixelpipe.ops.color.grading import ColorGrading as ColorGrading
from pixelpipe.ops.color.hsl import HSL as HSL
from pixelpipe.ops.color.lut1d import LUT1D as LUT1D
from pixelpipe.ops.color.lut3d import LUT3D as LUT3D
from pixelpipe.ops.color.matrix import Matrix as Matrix
from pixelpipe.ops.color.saturation import Saturation as Saturation
from pixelpipe.ops.color.transfer import Transfer as Transfer
from pixelpipe.ops.color.white_balance import WhiteBalance as WhiteBalance
