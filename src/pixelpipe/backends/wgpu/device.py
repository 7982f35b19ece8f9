"""WebGPU adapter discovery, selection and device creation."""

from __future__ import annotations

import os
from typing import Any

from pixelpipe.backends.base import BackendStatus
from pixelpipe.errors import BackendUnavailable

#: Lower is preferred when several adapters match.
_BACKEND_RANK = {"Vulkan": 0, "Metal": 0, "D3D12": 1, "OpenGL": 3}
_TYPE_RANK = {"DiscreteGPU": 0, "IntegratedGPU": 1, "VirtualGPU": 2, "Unknown": 3, "CPU": 4}
_SOFTWARE_NAMES = ("llvmpipe", "lavapipe", "swiftshader", "warp", "softpipe")

#: Limits requested at the adapter's own value rather than WebGPU's defaults.
KEY_LIMITS = (
    "max-storage-buffer-binding-size",
    "max-buffer-size",
    "max-compute-workgroups-per-dimension",
    "max-storage-buffers-per-shader-stage",
    "max-compute-workgroup-storage-size",
    "max-compute-invocations-per-workgroup",
    "max-uniform-buffer-binding-size",
)


def _wgpu() -> Any:
    # Mesa's Vulkan drivers print "XDG_RUNTIME_DIR is invalid" to stderr when the
    # variable is unset (headless servers, CI); give them a private folder so
    # that pixelpipe's own messages stay the only lines there.
    if not os.environ.get("XDG_RUNTIME_DIR"):
        import tempfile

        os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="pixelpipe-xdg-")
    try:
        import wgpu
    except ImportError as exc:
        raise BackendUnavailable(
            f"wgpu-py is not installed ({exc}); install it with: pip install 'pixelpipe[gpu]'"
        ) from None
    return wgpu


def adapter_info(adapter: Any, index: int) -> dict[str, Any]:
    """A plain description of an adapter: name, type, backend, key limits, software flag."""
    info = adapter.info
    name = info.get("device") or info.get("description") or "unknown"
    atype = info.get("adapter_type", "Unknown")
    return {
        "index": index,
        "name": name,
        "vendor": info.get("vendor", ""),
        "type": atype,
        "backend": info.get("backend_type", ""),
        "software": atype == "CPU" or any(s in name.lower() for s in _SOFTWARE_NAMES),
        "limits": {k: adapter.limits.get(k) for k in KEY_LIMITS},
        "features": sorted(str(f) for f in adapter.features),
    }


def enumerate_adapters() -> list[tuple[Any, dict[str, Any]]]:
    """Every adapter wgpu sees, described; BackendUnavailable if wgpu is absent."""
    wgpu = _wgpu()
    try:
        adapters = wgpu.gpu.enumerate_adapters_sync()
    except Exception as exc:  # the native library failed to load or enumerate
        raise BackendUnavailable(f"WebGPU could not enumerate adapters: {exc}") from None
    return [(a, adapter_info(a, i)) for i, a in enumerate(adapters)]


def _rank(info: dict[str, Any]) -> tuple[int, int, int]:
    return (
        _TYPE_RANK.get(info["type"], 3),
        _BACKEND_RANK.get(info["backend"], 2),
        info["index"],
    )


def select_adapter(spec: str | None = None) -> tuple[Any, dict[str, Any]]:
    """Pick an adapter.

    ``spec`` (default: ``PIXELPIPE_ADAPTER``) is an index or a case-insensitive
    substring of the adapter's name, vendor or backend; it may select a
    software adapter. Without it, the best hardware adapter is taken
    (discrete before integrated; Vulkan/Metal before D3D12 before OpenGL).
    Raises :class:`BackendUnavailable` with the reason when none fits.
    """
    spec = spec if spec is not None else os.environ.get("PIXELPIPE_ADAPTER") or None
    found = enumerate_adapters()
    listing = "; ".join(
        f"[{i['index']}] {i['name']} ({i['backend']}, {i['type']})" for _, i in found
    ) or "none"
    if spec:
        s = spec.strip().lower()
        if s.isdigit():
            matches = [f for f in found if f[1]["index"] == int(s)]
        else:
            matches = [
                f for f in found
                if s in f"{f[1]['name']} {f[1]['vendor']} {f[1]['backend']}".lower()
            ]
        if not matches:
            raise BackendUnavailable(f"no WebGPU adapter matches {spec!r}; adapters: {listing}")
        return min(matches, key=lambda f: _rank(f[1]))
    hardware = [f for f in found if not f[1]["software"]]
    if not hardware:
        soft = [f for f in found if f[1]["software"]]
        hint = (
            f"; software adapter(s) present ({', '.join(i['name'] for _, i in soft)}): "
            "name one with --adapter or PIXELPIPE_ADAPTER to use it"
            if soft else ""
        )
        raise BackendUnavailable(f"no hardware GPU adapter found{hint}")
    return min(hardware, key=lambda f: _rank(f[1]))


def create_device(adapter: Any) -> Any:
    """A device with the adapter's real limits (not WebGPU's defaults).

    Timestamp queries are enabled where the adapter offers them.
    """
    limits = {k: adapter.limits[k] for k in KEY_LIMITS if k in adapter.limits}
    features = [f for f in ("timestamp-query",) if f in adapter.features]
    return adapter.request_device_sync(
        label="pixelpipe", required_limits=limits, required_features=features
    )


def wgpu_status() -> BackendStatus:
    """Availability of the wgpu backend here, with every adapter described."""
    try:
        found = enumerate_adapters()
    except BackendUnavailable as exc:
        return BackendStatus("wgpu", False, str(exc))
    infos = [i for _, i in found]
    try:
        _, chosen = select_adapter()
    except BackendUnavailable as exc:
        return BackendStatus("wgpu", False, str(exc), infos)
    return BackendStatus("wgpu", True, f"adapter: {chosen['name']} ({chosen['backend']})", infos)
