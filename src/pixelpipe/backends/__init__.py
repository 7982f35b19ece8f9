"""Backends and their selection.

* ``cpu`` — the NumPy reference, always available.
* ``wgpu`` — WebGPU through wgpu-py (Vulkan, Metal, DX12).

``auto`` takes a hardware GPU adapter when there is one, else the CPU with a
one-line notice on stderr. A backend named explicitly that cannot start
raises :class:`~pixelpipe.errors.BackendUnavailable`; there is no silent
fallback. Software adapters (llvmpipe, lavapipe, WARP) are used only when
named through ``PIXELPIPE_ADAPTER`` / ``--adapter``.
"""

from __future__ import annotations

import sys
from typing import Any

from pixelpipe.backends.base import Backend, BackendStatus
from pixelpipe.backends.cpu import CpuBackend
from pixelpipe.errors import BackendUnavailable, ParameterError

BACKEND_NAMES = ("auto", "cpu", "wgpu")

_cpu = CpuBackend()


def get_backend(backend: Any = "auto", adapter: str | None = None) -> Backend:
    """Resolve ``"auto" | "cpu" | "wgpu"`` or a :class:`Backend` instance.

    ``adapter`` (or the ``PIXELPIPE_ADAPTER`` environment variable) selects a
    WebGPU adapter by a case-insensitive substring of its name, backend
    (``vulkan``, ``metal``, ``d3d12``) or index. Raises
    :class:`BackendUnavailable` when a named backend cannot start.
    """
    if isinstance(backend, Backend):
        return backend
    if backend == "cpu":
        return _cpu
    if backend == "wgpu":
        from pixelpipe.backends.wgpu import get_wgpu_backend

        return get_wgpu_backend(adapter)
    if backend == "auto":
        from pixelpipe.backends.wgpu import get_wgpu_backend

        try:
            return get_wgpu_backend(adapter)
        except BackendUnavailable as exc:
            print(f"pixelpipe: no GPU backend ({exc}); running on the CPU", file=sys.stderr)
            return _cpu
    raise ParameterError(f"unknown backend {backend!r}; choose one of {', '.join(BACKEND_NAMES)}")


def detect() -> list[BackendStatus]:
    """Status of every backend: available or not and why, with the adapters seen."""
    from pixelpipe.backends.wgpu.device import wgpu_status

    return [BackendStatus("cpu", True, "NumPy reference"), wgpu_status()]


__all__ = ["BACKEND_NAMES", "Backend", "BackendStatus", "CpuBackend", "detect", "get_backend"]
