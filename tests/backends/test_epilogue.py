"""Pointwise ops after an op whose last pass takes an epilogue run inside that pass."""

import numpy as np
import pytest

from pixelpipe import Pipeline, ops
from pixelpipe.errors import GPUError
from pixelpipe.ops.base import GpuPass
from tests.helpers import assert_close, random_rgba

CHAIN = [ops.Exposure(stops=0.4), ops.Saturation(saturation=1.3),
         ops.Transfer(function="srgb", direction="encode")]


@pytest.mark.parametrize("op", [
    ops.Grain(amount=60, size=40, kind="silver", seed=3),
    ops.Texture(amount=40),
    ops.Clarity(amount=-30),
    ops.Sharpen(amount=70, radius=1.5, masking=40),
    ops.Denoise(luminance=40, color=30),
], ids=lambda op: op.op_name)
def test_chain_after_the_op_runs_in_its_last_pass(op, wgpu_backend):
    x = random_rgba((37, 53), seed=11)
    x[3, 4, 0] = np.nan  # non-finite pixels pass through the epilogue too
    x[20, 30, 2] = np.inf
    alone = Pipeline([op]).run(x, backend=wgpu_backend)
    op_kernels = wgpu_backend.kernels_dispatched
    got = Pipeline([op, *CHAIN]).run(x, backend=wgpu_backend)
    assert wgpu_backend.kernels_dispatched == op_kernels  # no pass of its own
    ref = Pipeline([op, *CHAIN]).run(x, backend="cpu")
    assert_close(got, ref, 1e-4)
    # the same chain applied to the op's own GPU output
    assert_close(got, Pipeline(CHAIN).run(alone, backend=wgpu_backend), 1e-6)


def test_epilogue_only_on_the_last_pass(wgpu_backend):
    class _Bad(ops.Grain):
        op_name = ""

        def gpu_passes(self, height: int, width: int) -> list[GpuPass]:
            (p,) = super().gpu_passes(height, width)
            return [p, GpuPass(p.shader, p.params, p.out_size, ("p0",))]

    with pytest.raises(GPUError, match="epilogue"):
        Pipeline([_Bad(amount=10)]).run(random_rgba((8, 8)), backend=wgpu_backend)
