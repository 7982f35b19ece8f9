"""spatial ops.

Each op module registers itself when imported; add one re-export line per op.
"""
from pixelpipe.ops.spatial.box_blur import BoxBlur as BoxBlur
from pixelpipe.ops.spatial.dehaze import Dehaze as Dehaze
from pixelpipe.ops.spatial.denoise import Denoise as Denoise
from pixelpipe.ops.spatial.detail import Clarity as Clarity
from pixelpipe.ops.spatial.detail import Sharpen as Sharpen
from pixelpipe.ops.spatial.detail import Texture as Texture
from pixelpipe.ops.spatial.gaussian_blur import GaussianBlur as GaussianBlur
from pixelpipe.ops.spatial.unsharp_mask import UnsharpMask as UnsharpMask
