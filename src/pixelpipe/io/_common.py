"""Shared machinery of the readers and writers: budgets, guards, sample types, atomic writes."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from pixelpipe import samples
from pixelpipe.errors import InputError, OutputError
from pixelpipe.samples import to_float as to_float

#: Default most pixels (width x height, summed over EXR parts) a reader decodes.
DEFAULT_PIXEL_BUDGET = 1_500_000_000


def pixel_budget(value: int | None = None) -> int:
    """The pixel budget in effect: ``value``, else ``$PIXELPIPE_PIXEL_BUDGET``, else 1.5 Gpx.

    Raises
    ------
    InputError
        When the environment variable is not a positive integer.
    """
    if value is not None:
        if value <= 0:
            raise InputError(None, f"pixel_budget must be positive, got {value}")
        return int(value)
    env = os.environ.get("PIXELPIPE_PIXEL_BUDGET")
    if env:
        try:
            v = int(env.replace("_", ""))
        except ValueError:
            v = 0
        if v <= 0:
            raise InputError(None, f"PIXELPIPE_PIXEL_BUDGET must be a positive integer, "
                             f"got {env!r}")
        return v
    return DEFAULT_PIXEL_BUDGET


def check_budget(path: Path, width: int, height: int, budget: int, what: str = "") -> None:
    """Raise :class:`InputError` if ``width * height`` exceeds ``budget`` or is not positive."""
    if width <= 0 or height <= 0:
        raise InputError(path, f"invalid image size {width}x{height}{what}")
    if width * height > budget:
        raise InputError(path, f"{width}x{height} = {width * height:,} pixels{what} exceed "
                         f"the pixel budget of {budget:,} (set PIXELPIPE_PIXEL_BUDGET or "
                         "pass pixel_budget= to read larger images)")


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def decoder_guard(path: Path, loggers: tuple[str, ...] = ()) -> Iterator[None]:
    """Turn every Python warning (and WARNING log record of ``loggers``) into an InputError.

    Decoders that warn while returning data may have returned wrong data.
    """
    handler = _ListHandler()
    logs = [logging.getLogger(n) for n in loggers]
    for lg in logs:
        lg.addHandler(handler)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                yield
            except Warning as w:
                raise InputError(path, f"decoder warning: {w}") from None
    finally:
        for lg in logs:
            lg.removeHandler(handler)
    if handler.messages:
        raise InputError(path, f"decoder warning: {handler.messages[0]}")


_FD_LOCK = threading.Lock()


def capture_native_output(fn: Callable[[], Any]) -> tuple[Any, str]:
    """Run ``fn`` with file descriptors 1 and 2 redirected; return (result, captured text).

    Native libraries write warnings straight to the process's stdout/stderr;
    this is how they are noticed. Exceptions from ``fn`` propagate (after
    the descriptors are restored).
    """
    with _FD_LOCK, tempfile.TemporaryFile() as tmp:
        for s in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                s.flush()
        saved = [os.dup(1), os.dup(2)]
        try:
            os.dup2(tmp.fileno(), 1)
            os.dup2(tmp.fileno(), 2)
            try:
                result = fn()
            finally:
                with contextlib.suppress(Exception):
                    sys.stdout.flush()
                    sys.stderr.flush()
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
        finally:
            os.close(saved[0])
            os.close(saved[1])
        tmp.seek(0)
        text = tmp.read(65536).decode("utf-8", "replace")
    return result, text


# --------------------------------------------------------------------------- sample types

#: Canonical sample types: name -> (sample_type, bit_depth).
_BIT_DEPTHS: dict[str, tuple[str, int]] = {
    "8": ("uint", 8), "uint8": ("uint", 8),
    "16": ("uint", 16), "uint16": ("uint", 16),
    "half": ("half", 16), "float16": ("half", 16), "f16": ("half", 16),
    "32": ("float", 32), "float": ("float", 32), "float32": ("float", 32), "f32": ("float", 32),
}


def parse_bit_depth(path: Path, bit_depth: int | str) -> tuple[str, int]:
    """Map a user's ``bit_depth`` (8, 16, 32, "half", "float", "uint16" ...) to (type, bits).

    ``16`` means 16-bit unsigned integer, ``32`` means 32-bit float.

    Raises
    ------
    OutputError
        For anything else.
    """
    key = str(bit_depth).strip().lower()
    if key not in _BIT_DEPTHS:
        raise OutputError(path, f"unknown bit depth {bit_depth!r}; use 8, 16, 'half' or "
                          "'float' (32)")
    return _BIT_DEPTHS[key]


def image_from_decoded(arr: npt.NDArray[Any], meta: Any) -> Any:
    """An :class:`~pixelpipe.image.Image` keeping decoded samples in their own type.

    uint8, uint16, float16 and float32 samples are kept (the float array is
    derived on first use); other types are converted to float32 now.
    """
    from pixelpipe.image import Image

    if arr.dtype in samples.SAMPLE_DTYPES:
        return Image(meta=meta, samples=arr)
    return Image(to_float(arr), meta)


def samples_for(img: Any, sample_type: str, bit_depth: int) -> npt.NDArray[Any]:
    """The image's samples in the target type: kept samples as they are when the type
    matches, else converted from the float pixels (:func:`from_float`)."""
    want = {"uint": np.uint8 if bit_depth == 8 else np.uint16, "half": np.float16,
            "float": np.float32}[sample_type]
    kept = img.samples
    if kept is not None and kept.dtype == want:
        return np.asarray(kept)
    return from_float(img.array, sample_type, bit_depth)


def from_float(arr: npt.NDArray[np.float32], sample_type: str,
               bit_depth: int) -> npt.NDArray[Any]:
    """float32 pixels -> samples of the target type (rules in :mod:`pixelpipe.samples`)."""
    if sample_type == "uint":
        return samples.from_float(arr, np.uint8 if bit_depth == 8 else np.uint16)
    return samples.from_float(arr, np.float16 if sample_type == "half" else np.float32)


# --------------------------------------------------------------------------- atomic writes

def check_target(path: Path, overwrite: bool, source: str | Path | None) -> None:
    """Refuse to clobber the input or an existing file unless ``overwrite``."""
    if overwrite:
        return
    if source is not None:
        src = Path(source)
        same = False
        try:
            same = path.exists() and src.exists() and os.path.samefile(path, src)
        except OSError:
            same = False
        if same or path.resolve() == src.resolve():
            raise OutputError(path, "is the input file; pass overwrite=True to replace it")
    if path.exists() or path.is_symlink():
        raise OutputError(path, "already exists; pass overwrite=True to replace it")


def _read_umask() -> int:
    old = os.umask(0o022)
    os.umask(old)
    return old


_UMASK = _read_umask()


def atomic_write(path: Path, writer: Callable[[Path], None]) -> None:
    """Call ``writer(tmp)`` on a temporary file beside ``path``, then rename it into place.

    The temporary file is in the target directory (so :func:`os.replace` is
    atomic) and keeps the target's extension (some encoders look at it). On
    any failure it is removed and ``path`` is untouched.
    """
    parent = path.parent
    if not parent.is_dir():
        raise OutputError(path, f"directory {parent} does not exist")
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}",
                                dir=parent)
    os.close(fd)
    tmp = Path(name)
    try:
        writer(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OutputError | KeyboardInterrupt | SystemExit):
            raise
        if isinstance(exc, Exception):
            raise OutputError(path, f"cannot write: {exc}") from exc
        raise
