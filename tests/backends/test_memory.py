"""A run gives image buffers back as soon as no later pass reads them."""

from typing import ClassVar

import numpy as np
import pytest

from pixelpipe import Pipeline, ops
from pixelpipe.errors import GPUError
from pixelpipe.ops.base import Array, GpuPass, Op, OpKind
from tests.helpers import assert_close, random_rgba


def test_long_chain_holds_at_most_three_images(wgpu_backend):
    # each separable blur reads its input and writes two passes: three images at most,
    # however long the chain (the earlier buffers are reused)
    x = random_rgba((64, 80))
    chain = [ops.GaussianBlur(sigma=1.0 + k) for k in range(6)] + [ops.Exposure(stops=0.5)]
    Pipeline(chain).run(x, backend=wgpu_backend)
    assert wgpu_backend.kernels_dispatched == 13
    assert wgpu_backend.last_run_bytes <= 3 * x.nbytes


def test_results_stay_right_when_buffers_are_reused(wgpu_backend):
    x = random_rgba((33, 47), seed=4)
    chain = [ops.BoxBlur(radius=2), ops.Exposure(stops=1.0), ops.GaussianBlur(sigma=1.5),
             ops.Flip(axis="horizontal"), ops.BoxBlur(radius=1)]
    ref = Pipeline(chain).run(x, backend="cpu")
    got = Pipeline(chain).run(x, backend=wgpu_backend)
    assert_close(got, ref, 1e-5)


class _SumOfShifts(Op):
    """Test op: out = in + in shifted by one row + in shifted by two rows, accumulated in place.

    Passes: p0 = in (copy), p1 = row-shifted in, p2 writes p1 + in into p0's
    buffer, p3 = a second shift, p4 adds it into the same buffer.
    """

    kind: ClassVar[OpKind] = OpKind.NEIGHBORHOOD

    def radius(self) -> int:
        return 2

    def reference(self, x: Array) -> Array:
        out = x.copy()
        for s in (1, 2):
            out += np.concatenate([x[s:], np.repeat(x[-1:], s, axis=0)])
        return out

    def gpu_passes(self, height: int, width: int) -> list[GpuPass]:
        size = (height, width)
        copy = _PASS.format(body="dst[i] = src0[i];")
        add = _PASS.format(body="dst[i] = dst[i] + src0[i];")
        shift = _PASS.format(
            body="let sy = min(p.y + u32(params[0].x), dims.in_h - 1u);"
                 " dst[i] = src0[sy * dims.in_w + p.x];")
        one = np.array([[1.0, 0, 0, 0]], np.float32)
        two = np.array([[2.0, 0, 0, 0]], np.float32)
        return [GpuPass(copy, one, size, ("in",)),
                GpuPass(shift, one, size, ("in",)),
                GpuPass(add, one, size, ("p1",), in_place="p0"),
                GpuPass(shift, two, size, ("in",)),
                GpuPass(add, one, size, ("p3",), in_place="p2")]


_PASS = """
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {{
    let p = pixel_coord(wid, lid);
    if (p.x >= dims.out_w || p.y >= dims.out_h) {{ return; }}
    let i = p.y * dims.out_w + p.x;
    {body}
}}
"""


def test_in_place_passes_accumulate_and_free_buffers_early(wgpu_backend):
    x = random_rgba((37, 29), seed=2)
    op = _SumOfShifts()
    got = Pipeline([op]).run(x, backend=wgpu_backend)
    assert_close(got, op.reference(x), 1e-6)
    assert wgpu_backend.kernels_dispatched == 5
    # five passes, but never more than in + accumulator + one shifted copy live
    # (the pool rounds buffer sizes up a little: fewer than four images' bytes)
    assert wgpu_backend.last_run_bytes < 4 * x.nbytes


def test_a_pass_cannot_write_in_place_into_its_own_input(wgpu_backend):
    class _Bad(_SumOfShifts):
        def gpu_passes(self, height: int, width: int) -> list[GpuPass]:
            p = super().gpu_passes(height, width)
            return [p[0], GpuPass(p[2].shader, p[2].params, p[2].out_size, ("p0",),
                                  in_place="p0")]

    with pytest.raises(GPUError, match="in place"):
        Pipeline([_Bad()]).run(random_rgba((8, 8)), backend=wgpu_backend)


def test_time_resident_times_each_run_back_to_back(wgpu_backend):
    x = random_rgba((48, 64), seed=5)
    plan = Pipeline([ops.GaussianBlur(sigma=2.0), ops.Exposure(stops=0.5)]).plan()
    if "timestamp-query" not in wgpu_backend.device.features:  # llvmpipe has them
        with pytest.raises(GPUError, match="timestamp"):
            wgpu_backend.time_resident(plan, x, 5)
        return
    times = wgpu_backend.time_resident(plan, x, 5, warmup_s=0.05)
    assert len(times) == 5
    assert all(0.0 < t < 10.0 for t in times)
    # the resident input is left intact: a normal run afterwards still matches the reference
    got = Pipeline([ops.GaussianBlur(sigma=2.0), ops.Exposure(stops=0.5)]).run(
        x, backend=wgpu_backend)
    ref = Pipeline([ops.GaussianBlur(sigma=2.0), ops.Exposure(stops=0.5)]).run(x, backend="cpu")
    assert_close(got, ref, 1e-5)
