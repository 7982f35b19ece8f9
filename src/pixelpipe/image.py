"""The in-memory image model shared by every layer."""

from __future__ import annotations

from dataclasses import dataclass, field
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


class Image:
    """A decoded image: pixels plus metadata.

    Attributes
    ----------
    array : ndarray, float32, shape (H, W, C), C in {1, 3, 4}
        Pixel values. Integer sources are scaled to [0, 1] (value / (2**bits - 1));
        float sources keep their values, NaN and Inf included.
    samples : ndarray or None
        The decoded samples in their own type (uint8, uint16, float16 or
        float32), shape (H, W, C), when the image came from them. Readers
        keep them so that the GPU backend can upload 1 or 2 bytes per sample
        and convert on the device; ``array`` is then computed from them on
        first use (rules in :mod:`pixelpipe.samples`) and cached.
    meta : ImageMeta
        Source description; carried through pipelines so that writers can
        keep bit depth, ICC profile and EXIF.

    ``Image(array, meta)`` makes an image from float pixels;
    ``Image(samples=..., meta=...)`` from samples of any supported type.
    Raises ``ValueError`` for a shape other than (H, W) or (H, W, C) with C in
    1, 3, 4.
    """

    __slots__ = ("_array", "_samples", "meta")

    def __init__(self, array: npt.NDArray[Any] | None = None, meta: ImageMeta | None = None,
                 *, samples: npt.NDArray[Any] | None = None) -> None:
        if array is None and samples is None:
            raise ValueError("Image needs an array or samples")
        self._array = None if array is None else _as_pixels(array)
        self._samples = None if samples is None else _as_samples(samples)
        if self._array is not None and self._samples is not None \
                and self._array.shape != self._samples.shape:
            raise ValueError(f"array {self._array.shape} and samples {self._samples.shape} "
                             "differ in shape")
        self.meta = meta if meta is not None else ImageMeta()

    @property
    def array(self) -> npt.NDArray[np.float32]:
        if self._array is None:
            from pixelpipe.samples import to_float

            assert self._samples is not None
            self._array = to_float(self._samples)
        return self._array

    @property
    def samples(self) -> npt.NDArray[Any] | None:
        return self._samples

    @property
    def pixels(self) -> npt.NDArray[Any]:
        """The samples when the image has them, else the float array (no conversion)."""
        return self._samples if self._samples is not None else self.array

    @property
    def shape(self) -> tuple[int, int, int]:
        h, w, c = (self._samples if self._samples is not None else self.array).shape
        return int(h), int(w), int(c)

    @property
    def height(self) -> int:
        return self.shape[0]

    @property
    def width(self) -> int:
        return self.shape[1]

    @property
    def channels(self) -> int:
        return self.shape[2]

    def with_array(self, array: npt.NDArray[np.float32]) -> Image:
        """A new Image with other float pixels and the same metadata."""
        return Image(array, self.meta)

    def with_samples(self, samples: npt.NDArray[Any]) -> Image:
        """A new Image with other samples (any supported type) and the same metadata."""
        return Image(meta=self.meta, samples=samples)

    def __repr__(self) -> str:
        kind = self._samples.dtype if self._samples is not None else "float32"
        return f"Image({self.width}x{self.height}x{self.channels} {kind}, {self.meta.format})"


def _as_pixels(a: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    a = np.asarray(a)
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in (1, 3, 4):
        raise ValueError(f"Image.array must be (H, W, C) with C in 1, 3, 4; got {a.shape}")
    if a.dtype != np.float32:
        a = a.astype(np.float32)
    return a


def _as_samples(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
    from pixelpipe.samples import SAMPLE_DTYPES

    a = np.asarray(a)
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in (1, 3, 4):
        raise ValueError(f"Image samples must be (H, W, C) with C in 1, 3, 4; got {a.shape}")
    if a.dtype not in SAMPLE_DTYPES:
        raise ValueError(f"unsupported sample type {a.dtype}")
    return a
