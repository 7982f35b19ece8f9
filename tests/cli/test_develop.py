"""``pixelpipe develop``: single file, --set, --preset-each, batch with a corrupt file."""

from __future__ import annotations

import shutil
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

import pixelpipe.io as pio
from pixelpipe.workflows.develop.preset import example_presets

DATA = Path(__file__).parent.parent / "data"


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    """A small RGB PNG made from a bundled photo (downscaled for time)."""
    im = PILImage.open(DATA / "photos" / "chelsea.png").convert("RGB").reduce(6)
    p = tmp_path / "cat.png"
    im.save(p)
    return p


def test_develop_one_file_with_set(cli, photo, tmp_path):
    out = tmp_path / "out.png"
    r = cli("develop", photo, "-o", out, "--set", "tone.exposure=1", "--backend", "cpu")
    assert r.exit_code == 0, r.stderr
    src = pio.read(photo).array
    got = pio.read(out).array
    dec = lambda v: np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)  # noqa: E731
    # +1 stop doubles linear values (where nothing clips), within 8-bit rounding
    ok = dec(src) < 0.45
    assert np.abs(dec(got)[ok] - 2 * dec(src)[ok]).max() < 0.02
    again = cli("develop", photo, "-o", out, "--backend", "cpu")
    assert again.exit_code == 2 and "already exists" in again.stderr


def test_bad_set_and_missing_preset_exit_2(cli, photo, tmp_path):
    r = cli("develop", photo, "-o", tmp_path / "o.png", "--set", "tone.exposure=99",
            "--backend", "cpu")
    assert r.exit_code == 2 and "exposure" in r.stderr
    assert not (tmp_path / "o.png").exists()
    r = cli("develop", photo, "-o", tmp_path / "o.png", "--preset", tmp_path / "none.toml",
            "--backend", "cpu")
    assert r.exit_code == 2 and not (tmp_path / "o.png").exists()


def test_preset_each_writes_one_look_per_file(cli, photo, tmp_path):
    ex = example_presets()
    outdir = tmp_path / "looks"
    outdir.mkdir()
    r = cli("develop", photo, "-o", outdir, "--preset-each", ex["neutral"], "--preset-each",
            ex["warm-film"], "--format", "png", "--backend", "cpu")
    assert r.exit_code == 0, r.stderr
    assert sorted(p.name for p in outdir.iterdir()) == ["neutral.png", "warm-film.png"]
    neutral = pio.read(outdir / "neutral.png").array
    np.testing.assert_array_equal(neutral, pio.read(photo).array)
    assert not np.array_equal(pio.read(outdir / "warm-film.png").array, neutral)


def test_preset_each_takes_several_looks_after_one_flag(cli, photo, tmp_path):
    ex = example_presets()
    one, rep = tmp_path / "one", tmp_path / "rep"
    one.mkdir()
    rep.mkdir()
    # the form: several looks after ONE --preset-each
    r = cli("develop", photo, "-o", one, "--preset-each", ex["neutral"], ex["warm-film"],
            ex["bw-contrast"], "--format", "png", "--backend", "cpu")
    assert r.exit_code == 0, (r.stderr, r.exception)
    assert sorted(p.name for p in one.iterdir()) == ["bw-contrast.png", "neutral.png",
                                                     "warm-film.png"]
    # the repeated flag, mixed with the one-flag form, IN last
    r2 = cli("develop", "-o", rep, "--preset-each", ex["neutral"], ex["warm-film"],
             "--preset-each", ex["bw-contrast"], "--format", "png", "--backend", "cpu", photo)
    assert r2.exit_code == 0, (r2.stderr, r2.exception)
    for name in ("bw-contrast.png", "neutral.png", "warm-film.png"):
        np.testing.assert_array_equal(pio.read(one / name).array, pio.read(rep / name).array)
    np.testing.assert_array_equal(pio.read(one / "neutral.png").array, pio.read(photo).array)
    assert not np.array_equal(pio.read(one / "warm-film.png").array,
                              pio.read(one / "bw-contrast.png").array)
    # without --preset-each, a second positional argument is a usage error
    r3 = cli("develop", photo, ex["neutral"], "-o", tmp_path / "x.png", "--backend", "cpu")
    assert r3.exit_code == 2 and "--preset-each" in r3.stderr
    assert not (tmp_path / "x.png").exists()


def test_no_camera_wb_flag_matches_the_preset_key(cli, tmp_path):
    dng = DATA / "raw" / "canon_eos_6d.dng"
    a, b, c = tmp_path / "a.png", tmp_path / "b.png", tmp_path / "c.png"
    assert cli("develop", dng, "-o", a, "--no-camera-wb", "--backend", "cpu").exit_code == 0
    r = cli("develop", dng, "-o", b, "--set", "white_balance.as_shot=false", "--backend", "cpu")
    assert r.exit_code == 0, r.stderr
    assert cli("develop", dng, "-o", c, "--backend", "cpu").exit_code == 0
    np.testing.assert_array_equal(pio.read(a).array, pio.read(b).array)
    assert not np.array_equal(pio.read(a).array, pio.read(c).array)


def _batch_folder(tmp_path: Path, photo: Path) -> Path:
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(photo, d / "a.png")
    (d / "b.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a JPEG")  # corrupt, in the middle
    shutil.copy(photo, d / "c.png")
    (d / "notes.txt").write_text("not an image")
    return d


def test_batch_skips_the_corrupt_file_with_skip_errors(cli, photo, tmp_path):
    d = _batch_folder(tmp_path, photo)
    out = tmp_path / "out"
    out.mkdir()
    r = cli("develop", "--batch", d, "-o", out, "--skip-errors", "--suffix", "_dev",
            "--backend", "cpu", "--jobs", "2")
    assert r.exit_code == 0, r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["a_dev.jpg", "c_dev.jpg"]  # no partial
    assert "b.jpg" in r.stderr and "developed 2" in r.stdout and "failed 1" in r.stdout
    # resumable: existing outputs are skipped
    r = cli("develop", "--batch", d, "-o", out, "--skip-errors", "--suffix", "_dev",
            "--backend", "cpu")
    assert "developed 0, skipped 2" in r.stdout


def test_batch_stops_at_first_failure_without_skip_errors(cli, photo, tmp_path):
    d = _batch_folder(tmp_path, photo)
    out = tmp_path / "out"
    out.mkdir()
    r = cli("develop", "--batch", d, "-o", out, "--backend", "cpu", "--format", "png")
    assert r.exit_code == 2
    assert "b.jpg" in r.stderr and "failed 1" in r.stdout
    assert not any(p.name.startswith("b") or p.name.startswith(".") for p in out.iterdir())


def test_batch_stop_with_jobs_reports_summary_and_starts_nothing_after(cli, photo, tmp_path):
    # 9 files, the corrupt one second, 3 at once: the files queued behind the
    # failure never start, the summary is printed, exit 2.
    d = tmp_path / "in"
    d.mkdir()
    names = [f"f{i}" for i in range(9)]
    for i, n in enumerate(names):
        if i == 1:
            (d / f"{n}.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a JPEG")
        else:
            shutil.copy(photo, d / f"{n}.png")
    out = tmp_path / "out"
    out.mkdir()
    r = cli("develop", "--batch", d, "-o", out, "--backend", "cpu", "--format", "png",
            "--jobs", "3")
    assert r.exit_code == 2, (r.stdout, r.stderr, r.exception)
    assert r.exception is None
    fails = [ln for ln in r.stderr_lines() if "failed:" in ln]
    assert len(fails) == 1 and "f1.jpg" in fails[0]
    assert "failed 1" in r.stdout and "not run" in r.stdout
    written = sorted(p.name for p in out.iterdir())
    # files whose device stage began before the failure was seen may finish
    # (which ones depends on thread timing; tests/workflows/test_batch.py pins
    # the rule down deterministically); no partial or temporary files
    assert "f1.png" not in written and all(n.endswith(".png") for n in written)
    assert not any(n.startswith(".") for n in written)
    assert f"developed {len(written)}," in r.stdout


def test_usage_errors(cli, photo, tmp_path):
    assert cli("develop", photo).exit_code == 2
    assert cli("develop", "--batch", tmp_path, "-o", tmp_path / "missing").exit_code == 2


def test_output_is_input_only_with_overwrite(cli, photo):
    before = photo.read_bytes()
    r = cli("develop", photo, "-o", photo, "--set", "tone.exposure=1", "--backend", "cpu")
    assert r.exit_code == 2 and "is the input file; pass --overwrite" in r.stderr
    assert photo.read_bytes() == before
    inode = photo.stat().st_ino
    r = cli("develop", photo, "-o", photo, "--set", "tone.exposure=1", "--backend", "cpu",
            "--overwrite")
    assert r.exit_code == 0, r.stderr
    assert photo.stat().st_ino != inode  # replaced by a rename, not written in place
    old = np.asarray(PILImage.open(BytesIO(before)).convert("RGB"), np.float64) / 255.0
    new = pio.read(photo).array[..., :3]
    assert new.shape == old.shape
    assert new.mean() > old.mean() + 0.05  # +1 stop: the replacement is the developed image
