"""geometry ops.

Each op module registers itself when imported; add one re-export line per op.
"""
from pixelpipe.ops.geometry.crop import Crop as Crop
from pixelpipe.ops.geometry.flip import Flip as Flip
from pixelpipe.ops.geometry.resize import Resize as Resize
from pixelpipe.ops.geometry.rotate import Rotate as Rotate
