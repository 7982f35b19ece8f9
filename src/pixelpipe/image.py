"""The in-memory image model shared by every layer."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

#: Colour encodings pixelpipe knows by name. ``"srgb"`` = sRGB transfer on
#: Rec.709 primaries (the default of 8/16-bit PNG/JPEG/TIFF), ``"linear"`` =
#: scene-linear (the default of float EXR/TIFF).
COLOR_ENCODINGS = ("srgb", "linear", "rec709", "gamma22", "log", "unknown")


@dataclass
class ImageMeta:
    """What a file says about its pixels, beyond the pixels.

    Attributes
    ----------
    format : str
        Container format: ``"png"``, ``"jpeg"``, ``"tiff"``, ``"exr"``, or
        ``"array"`` for an image made in memory.
    color_encoding : str
        One of :data:`COLOR_ENCODINGS`.
    bit_depth : int
        Bits per sample in the source: 8, 16 or 32.
    sample_type : str
        ``"uint"``, ``"half"`` or ``"float"``; together with ``bit_depth`` it
        names the source's sample type (uint8, uint16, float16, float32).
    icc_profile, exif : bytes or None
        Raw ICC profile and EXIF blocks when the file carries them.
    channel_names : tuple of str
        Names of the channels in order (``("R", "G", "B")``, ``("Y",)``,
        EXR layer-qualified names such as ``("diffuse.R", ...)``).
    data_window, display_window : (xmin, ymin, xmax, ymax) or None
        OpenEXR windows, inclusive pixel coordinates.
    exr_header : dict
        OpenEXR header attributes other than the ones above, as Python values.
    parts, layers : tuple of str
        For EXR: the names of all parts in the file and of all layers in the
        part that was read.
    extra : dict
        Anything else a reader wants to keep (TIFF compression, JPEG quality).
    """

    format: str = "array"
    color_encoding: str = "unknown"
    bit_depth: int = 32
    sample_type: str = "float"
    icc_profile: bytes | None = None
    exif: bytes | None = None
    channel_names: tuple[str, ...] = ()
    data_window: tuple[int, int, int, int] | None = None
    display_window: tuple[int, int, int, int] | None = None
    exr_header: dict[str, Any] = field(default_factory=dict)
    parts: tuple[str, ...] = ()
    layers: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def dtype(self) -> np.dtype[Any]:
        """The NumPy dtype of the source samples (uint8, uint16, float16, float32)."""
        if self.sample_type == "uint":
            return np.dtype(np.uint8 if self.bit_depth <= 8 else np.uint16)
        if self.sample_type == "half":
            return np.dtype(np.float16)
        return np.dtype(np.float32)


@dataclass
class Image:
    """A decoded image: float32 pixels plus metadata.

    Attributes
    ----------
    array : ndarray, float32, shape (H, W, C), C in {1, 3, 4}
        Pixel values. Integer sources are scaled to [0, 1] (value / (2**bits - 1));
        float sources keep their values, NaN and Inf included.
    meta : ImageMeta
        Source description; carried through pipelines so that writers can
        keep bit depth, ICC profile and EXIF.
    """

    array: npt.NDArray[np.float32]
    meta: ImageMeta = field(default_factory=ImageMeta)

    def __post_init__(self) -> None:
        a = self.array
        if a.ndim == 2:
            a = a[:, :, None]
        if a.ndim != 3 or a.shape[2] not in (1, 3, 4):
            raise ValueError(f"Image.array must be (H, W, C) with C in 1, 3, 4; got {a.shape}")
        if a.dtype != np.float32:
            a = a.astype(np.float32)
        self.array = a

    @property
    def height(self) -> int:
        return int(self.array.shape[0])

    @property
    def width(self) -> int:
        return int(self.array.shape[1])

    @property
    def channels(self) -> int:
        return int(self.array.shape[2])

    def with_array(self, array: npt.NDArray[np.float32]) -> Image:
        """A new Image with other pixels and the same metadata."""
        return replace(self, array=array)
