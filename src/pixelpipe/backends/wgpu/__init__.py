"""The WebGPU backend (wgpu-py): Vulkan, Metal, DX12."""

from __future__ import annotations

import threading

from pixelpipe.backends.wgpu.backend import WgpuBackend
from pixelpipe.backends.wgpu.device import select_adapter
from pixelpipe.errors import BackendUnavailable

_backends: dict[int, WgpuBackend] = {}
_by_spec: dict[str | None, WgpuBackend] = {}
_lock = threading.Lock()


def get_wgpu_backend(adapter: str | None = None) -> WgpuBackend:
    """The process-wide backend for the selected adapter (created on first use).

    Raises :class:`BackendUnavailable` with the reason if no adapter fits or
    the device cannot be created.
    """
    import os

    key = adapter if adapter is not None else os.environ.get("PIXELPIPE_ADAPTER") or None
    with _lock:
        if key in _by_spec:
            return _by_spec[key]
        a, info = select_adapter(key)
        be = _backends.get(info["index"])
        if be is None:
            try:
                be = WgpuBackend(a, info)
            except Exception as exc:
                raise BackendUnavailable(
                    f"WebGPU device on {info['name']} could not be created: {exc}"
                ) from None
            _backends[info["index"]] = be
        _by_spec[key] = be
    return be


__all__ = ["WgpuBackend", "get_wgpu_backend"]
