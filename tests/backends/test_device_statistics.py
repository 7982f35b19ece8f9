"""Global ops whose statistics stay on the GPU: the passes read them there, no read-back."""

import numpy as np
import pytest

from pixelpipe import Pipeline, ops
from pixelpipe.errors import GPUError
from pixelpipe.ops.base import GlobalOp
from pixelpipe.ops.spatial import dehaze as dh
from pixelpipe.ops.spatial import denoise as dn
from tests.helpers import assert_close, random_rgba

GLOBAL_OPS = [ops.Dehaze(amount=100.0), ops.Dehaze(amount=-60.0),
              ops.Denoise(luminance=70, color=55, detail=40)]


def _read_back_path(monkeypatch):
    monkeypatch.setattr(GlobalOp, "gpu_statistics_device", lambda *a: None)
    for cls in (ops.Dehaze, ops.Denoise):
        monkeypatch.setattr(cls, "gpu_statistics_device", lambda *a: None)


@pytest.mark.parametrize("op", GLOBAL_OPS, ids=repr)
def test_device_statistics_match_the_read_back_path(op, wgpu_backend, monkeypatch):
    x = random_rgba((45, 62), seed=41, low=0.0, high=1.3)
    pipe = Pipeline([op])
    on_device = pipe.run(x, backend=wgpu_backend)
    with monkeypatch.context() as m:
        _read_back_path(m)
        read_back = pipe.run(x, backend=wgpu_backend)
    # float32 rounding of the parameters computed on the GPU (the airlight's
    # luma; sigma times the per-level factors) instead of on the host
    assert_close(on_device, read_back, 2e-6, what=repr(op))
    # the statistics matter: the placeholders the passes are built with (A = 1,
    # sigma = 1) would give another image, so the copies on the GPU are checked
    stats = op.statistics(x)
    placeholder = np.ones_like(stats)
    assert np.abs(op.apply(x, placeholder) - op.apply(x, stats)).max() > 1e-3


def test_dehaze_then_denoise_waits_only_at_the_end(wgpu_backend, monkeypatch):
    # every compute pass of the plan is recorded before the first map (the
    # download and the checks): no read-back inside the plan
    x = random_rgba((40, 56), seed=42, low=0.0, high=1.2)
    pipe = Pipeline([ops.Dehaze(amount=80.0), ops.Exposure(stops=0.3),
                     ops.Denoise(luminance=60, color=40)])
    pipe.run(x, backend=wgpu_backend)  # compile first
    events: list[str] = []
    be = wgpu_backend
    compute_pass = be.compute_pass

    def logged_pass(enc, last=False):
        events.append("pass")
        return compute_pass(enc, last)

    buffer_cls = type(be.pool.acquire(256))
    map_async = buffer_cls.map_async

    def logged_map(self, *args, **kwargs):
        events.append("map")
        return map_async(self, *args, **kwargs)

    monkeypatch.setattr(be, "compute_pass", logged_pass)
    monkeypatch.setattr(buffer_cls, "map_async", logged_map)
    got = pipe.run(x, backend=be)
    monkeypatch.undo()
    assert events.count("pass") >= 20 and "map" in events
    last_pass = len(events) - 1 - events[::-1].index("pass")
    assert last_pass < events.index("map"), events
    assert_close(got, pipe.run(x, backend="cpu"), 3e-5, what="dehaze, exposure, denoise")
    # the read-back path maps between the passes: the assertion above can fail
    events.clear()
    monkeypatch.setattr(be, "compute_pass", logged_pass)
    monkeypatch.setattr(buffer_cls, "map_async", logged_map)
    _read_back_path(monkeypatch)
    pipe.run(x, backend=be)
    monkeypatch.undo()
    last_pass = len(events) - 1 - events[::-1].index("pass")
    assert events.index("map") < last_pass


def _failing_airlight_check(monkeypatch):
    """Make dehaze's check after the run see the flag "no pixel selected"."""
    real = dh.gpu_airlight_device

    def failing(be, buffer, height, width):
        stats = real(be, buffer, height, width)
        stats.check = lambda words: dh._check_flag(be, 0)
        return stats

    monkeypatch.setattr(dh, "gpu_airlight_device", failing)


def test_a_failed_check_fails_the_run(wgpu_backend, monkeypatch):
    _failing_airlight_check(monkeypatch)
    x = random_rgba((20, 24), seed=43)
    with pytest.raises(GPUError, match="found no pixel"):
        Pipeline([ops.Dehaze(amount=50.0)]).run(x, backend=wgpu_backend)
    # the backend is usable afterwards
    monkeypatch.undo()
    out = Pipeline([ops.Dehaze(amount=50.0)]).run(x, backend=wgpu_backend)
    assert np.isfinite(out).all()


def test_checks_read_the_gpu_flags(wgpu_backend):
    be = wgpu_backend
    dh._check_flag(be, 1)
    dh._check_flag(be, 2)  # no finite pixel: A = (1, 1, 1), not an error
    with pytest.raises(GPUError, match="found no pixel"):
        dh._check_flag(be, 0)
    words = np.zeros(dn._SLOT_BYTES // 4, np.uint32)
    dn._check_ranks(be, words, (10, 11))
    words.reshape(3, 2, dn._STATE_WORDS)[1, 1, 2:] = (1, 7)  # Cb, upper rank: error, 7 counted
    with pytest.raises(GPUError, match="counted 7 values, fewer than rank 11"):
        dn._check_ranks(be, words, (10, 11))


def test_device_statistics_buffers_return_to_the_pool(wgpu_backend):
    x = random_rgba((30, 33), seed=44)
    pipe = Pipeline([ops.Dehaze(amount=90.0), ops.Denoise(luminance=50)])
    pipe.run(x, backend=wgpu_backend)
    created = wgpu_backend.pool.created
    for _ in range(3):
        pipe.run(x, backend=wgpu_backend)
    assert wgpu_backend.pool.created == created


def test_several_global_ops_in_one_plan(wgpu_backend):
    # each op's statistics row is copied out of the shared selection state
    # before the next op rewrites it
    x = random_rgba((36, 52), seed=45, low=0.0, high=1.4)
    pipe = Pipeline([ops.Dehaze(amount=70.0), ops.Denoise(luminance=60, color=30),
                     ops.Dehaze(amount=-40.0), ops.Denoise(luminance=20, color=80, detail=50)])
    assert_close(pipe.run(x, backend=wgpu_backend), pipe.run(x, backend="cpu"), 3e-5,
                 what="dehaze, denoise, dehaze, denoise")


def test_time_resident_with_statistics_on_the_gpu(wgpu_backend, monkeypatch):
    # llvmpipe and the GPUs have timestamp queries; without them time_resident
    # raises GPUError and this test fails
    x = random_rgba((40, 48), seed=46, low=0.0, high=1.2)
    pipe = Pipeline([ops.Dehaze(amount=60.0), ops.Denoise(luminance=50)])
    times = wgpu_backend.time_resident(pipe.plan(), x, repeat=3)
    assert len(times) == 3 and all(t > 0 for t in times)
    # the runs in flight together left the backend in order
    assert_close(pipe.run(x, backend=wgpu_backend), pipe.run(x, backend="cpu"), 3e-5,
                 what="after time_resident")
    _failing_airlight_check(monkeypatch)
    with pytest.raises(GPUError, match="found no pixel"):
        wgpu_backend.time_resident(pipe.plan(), x, repeat=2)
