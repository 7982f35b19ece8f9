"""pixelpipe: GPU-accelerated image processing pipelines with a NumPy reference.

Quick start::

    import pixelpipe
    from pixelpipe import ops

    img = pixelpipe.read("photo.tiff")
    out = pixelpipe.Pipeline([ops.Exposure(stops=0.5)]).run(img, backend="auto")
    pixelpipe.write("out.tiff", out)
"""

from pixelpipe import ops, stats
from pixelpipe.errors import (
    BackendUnavailable,
    GPUError,
    InputError,
    OutputError,
    ParameterError,
    PipelineError,
    PixelpipeError,
)
from pixelpipe.image import Image, ImageMeta
from pixelpipe.io import info, read, write
from pixelpipe.pipeline import Pipeline

__version__ = "0.1.0"

__all__ = [
    "BackendUnavailable",
    "GPUError",
    "Image",
    "ImageMeta",
    "InputError",
    "OutputError",
    "ParameterError",
    "Pipeline",
    "PipelineError",
    "PixelpipeError",
    "__version__",
    "info",
    "ops",
    "read",
    "stats",
    "write",
]
