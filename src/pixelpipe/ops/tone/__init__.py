"""Tone ops: contrast and tonal-range adjustments, curves, vignette.

Each op module registers itself when imported; add one re-export line per op.
"""
from pixelpipe.ops.tone.curve import ToneCurve as ToneCurve
from pixelpipe.ops.tone.tone import Tone as Tone
from pixelpipe.ops.tone.vignette import Vignette as Vignette
