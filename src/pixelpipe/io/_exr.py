"""OpenEXR through the ``OpenEXR`` Python bindings (3.x ``OpenEXR.File`` API).

Reading
-------
1. The file is memory-mapped and validated by :mod:`pixelpipe.io.exr_check`
   (header, windows, pixel budget, chunk table, chunk leaders) before the
   library opens it.
2. ``OpenEXR.File(path, separate_channels=True)`` decodes every part with
   the process's stdout and stderr captured at the file-descriptor level:
   any text the library prints (it prints, rather than raises, for some
   damaged chunks), any exception, and any difference between what it
   returns and the validated header (part count, channel names, array
   shapes, sample types) fails the read with :class:`InputError`.
3. One part and one layer are assembled into an (H, W, C) array, C in
   {1, 3, 4}, covering the part's data window.

Layers: a channel ``a.b.R`` belongs to layer ``a.b``; unprefixed channels
form the default layer ``""``. A layer with R, G, B (and A) gives RGB(A);
one with Y, RY, BY (luminance/chroma, see below) gives RGB(A); Y alone gives
one channel (Y + A gives RGBA with R = G = B = Y); any other layer with 1, 3
or 4 channels gives them in file (alphabetical) order, 2 channels are padded
with a zero third channel, more than 4 are refused. ``layer=`` may also name
a single channel (``layer="Z"``).

Luminance/chroma (``Y``, ``RY``, ``BY``) files follow OpenEXR's RgbaYca
convention: ``RY = (R - Y) / Y``, ``BY = (B - Y) / Y``, ``Y = Yw . (R, G, B)``
where ``Yw`` is the luminance row of the RGB-to-XYZ matrix built from the
file's ``chromaticities`` (Rec. ITU-R BT.709 primaries and D65 when absent),
per SMPTE RP 177. Hence ``R = (RY + 1) Y``, ``B = (BY + 1) Y``,
``G = (Y - Yw_r R - Yw_b B) / Yw_g``. Subsampled channels (chroma is
typically stored at 1/2 x 1/2) are reconstructed at full resolution by
linear interpolation between the sample positions (a sample of a channel
with sampling s sits on pixels whose coordinate is a multiple of s), with
edge clamping; OpenEXR's own RgbaInputFile uses a longer filter, so
reconstructed chroma may differ from it slightly between samples (never at
the sample positions). The RGB result of a half file is rounded to half, as
OpenEXR's own Rgba interface returns it, so the image keeps its sample type.

Writing
-------
Single-part scanline files; channels R, G, B, (A) or Y; half or float per
the requested sample type; data window and display window from the image's
metadata when its size matches, else (0, 0)-(W-1, H-1); compression given,
else the source's, else ZIP; every non-structural header attribute of the
source (``owner``, ``chromaticities``, ``comments``, ...) is written back.
"""

from __future__ import annotations

import contextlib
import mmap
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from pixelpipe.errors import InputError, OutputError
from pixelpipe.image import Image, ImageMeta
from pixelpipe.io import exr_check
from pixelpipe.io._common import capture_native_output

#: Header attributes that describe structure, not content: never copied blindly.
STRUCTURAL = frozenset({
    "channels", "compression", "dataWindow", "displayWindow", "lineOrder", "type", "tiles",
    "chunkCount", "name", "version", "maxSamplesPerPixel",
})

_REC709 = (0.64, 0.33, 0.30, 0.60, 0.15, 0.06, 0.3127, 0.3290)


def _openexr() -> Any:
    try:
        import OpenEXR
    except ImportError:
        raise InputError(None, "reading and writing OpenEXR needs the OpenEXR package: "
                         "pip install 'pixelpipe[exr]'") from None
    return OpenEXR


def luminance_weights(chromaticities: tuple[float, ...] | None) -> npt.NDArray[np.float64]:
    """Yw: the Y row of the RGB->XYZ matrix for the given chromaticities (white Y = 1).

    ``chromaticities`` = (xr, yr, xg, yg, xb, yb, xw, yw); Rec.709/D65 if None.
    Method: SMPTE RP 177 (normalised primary matrix).
    """
    c = _REC709 if chromaticities is None else tuple(float(v) for v in chromaticities)
    xr, yr, xg, yg, xb, yb, xw, yw = c
    prim = np.array([[xr / yr, xg / yg, xb / yb],
                     [1.0, 1.0, 1.0],
                     [(1 - xr - yr) / yr, (1 - xg - yg) / yg, (1 - xb - yb) / yb]])
    white = np.array([xw / yw, 1.0, (1 - xw - yw) / yw])
    s = np.linalg.solve(prim, white)
    out: npt.NDArray[np.float64] = prim[1] * s
    return out


def _upsample(a: npt.NDArray[Any], xs: int, ys: int, w: int, h: int) -> npt.NDArray[np.float32]:
    """Full-resolution reconstruction of a subsampled channel (linear, edge clamp)."""
    a = a.astype(np.float32)
    if xs == 1 and ys == 1:
        return a

    def axis(n_out: int, n_in: int, s: int) -> tuple[npt.NDArray[np.intp],
                                                     npt.NDArray[np.intp],
                                                     npt.NDArray[np.float32]]:
        pos = np.arange(n_out, dtype=np.float64) / s
        i0 = np.clip(np.floor(pos).astype(np.intp), 0, n_in - 1)
        i1 = np.clip(i0 + 1, 0, n_in - 1)
        t = (pos - np.floor(pos)).astype(np.float32)
        return i0, i1, t

    y0, y1, ty = axis(h, a.shape[0], ys)
    x0, x1, tx = axis(w, a.shape[1], xs)
    rows = a[y0] * (1 - ty)[:, None] + a[y1] * ty[:, None]
    out: npt.NDArray[np.float32] = (rows[:, x0] * (1 - tx)[None, :]
                                    + rows[:, x1] * tx[None, :]).astype(np.float32)
    return out


def _validate(path: Path, budget: int, check_chunks: bool = True) -> exr_check.ExrLayout:
    try:
        with open(path, "rb") as fh:
            size = path.stat().st_size
            if size < 8:
                raise InputError(path, "damaged OpenEXR file: too short")
            # not closed explicitly: NumPy views of it may live on in a traceback;
            # it is unmapped when the last reference goes
            mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
            return exr_check.parse(path, mm, budget, check_chunks)
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None


_DTYPES = {"uint": np.dtype(np.uint32), "half": np.dtype(np.float16),
           "float": np.dtype(np.float32)}


def _decode(path: Path, layout: exr_check.ExrLayout) -> Any:
    exr = _openexr()

    def run() -> Any:
        return exr.File(str(path), separate_channels=True)

    try:
        f, printed = capture_native_output(run)
    except InputError:
        raise
    except MemoryError:
        raise InputError(path, "damaged OpenEXR file: decoder ran out of memory") from None
    except Exception as exc:
        raise InputError(path, f"damaged OpenEXR file: {str(exc).strip()[:300]}") from None
    if printed.strip():
        line = printed.strip().splitlines()[0]
        raise InputError(path, f"damaged OpenEXR file: decoder reported: {line[:300]}")
    parts = list(f.parts)
    if len(parts) != len(layout.parts):
        raise InputError(path, f"damaged OpenEXR file: decoder returned {len(parts)} parts, "
                         f"header lists {len(layout.parts)}")
    for i, (p, spec) in enumerate(zip(parts, layout.parts, strict=True)):
        chans = p.channels
        want = {c.name: c for c in spec.channels}
        if set(chans) != set(want):
            raise InputError(path, f"damaged OpenEXR file: part {i}: decoder returned "
                             f"channels {sorted(chans)}, header lists {sorted(want)}")
        for name, ch in chans.items():
            c = want[name]
            px = ch.pixels
            shape = (spec.height // c.y_sampling, spec.width // c.x_sampling)
            if not isinstance(px, np.ndarray) or px.shape != shape \
                    or px.dtype != _DTYPES[c.pixel_type]:
                got = getattr(px, "shape", None), getattr(px, "dtype", None)
                raise InputError(path, f"damaged OpenEXR file: part {i} channel {name!r}: "
                                 f"decoder returned {got}, header implies {shape} "
                                 f"{_DTYPES[c.pixel_type]}")
    return f


def _layers(names: list[str]) -> list[str]:
    return sorted({n.rsplit(".", 1)[0] if "." in n else "" for n in names})


def _py(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, tuple):
        return tuple(_py(x) for x in v)
    return v


def _select_part(path: Path, layout: exr_check.ExrLayout, part: int | str | None) -> int:
    names = [p.name or f"#{i}" for i, p in enumerate(layout.parts)]
    listing = ", ".join(f"{i}: {n!r}" for i, n in enumerate(names))
    if part is None:
        return 0
    if isinstance(part, int) and not isinstance(part, bool):
        if 0 <= part < len(layout.parts):
            return part
        raise InputError(path, f"no part {part}; the file has {len(names)} part(s): {listing}")
    for i, p in enumerate(layout.parts):
        if p.name == part:
            return i
    raise InputError(path, f"no part named {part!r}; parts: {listing}")


def _assemble(path: Path, spec: exr_check.PartSpec, chans: dict[str, Any],
              layer: str | None, chroma: tuple[float, ...] | None
              ) -> tuple[npt.NDArray[np.float32], tuple[str, ...], str, str, int]:
    names = [c.name for c in spec.channels]
    layers = _layers(names)
    w, h = spec.width, spec.height
    by_name = {c.name: c for c in spec.channels}

    def full(name: str) -> npt.NDArray[np.float32]:
        c = by_name[name]
        return _upsample(chans[name].pixels, c.x_sampling, c.y_sampling, w, h)

    if layer is None:
        rgbish = [ly for ly in layers
                  if {"R", "G", "B"} <= {n.rsplit(".", 1)[-1] for n in names
                                         if (n.rsplit(".", 1)[0] if "." in n else "") == ly}]
        layer = "" if "" in layers else (rgbish[0] if rgbish else layers[0])
    if layer not in layers:
        if layer in by_name:
            member = {layer.rsplit(".", 1)[-1]: layer}
        else:
            shown = ", ".join(repr(x) for x in layers)
            raise InputError(path, f"no layer {layer!r} in part {spec.name or 0!r}; layers: "
                             f"{shown} (a single channel may also be named: "
                             f"{', '.join(names[:20])})")
    else:
        member = {n.rsplit(".", 1)[-1] if "." in n else n: n for n in names
                  if (n.rsplit(".", 1)[0] if "." in n else "") == layer}
    types = {by_name[n].pixel_type for n in member.values()}
    base = set(member)
    if {"R", "G", "B"} <= base:
        order = ["R", "G", "B"] + (["A"] if "A" in base else [])
        arr = np.stack([full(member[k]) for k in order], axis=2)
        out_names = tuple(member[k] for k in order)
        types = {by_name[member[k]].pixel_type for k in order}
    elif "Y" in base:
        y = full(member["Y"])
        if {"RY", "BY"} <= base:
            yw = luminance_weights(chroma)
            r = (full(member["RY"]) + 1.0) * y
            b = (full(member["BY"]) + 1.0) * y
            g = (y - np.float32(yw[0]) * r - np.float32(yw[2]) * b) / np.float32(yw[1])
            planes = [r, g, b]
            if by_name[member["Y"]].pixel_type == "half":
                # rounded to half like OpenEXR's Rgba interface, so that the image
                # keeps its sample type and writes back losslessly
                with np.errstate(over="ignore"):
                    planes = [p.astype(np.float16).astype(np.float32) for p in planes]
            out_names = ("R", "G", "B")
        elif "A" in base:
            planes, out_names = [y, y, y], ("R", "G", "B")
        else:
            planes, out_names = [y], (member["Y"],)
        if "A" in base:
            planes.append(full(member["A"]))
            out_names = (*out_names, member["A"])
        arr = np.stack(planes, axis=2).astype(np.float32, copy=False)
        types = {by_name[member[k]].pixel_type for k in base & {"Y", "RY", "BY", "A"}}
    else:
        order = sorted(base)
        if len(order) > 4:
            raise InputError(path, f"layer {layer!r} has {len(order)} channels "
                             f"({', '.join(order)}); pixelpipe reads at most 4 at a time: "
                             "name one channel with layer=")
        planes = [full(member[k]) for k in order]
        out_names = tuple(member[k] for k in order)
        if len(planes) == 2:
            planes.append(np.zeros((h, w), np.float32))
        arr = np.stack(planes, axis=2)
    sample_type = "float" if "float" in types else ("half" if types == {"half"} else "uint")
    bits = 16 if sample_type == "half" else 32
    return arr.astype(np.float32, copy=False), out_names, layer, sample_type, bits


def read(path: Path, budget: int, part: int | str | None, layer: str | None) -> Image:
    """Decode one part and one layer (see module docstring)."""
    _openexr()
    layout = _validate(path, budget)
    f = _decode(path, layout)
    idx = _select_part(path, layout, part)
    spec = layout.parts[idx]
    p = f.parts[idx]
    hdr = dict(p.header)
    chroma = hdr.get("chromaticities")
    arr, names, chosen, sample_type, bits = _assemble(path, spec, p.channels, layer, chroma)
    if sample_type == "uint":
        arr = arr.astype(np.float32)  # 32-bit unsigned integer channels: values kept as is
    exr_header = {k: v for k, v in hdr.items() if k not in STRUCTURAL}
    meta = ImageMeta(
        format="exr", color_encoding="linear", bit_depth=bits,
        sample_type="float" if sample_type == "uint" else sample_type,
        channel_names=names, data_window=spec.data_window,
        display_window=spec.display_window, exr_header=exr_header,
        parts=tuple(s.name for s in layout.parts),
        layers=tuple(_layers([c.name for c in spec.channels])),
        extra={"compression": spec.compression_name, "part": idx, "part_name": spec.name,
               "layer": chosen, "storage": spec.storage, "tile_size": spec.tile_size,
               "level_mode": spec.level_mode,
               "line_order": str(hdr.get("lineOrder", "")).rsplit(".", 1)[-1],
               "source_sample_type": sample_type},
    )
    return Image(arr, meta)


def header(path: Path, budget: int) -> tuple[exr_check.ExrLayout, list[dict[str, Any]]]:
    """Validated structure plus every part's header attributes (no pixels decoded)."""
    exr = _openexr()
    layout = _validate(path, budget)

    def run() -> Any:
        return exr.File(str(path), header_only=True)

    try:
        f, printed = capture_native_output(run)
    except Exception as exc:
        raise InputError(path, f"damaged OpenEXR file: {str(exc).strip()[:300]}") from None
    if printed.strip():
        raise InputError(path, "damaged OpenEXR file: decoder reported: "
                         f"{printed.strip().splitlines()[0][:300]}")
    headers = []
    for i in range(len(layout.parts)):
        headers.append({k: _py(v) for k, v in f.header(i).items() if k != "channels"})
    return layout, headers


def compression_code(target: Path, name: str) -> Any:
    """The OpenEXR.Compression member for a pixelpipe compression name."""
    exr = _openexr()
    key = name.lower().replace("_compression", "")
    for code, nm in exr_check.COMPRESSION_NAMES.items():
        if nm == key:
            return exr.Compression(code)
    raise OutputError(target, f"unknown EXR compression {name!r}; known: "
                      f"{', '.join(exr_check.COMPRESSION_NAMES.values())}")


def write(tmp: Path, target: Path, img: Image, sample_type: str, quality: int | None,
          compression: str | None) -> None:
    """Encode ``img`` as a single-part scanline EXR into ``tmp`` (see module docstring)."""
    exr = _openexr()
    meta = img.meta
    if sample_type not in ("half", "float"):
        raise OutputError(target, "EXR stores half or float samples (bit_depth='half' or 32)")
    if quality is not None:
        if compression is None or compression.lower() not in ("dwaa", "dwab"):
            raise OutputError(target, "quality= applies only to EXR dwaa/dwab compression")
    comp_name = compression
    if comp_name is None:
        src = str(meta.extra.get("compression", "")) if meta.format == "exr" else ""
        comp_name = src if src in exr_check.COMPRESSION_NAMES.values() else "zip"
    comp = compression_code(target, comp_name)
    h, w, c = img.array.shape
    dtype = np.float16 if sample_type == "half" else np.float32
    with np.errstate(over="ignore"):
        data = img.array.astype(dtype)
    names = {1: ("Y",), 3: ("R", "G", "B"), 4: ("R", "G", "B", "A")}[c]
    if c == 1 and meta.format == "exr" and len(meta.channel_names) == 1:
        names = (meta.channel_names[0].rsplit(".", 1)[-1],)
    channels = {n: np.ascontiguousarray(data[:, :, i]) for i, n in enumerate(names)}
    hdr: dict[str, Any] = {}
    if meta.format == "exr":
        hdr.update({k: v for k, v in meta.exr_header.items() if k not in STRUCTURAL})
    dw = meta.data_window
    if dw is None or (dw[2] - dw[0] + 1, dw[3] - dw[1] + 1) != (w, h):
        dw = (0, 0, w - 1, h - 1)
    disp = meta.display_window or (0, 0, w - 1, h - 1)
    hdr["dataWindow"] = (np.array(dw[:2], np.int32), np.array(dw[2:], np.int32))
    hdr["displayWindow"] = (np.array(disp[:2], np.int32), np.array(disp[2:], np.int32))
    hdr["compression"] = comp
    hdr["type"] = exr.scanlineimage
    if quality is not None:
        hdr["dwaCompressionLevel"] = float(quality)

    def run() -> None:
        exr.File(hdr, channels).write(str(tmp))

    try:
        _, printed = capture_native_output(run)
    except Exception as exc:
        raise OutputError(target, f"OpenEXR could not write: {str(exc).strip()[:300]}") \
            from None
    if printed.strip():
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise OutputError(target, f"OpenEXR reported: {printed.strip().splitlines()[0]}")
