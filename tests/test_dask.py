"""pixelpipe.dask: map_overlap equals single-image runs; batches on a real LocalCluster."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

import pixelpipe.dask as pdask  # noqa: E402
from pixelpipe import Pipeline, io, ops  # noqa: E402
from pixelpipe.errors import ParameterError, PipelineError  # noqa: E402

MODES = ("mirror", "reflect", "nearest", "wrap", "constant")


def _chain(mode: str) -> Pipeline:
    return Pipeline([ops.Exposure(stops=0.4), ops.GaussianBlur(sigma=2.0, mode=mode, cval=0.2),
                     ops.Vignette(amount=-40.0), ops.Grain(amount=30.0),
                     ops.BoxBlur(radius=3, mode=mode, cval=0.7), ops.Sharpen(amount=50.0)])


@pytest.mark.parametrize("mode", MODES)
def test_apply_equals_single_image(mode: str) -> None:
    x = np.random.default_rng(0).random((83, 101, 3)).astype(np.float32)
    p = _chain(mode)
    want = p.run(x, backend="cpu")
    for chunks in ((37, 29, 3), (83, 101, 3), (9, 50, 3)):
        got = pdask.apply(p, da.from_array(x, chunks=chunks), backend="cpu")
        assert got.dtype == np.float32 and got.shape == x.shape
        np.testing.assert_array_equal(got.compute(scheduler="threads"), want,
                                      err_msg=f"{mode} {chunks}")


def test_apply_uint16_grey_and_rgba() -> None:
    rng = np.random.default_rng(1)
    p = _chain("mirror")
    grey = (rng.random((60, 45)) * 65535).astype(np.uint16)
    got = pdask.apply(p, da.from_array(grey, chunks=(17, 20)), backend="cpu").compute()
    np.testing.assert_array_equal(got, p.run(grey, backend="cpu"))
    rgba = rng.random((40, 70, 4)).astype(np.float32)
    got = pdask.apply(p, da.from_array(rgba, chunks=(13, 31, 2)), backend="cpu").compute()
    np.testing.assert_array_equal(got, p.run(rgba, backend="cpu"))


def test_apply_refuses_whole_image_ops_and_bad_shapes() -> None:
    x = da.zeros((20, 20, 3), chunks=10, dtype=np.float32)
    with pytest.raises(PipelineError, match="resize"):
        pdask.apply(Pipeline([ops.Resize(width=10)]), x)
    with pytest.raises(PipelineError, match="denoise"):
        pdask.apply(Pipeline([ops.Denoise(luminance=50)]), x)
    with pytest.raises(ParameterError, match="shape"):
        pdask.apply(Pipeline([ops.Exposure(stops=1)]), da.zeros((4, 4, 2), chunks=2))


def test_client_for_values() -> None:
    assert pdask.client_for(None, None) is None
    with pytest.raises(ParameterError, match="local:N"):
        pdask.client_for(None, "local:zero")
    with pytest.raises(ParameterError, match="tcp"):
        pdask.client_for("localhost", None)
    with pytest.raises(ParameterError, match="not both"):
        pdask.client_for("tcp://x:1", "local:2")


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                       dashboard_address=":0")
    c = distributed.Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


def _inputs(folder: Path) -> list[Path]:
    rng = np.random.default_rng(2)
    paths = []
    for i in range(4):
        arr = (rng.random((40 + i, 50, 3)) * 65535).astype(np.uint16)
        p = folder / f"img{i}.tif"
        io.write(p, arr)
        paths.append(p)
    bad = folder / "corrupt.tif"
    bad.write_bytes(paths[0].read_bytes()[:200])
    paths.insert(2, bad)
    return paths


def test_batch_on_local_cluster(tmp_path: Path, client: Any) -> None:
    assert len(client.scheduler_info()["workers"]) == 2
    src, local_out, dist_out = tmp_path / "in", tmp_path / "local", tmp_path / "dist"
    for d in (src, local_out, dist_out):
        d.mkdir()
    inputs = _inputs(src)
    pipe = _chain("reflect")
    seen: list[Any] = []
    results = pdask.batch(pipe, inputs, dist_out, client=client, backend="cpu",
                          progress=seen.append)
    assert len(seen) == 5
    assert [r.input for r in results] == [str(p) for p in inputs]
    failed = [r for r in results if not r.ok]
    assert len(failed) == 1 and "corrupt.tif" in (failed[0].error or "")
    local = pdask.batch(pipe, inputs, local_out, client=None, backend="cpu", progress=False)
    for r, lr in zip(results, local, strict=True):
        assert r.ok == lr.ok
        if r.ok:
            assert r.output is not None and lr.output is not None
            got, want = io.read(r.output).array, io.read(lr.output).array
            np.testing.assert_array_equal(got, want)
            direct = pipe.run(io.read(r.input), backend="cpu").array
            np.testing.assert_array_equal(got, io.read(lr.output).array)
            assert np.abs(got - direct).max() <= 0.5 / 65535 + 1e-7  # 16-bit output


def test_apply_on_cluster(client: Any) -> None:
    x = np.random.default_rng(3).random((64, 90, 3)).astype(np.float32)
    p = _chain("nearest")
    got = client.compute(pdask.apply(p, da.from_array(x, chunks=(21, 40, 3)),
                                     backend="cpu")).result()
    np.testing.assert_array_equal(got, p.run(x, backend="cpu"))



def _dies_after_the_others(path: Path, backend: Any) -> Any:
    """A workflow whose worker process exits (a crash, not an exception) for ``img1``,
    once the client has received every other file's result (marker files)."""
    import os
    import time

    if Path(path).stem == "img1":
        marks = Path(path).parent.parent / "done"
        deadline = time.monotonic() + 60
        while len(list(marks.iterdir())) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        os._exit(1)
    return io.read(path)


def test_batch_survives_a_dying_worker(tmp_path: Path) -> None:
    import dask

    src, out, marks = tmp_path / "in", tmp_path / "out", tmp_path / "done"
    for d in (src, out, marks):
        d.mkdir()
    inputs = [p for p in _inputs(src) if p.name != "corrupt.tif"]
    for i in (4, 5):
        inputs.append(src / f"img{i}.tif")
        io.write(inputs[-1], np.full((8, 9, 3), i * 1000, np.uint16))

    def mark(r: Any) -> None:
        (marks / Path(r.input).name).touch()

    # no retry of a task whose worker died: the crash is reported at once
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=2,
                                           dashboard_address=":0")
        c = distributed.Client(cluster)
        try:
            results = pdask.batch(_dies_after_the_others, inputs, out, client=c,
                                  backend="cpu", progress=mark)
        finally:
            c.close()
            cluster.close()
    assert [r.input for r in results] == [str(p) for p in inputs]
    failed = [r for r in results if not r.ok]
    assert [r.input for r in failed] == [str(src / "img1.tif")]
    assert "img1.tif" in (failed[0].error or "") and "KilledWorker" in (failed[0].error or "")
    assert len(list(marks.iterdir())) == 6  # the failure went through the callback too
    for r in results:
        if r.ok:
            assert r.output is not None
            np.testing.assert_array_equal(io.read(r.output).array, io.read(r.input).array)


def test_workers_spread_over_several_gpus():
    from pixelpipe.dask import spread_adapter

    gpus = [0, 2, 5]  # adapter indices of three hardware GPUs
    assert [spread_adapter(k, gpus) for k in range(6)] == [0, 2, 5, 0, 2, 5]
    assert spread_adapter("tcp-worker-a", gpus) == spread_adapter("tcp-worker-a", gpus)
    assert spread_adapter(3, [7]) is None  # one GPU: the usual choice
    assert spread_adapter(0, []) is None
