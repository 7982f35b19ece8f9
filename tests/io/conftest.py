"""Where the I/O tests find their files.

With ``PIXELPIPE_SHARED_DATA`` set (CI sets it), the full shared collections
are used; otherwise the copies in ``tests/data``. In CI (``CI`` set) a
missing shared folder is a failure, never a silent fallback.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

TEST_DATA = Path(__file__).resolve().parent.parent / "data"


def data_root() -> Path:
    """Folder holding ``exr/``, ``exr-damaged/`` and ``photos/``."""
    shared = os.environ.get("PIXELPIPE_SHARED_DATA")
    if shared:
        return Path(shared)
    return TEST_DATA


def exr_files() -> list[Path]:
    return sorted(p for p in (data_root() / "exr").glob("*.exr"))


def damaged_files() -> list[Path]:
    return sorted(p for p in (data_root() / "exr-damaged").iterdir() if p.is_file())


def require_shared(folder: str) -> None:
    """Fail (never skip) when ``CI`` is set without ``PIXELPIPE_SHARED_DATA``, or when the
    shared data set lacks ``folder``; call it from an autouse fixture of a test module."""
    shared = os.environ.get("PIXELPIPE_SHARED_DATA")
    if os.environ.get("CI") and not shared:
        pytest.fail("CI is set but PIXELPIPE_SHARED_DATA is not: the full shared data set "
                    "must be tested in CI")
    if shared and not (Path(shared) / folder).is_dir():
        pytest.fail(f"PIXELPIPE_SHARED_DATA={shared} has no {folder}/ folder")


def cube_files() -> dict[str, Path]:
    """Every ``.cube`` LUT by its path relative to ``luts/`` (``"resolve/Unit.cube"``).

    The union of ``tests/data/luts`` and, with ``PIXELPIPE_SHARED_DATA`` set,
    its ``luts/`` folder; where both hold a relative path, the shared file.
    """
    roots = [TEST_DATA / "luts"]
    shared = os.environ.get("PIXELPIPE_SHARED_DATA")
    if shared:
        roots.append(Path(shared) / "luts")
    found: dict[str, Path] = {}
    for root in roots:
        for p in sorted(root.rglob("*.cube")):
            found[p.relative_to(root).as_posix()] = p
    return dict(sorted(found.items()))


@pytest.fixture(scope="session", autouse=True)
def _shared_data_in_ci() -> None:
    if os.environ.get("CI") and not os.environ.get("PIXELPIPE_SHARED_DATA"):
        pytest.fail("CI is set but PIXELPIPE_SHARED_DATA is not: the full shared data set "
                    "must be tested in CI")
    shared = os.environ.get("PIXELPIPE_SHARED_DATA")
    if shared and not (Path(shared) / "exr").is_dir():
        pytest.fail(f"PIXELPIPE_SHARED_DATA={shared} has no exr/ folder")
