"""Memory budgets and device limits that decide the execution strategy.

* :func:`parse_size` reads ``"4GB"``, ``"512MiB"``, ``"2g"`` or a plain
  number of bytes (``--memory-limit``, ``PIXELPIPE_MEMORY_LIMIT``).
* :func:`default_memory_limit` is ``PIXELPIPE_MEMORY_LIMIT`` when set, else
  half of the memory available now (psutil when installed, else
  ``os.sysconf``; 4 GiB when neither answers).
* :func:`device_limit` is the largest buffer one binding of the backend can
  hold (the WebGPU adapter's real ``max-storage-buffer-binding-size`` and
  ``max-buffer-size``, the smaller of the two); ``None`` for the CPU.
"""

from __future__ import annotations

import os
import re
from typing import Any

from pixelpipe.errors import ParameterError

#: Environment variable holding the default memory budget (same syntax as ``--memory-limit``).
MEMORY_ENV = "PIXELPIPE_MEMORY_LIMIT"
#: Fraction of the available memory used when no budget is given.
DEFAULT_FRACTION = 0.5
_FALLBACK = 4 * 2**30

_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9,
          "gb": 10**9, "t": 10**12, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30,
          "tib": 2**40}
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([a-zA-Z]*)\s*$")


def parse_size(text: str | int, what: str = "memory limit") -> int:
    """Bytes in ``text``: a number with an optional unit (B, kB, MB, GB, TB, KiB … TiB).

    Decimal units are powers of 1000, binary ones (``GiB``) powers of 1024;
    ``g`` alone means GB. Raises :class:`ParameterError` naming ``what`` for
    an unreadable value or one below 1 MB.
    """
    if isinstance(text, int):
        n = text
    else:
        m = _SIZE.match(str(text))
        unit = m.group(2).lower() if m else ""
        if m is None or unit not in _UNITS:
            raise ParameterError(f"{what} {text!r}: expected a size such as 4GB, 512MiB or a "
                                 "number of bytes")
        n = int(float(m.group(1)) * _UNITS[unit])
    if n < 10**6:
        raise ParameterError(f"{what} {text!r}: must be at least 1 MB")
    return n


def available_memory() -> int:
    """Bytes of memory available to a new allocation now (psutil, else sysconf)."""
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 2 * _FALLBACK


def default_memory_limit() -> int:
    """``PIXELPIPE_MEMORY_LIMIT`` if set, else half of :func:`available_memory`."""
    env = os.environ.get(MEMORY_ENV, "").strip()
    if env:
        return parse_size(env, MEMORY_ENV)
    return max(int(available_memory() * DEFAULT_FRACTION), 64 * 2**20)


def device_limit(backend: Any) -> int | None:
    """Largest single buffer the backend's device binds, in bytes; None: no device limit."""
    limit = getattr(backend, "max_binding", None)
    return int(limit) if limit else None


def format_size(n: float) -> str:
    """``n`` bytes as a short human string (``1.5 GiB``)."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"  # pragma: no cover
