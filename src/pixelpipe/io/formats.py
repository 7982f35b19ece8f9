"""File formats pixelpipe reads and writes, chosen by file extension.

=========  ===========================  ================================================
format     extensions                   sample types (read / write)
=========  ===========================  ================================================
``png``    .png                         uint8, uint16 (grey, grey+alpha, RGB, RGBA)
``jpeg``   .jpg .jpeg .jpe .jfif        uint8 (grey, RGB; CMYK read as RGB)
``tiff``   .tif .tiff                   uint8, uint16, half, float (grey, RGB, RGBA)
``exr``    .exr                         half, float (uint read); any channel layout
``raw``    .dng .cr2 .cr3 .nef .arw ...  read only: camera RAW via rawpy/LibRaw, linear Rec.2020
=========  ===========================  ================================================
"""

from __future__ import annotations

from pathlib import Path

from pixelpipe.errors import InputError, OutputError

#: Extension (lower case, with dot) -> format name.
EXTENSIONS: dict[str, str] = {
    ".png": "png",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".jpe": "jpeg",
    ".jfif": "jpeg",
    ".tif": "tiff",
    ".tiff": "tiff",
    ".exr": "exr",
}
#: Camera RAW extensions (read only; see :mod:`pixelpipe.io.raw`).
EXTENSIONS.update(dict.fromkeys(
    (".dng", ".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".srf", ".sr2", ".raf", ".orf",
     ".rw2", ".pef", ".srw", ".x3f", ".3fr", ".fff", ".iiq", ".erf", ".kdc", ".dcr", ".mrw",
     ".mos", ".mef", ".rwl", ".raw"), "raw"))

#: Format -> sample types it can store, as (sample_type, bit_depth), preferred first.
SAMPLE_TYPES: dict[str, tuple[tuple[str, int], ...]] = {
    "png": (("uint", 8), ("uint", 16)),
    "jpeg": (("uint", 8),),
    "tiff": (("uint", 8), ("uint", 16), ("half", 16), ("float", 32)),
    "exr": (("half", 16), ("float", 32)),
    "raw": (),  # read only
}


def format_of(path: str | Path, for_write: bool = False) -> str:
    """The format name for ``path`` by its extension.

    Raises
    ------
    InputError, OutputError
        (the latter when ``for_write``) for an unknown extension; the message
        names the file and lists the known extensions.
    """
    ext = Path(path).suffix.lower()
    fmt = EXTENSIONS.get(ext)
    if fmt is None:
        known = ", ".join(sorted(EXTENSIONS))
        problem = (f"unknown image format {ext!r}" if ext else "no file extension") + \
            f"; known extensions: {known}"
        raise (OutputError if for_write else InputError)(path, problem)
    if for_write and fmt == "raw":
        raise OutputError(path, "camera RAW formats are read only; write PNG, JPEG, TIFF "
                          "or EXR")
    return fmt
