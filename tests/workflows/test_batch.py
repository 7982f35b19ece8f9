"""develop_files: the batch loop shared by ``develop --batch`` and the benchmark's W6."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

import pixelpipe.io as pio
from pixelpipe.errors import BackendUnavailable, ParameterError
from pixelpipe.image import Image
from pixelpipe.workflows import develop as dev
from pixelpipe.workflows.develop import develop_files, load_input, run_prepared
from pixelpipe.workflows.develop.batch import write_developed
from pixelpipe.workflows.develop.preset import example_presets, load_presets


def _inputs(folder: Path, n: int, bad: frozenset[int] = frozenset()) -> list[Path]:
    folder.mkdir()
    rng = np.random.default_rng(3)
    out = []
    for i in range(n):
        p = folder / f"f{i}.jpg"
        if i in bad:
            p.write_bytes(b"\xff\xd8\xff\xe0 not a JPEG")
        else:
            a = rng.random((20 + i, 36, 3)).astype(np.float32)
            pio.write(p, Image(a), bit_depth=8, quality=92)
        out.append(p)
    return out


def _heavy():
    return load_presets([example_presets()["heavy"]])


def test_batch_output_equals_one_file_at_a_time(tmp_path, wgpu_backend):
    files = _inputs(tmp_path / "in", 5)
    look = _heavy()
    todo = [(f, tmp_path / "out" / "sub" / f.name) for f in files]
    seen: list[Path] = []
    res = develop_files(todo, look, wgpu_backend, jobs=3, on_file=seen.append)
    assert sorted(res.done) == files and not res.failed and res.not_run == 0
    assert sorted(seen) == files
    for f, target in todo:
        prepared, source = load_input(f)
        one = run_prepared(prepared, source, look, wgpu_backend, np.uint8)
        alone = write_developed(one, tmp_path / f"alone-{f.name}", look, None, None, False, f)
        # same pipeline, same device: the JPEG files are identical byte for byte
        assert target.read_bytes() == alone.read_bytes(), f.name


def test_pipeline_is_built_once_per_source_encoding(tmp_path, monkeypatch):
    files = _inputs(tmp_path / "in", 4)
    calls = []
    real = dev.build_pipeline

    def counting(preset, source=None, *a, **k):
        calls.append(source)
        return real(preset, source, *a, **k)

    monkeypatch.setattr(dev, "build_pipeline", counting)
    res = develop_files([(f, tmp_path / "o" / f.name) for f in files], _heavy(), "cpu",
                        jobs=2)
    assert len(res.done) == 4
    assert len(calls) == 1  # four sRGB JPEGs: one source encoding, one pipeline


def test_failures_are_reported_and_stop_or_skip(tmp_path):
    files = _inputs(tmp_path / "in", 6, bad=frozenset({2}))
    look = load_presets([], ["tone.exposure=0.5"])
    todo = [(f, tmp_path / "a" / f"{f.stem}.png") for f in files]
    res = develop_files(todo, look, "cpu", jobs=2, skip_errors=True)
    assert len(res.done) == 5 and res.not_run == 0
    assert [f for f, _ in res.failed] == [files[2]] and "f2.jpg" in res.failed[0][1]
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == \
        sorted(f"{f.stem}.png" for i, f in enumerate(files) if i != 2)
    todo = [(f, tmp_path / "b" / f"{f.stem}.png") for f in files]
    res = develop_files(todo, look, "cpu", jobs=1)
    assert len(res.failed) == 1
    assert len(res.done) + len(res.failed) + res.not_run == len(files)
    assert res.not_run >= 1  # files after the failure never start (one worker: f3..f5)
    written = {p.name for p in (tmp_path / "b").iterdir()} if (tmp_path / "b").exists() else set()
    assert written <= {"f0.png", "f1.png"}


def test_no_device_stage_starts_after_a_failure_is_reported(tmp_path, monkeypatch):
    # deterministic: the good files finish decoding only once the bad one's
    # failure has been reported (on_file), so none of them may reach the device
    files = _inputs(tmp_path / "in", 9, bad=frozenset({1}))
    reported = threading.Event()
    real_load, real_run = dev.load_input, dev.run_prepared
    device_starts: list[Path] = []

    def gated_load(f, *a, **k):
        if f != files[1]:
            assert reported.wait(30), "the failure was never reported"
        return real_load(f, *a, **k)

    def counting_run(prepared, *a, **k):
        device_starts.append(prepared)
        return real_run(prepared, *a, **k)

    monkeypatch.setattr(dev, "load_input", gated_load)
    monkeypatch.setattr(dev, "run_prepared", counting_run)

    def on_file(f):
        if f == files[1]:
            reported.set()

    todo = [(f, tmp_path / "o" / f"{f.stem}.png") for f in files]
    res = develop_files(todo, load_presets([], ["tone.exposure=0.5"]), "cpu", jobs=3,
                        on_file=on_file)
    assert [f for f, _ in res.failed] == [files[1]]
    assert res.done == [] and res.not_run == 8 and device_starts == []
    assert not (tmp_path / "o").exists()


def test_backend_is_started_once_on_the_device_thread(tmp_path):
    files = _inputs(tmp_path / "in", 3)
    starts: list[str] = []

    def start():
        starts.append(threading.current_thread().name)
        return "cpu"

    res = develop_files([(f, tmp_path / "o" / f.name) for f in files], _heavy(), start, jobs=2)
    assert len(res.done) == 3 and starts == ["develop-device"]


def test_a_backend_that_cannot_start_stops_the_batch_and_is_raised(tmp_path):
    files = _inputs(tmp_path / "in", 3)

    def start():
        raise BackendUnavailable("no such adapter")

    with pytest.raises(BackendUnavailable, match="no such adapter"):
        develop_files([(f, tmp_path / "o" / f.name) for f in files], _heavy(), start, jobs=2)
    assert not (tmp_path / "o").exists()


def test_jobs_must_be_positive(tmp_path):
    with pytest.raises(ParameterError, match="jobs"):
        develop_files([(tmp_path / "a.jpg", tmp_path / "b.jpg")], _heavy(), "cpu", jobs=0)
