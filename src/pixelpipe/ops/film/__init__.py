"""Film ops: grain and the emulation of photographic film.

Each op module registers itself when imported; add one re-export line per op.
"""
from pixelpipe.ops.film.grain import Grain as Grain
