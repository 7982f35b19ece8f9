"""Shared fixtures.

The WebGPU tests run on whatever adapter ``PIXELPIPE_ADAPTER`` names, else
on a hardware adapter, else on a software one (llvmpipe / lavapipe: tests
may use software adapters). A missing adapter fails every WebGPU test:
the GPU path is never skipped silently. ``PIXELPIPE_ALLOW_NO_WGPU=1``
(never set in CI) turns the failures into skips on a machine that has no
Vulkan driver at all, for a CPU-only run that says so.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pixelpipe.backends.wgpu.backend import WgpuBackend
from pixelpipe.errors import BackendUnavailable

DATA = Path(__file__).parent / "data"


def _select_test_adapter() -> WgpuBackend:
    from pixelpipe.backends.wgpu import get_wgpu_backend
    from pixelpipe.backends.wgpu.device import enumerate_adapters

    if os.environ.get("PIXELPIPE_ADAPTER"):
        return get_wgpu_backend()
    try:
        return get_wgpu_backend()
    except BackendUnavailable:
        found = enumerate_adapters()
        if not found:
            raise
        # tests may use a software adapter: take the first one by index
        return get_wgpu_backend(str(found[0][1]["index"]))


@pytest.fixture(scope="session")
def wgpu_backend() -> WgpuBackend:
    """The WebGPU backend the tests run on (see module docstring)."""
    try:
        be = _select_test_adapter()
    except BackendUnavailable as exc:
        if os.environ.get("PIXELPIPE_ALLOW_NO_WGPU") == "1":
            pytest.skip(f"no WebGPU adapter (PIXELPIPE_ALLOW_NO_WGPU=1): {exc}")
        pytest.fail(f"no WebGPU adapter: {exc} (install a Vulkan driver, e.g. Debian's "
                    "mesa-vulkan-drivers, or set PIXELPIPE_ALLOW_NO_WGPU=1 to skip)")
    return be


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The test data shipped with the repository (see tests/data/README.md)."""
    return DATA
