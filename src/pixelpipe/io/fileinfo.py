"""What :func:`pixelpipe.io.info` reports about a file, from its header only."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class PartInfo:
    """One part of an OpenEXR file.

    Windows are (xmin, ymin, xmax, ymax), inclusive pixel coordinates.
    """

    index: int
    name: str
    storage: str  # "scanlineimage" or "tiledimage"
    compression: str
    data_window: tuple[int, int, int, int]
    display_window: tuple[int, int, int, int]
    channels: tuple[str, ...]  # "name (type, xs x ys sampling)"
    layers: tuple[str, ...]
    tile_size: tuple[int, int] | None = None
    level_mode: str = "one"
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def width(self) -> int:
        return self.data_window[2] - self.data_window[0] + 1

    @property
    def height(self) -> int:
        return self.data_window[3] - self.data_window[1] + 1


@dataclass
class FileInfo:
    """A file's header facts.

    Attributes
    ----------
    path : Path
    format : str
        ``"png"``, ``"jpeg"``, ``"tiff"`` or ``"exr"``.
    width, height : int
        Pixels (EXR: of the first part's data window).
    channels : int
        Samples per pixel in the file (EXR: channels of the first part, all layers).
    sample_type : str
        ``"uint"``, ``"half"`` or ``"float"``.
    bit_depth : int
        Bits per sample: 8, 16 or 32.
    color_encoding : str
        As :attr:`pixelpipe.image.ImageMeta.color_encoding` would be on reading.
    compression : str or None
    tiled : bool
    data_window, display_window : (xmin, ymin, xmax, ymax) or None
        EXR windows of the first part.
    parts : list of PartInfo
        EXR parts (empty for other formats).
    has_icc, has_exif : bool
    extra : dict
        Format-specific facts (TIFF photometric, BigTIFF, page count; PNG mode ...).
    """

    path: Path
    format: str
    width: int
    height: int
    channels: int
    sample_type: str
    bit_depth: int
    color_encoding: str
    compression: str | None = None
    tiled: bool = False
    data_window: tuple[int, int, int, int] | None = None
    display_window: tuple[int, int, int, int] | None = None
    parts: list[PartInfo] = field(default_factory=list)
    has_icc: bool = False
    has_exif: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """Human-readable lines, one fact per line (``pixelpipe info`` prints them)."""
        st = {"uint": f"uint{self.bit_depth}", "half": "half (float16)",
              "float": "float (float32)"}.get(self.sample_type, self.sample_type)
        out = [
            f"{self.path}",
            f"  format        {self.format}",
            f"  size          {self.width} x {self.height}",
            f"  channels      {self.channels}",
            f"  sample type   {st}",
            f"  encoding      {self.color_encoding}",
        ]
        if self.compression:
            out.append(f"  compression   {self.compression}")
        if self.tiled:
            out.append("  tiled         yes")
        if self.has_icc:
            out.append("  ICC profile   yes")
        if self.has_exif:
            out.append("  EXIF          yes")
        for k, v in self.extra.items():
            out.append(f"  {k:<13} {v}")
        for p in self.parts:
            out.append(f"  part {p.index} {p.name!r}: {p.storage}, {p.compression}, "
                       f"{p.width} x {p.height}")
            out.append(f"    data window     {p.data_window}")
            out.append(f"    display window  {p.display_window}")
            if p.tile_size:
                out.append(f"    tiles           {p.tile_size[0]} x {p.tile_size[1]}, "
                           f"levels: {p.level_mode}")
            out.append(f"    layers          {', '.join(repr(x) for x in p.layers)}")
            out.append(f"    channels        {', '.join(p.channels)}")
            for k, v in p.attributes.items():
                text = str(v)
                out.append(f"    {k:<15} {text if len(text) <= 80 else text[:77] + '...'}")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())
