"""geometry ops.

Each op module registers itself when imported; add one re-export line per op.
"""
