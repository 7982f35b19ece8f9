"""Every damaged OpenEXR file must fail cleanly: InputError naming the file, fast.

A crash (segfault), a hang or a memory blow-up would take the test process
down or time it out, so passing this test means none happened.
"""

from __future__ import annotations

import resource
import time
from pathlib import Path

import pytest

import pixelpipe.io as pio
from pixelpipe.errors import InputError
from tests.io.conftest import TEST_DATA, damaged_files

DAMAGED = damaged_files()


def test_all_92_damaged_files_present() -> None:
    assert len(DAMAGED) == 92
    assert len(list((TEST_DATA / "exr-damaged").iterdir())) == 92


def _as_exr(path: Path, tmp_path: Path) -> Path:
    """Most damaged files have no .exr extension: give them one, the format follows it."""
    dst = tmp_path / f"{path.name}.exr"
    dst.write_bytes(path.read_bytes())
    return dst


def _assert_exr_failure(exc: InputError, path: Path) -> None:
    assert path.name in str(exc)
    # failed in the OpenEXR path, not on the extension
    assert "unknown image format" not in str(exc)
    assert "OpenEXR" in exc.problem or "pixel budget" in exc.problem, exc.problem


@pytest.mark.parametrize("path", DAMAGED, ids=[p.name[:60] for p in DAMAGED])
def test_damaged_file_raises_input_error(path: Path, tmp_path: Path) -> None:
    exr = _as_exr(path, tmp_path)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    with pytest.raises(InputError) as info:
        pio.read(exr)
    elapsed = time.perf_counter() - t0
    _assert_exr_failure(info.value, exr)
    assert elapsed < 2.0, f"{path.name} took {elapsed:.2f} s"
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    assert grown_kib < 512 * 1024, f"{path.name} grew peak memory by {grown_kib} KiB"


@pytest.mark.parametrize("path", DAMAGED[::9], ids=[p.name[:60] for p in DAMAGED[::9]])
def test_damaged_file_info_raises_input_error(path: Path, tmp_path: Path) -> None:
    exr = _as_exr(path, tmp_path)
    with pytest.raises(InputError) as info:
        pio.info(exr)
    _assert_exr_failure(info.value, exr)


PASS_STRUCTURE = ["asan_heap-oob_7f171b7ab3a2_937_b4e2415c399c2ab39548de911223769d_exr",
                  "memory_DOS_2.2"]


@pytest.mark.parametrize("name", PASS_STRUCTURE)
def test_decoder_complaints_are_failures(name: str, tmp_path: Path) -> None:
    """These two pass the structure check; OpenEXR prints a warning and returns no pixels."""
    exr = _as_exr(TEST_DATA / "exr-damaged" / name, tmp_path)
    with pytest.raises(InputError, match="decoder"):
        pio.read(exr)
