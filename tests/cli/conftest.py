"""Fixtures for the command-line tests: run the CLI in-process, small input files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage
from typer.testing import CliRunner

from pixelpipe.cli.app import app


@dataclass
class Outcome:
    """What one CLI invocation did."""

    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None

    def stderr_lines(self) -> list[str]:
        return [ln for ln in self.stderr.splitlines() if ln.strip()]


@pytest.fixture
def cli():
    """Run ``pixelpipe ARGS...`` in-process; returns an :class:`Outcome`."""
    runner = CliRunner()

    def invoke(*args: str | Path) -> Outcome:
        r = runner.invoke(app, [str(a) for a in args])
        exc = r.exception if not isinstance(r.exception, SystemExit) else None
        return Outcome(r.exit_code, r.stdout, r.stderr, exc)

    return invoke


@pytest.fixture
def small_png(tmp_path: Path) -> Path:
    """A 12 x 9 RGB 8-bit PNG with a gradient."""
    y, x = np.mgrid[0:9, 0:12]
    rgb = np.stack([x * 20, y * 25, (x + y) * 10], axis=-1).astype(np.uint8)
    path = tmp_path / "small.png"
    PILImage.fromarray(rgb).save(path)
    return path
