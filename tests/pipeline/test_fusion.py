import numpy as np

from pixelpipe import Pipeline, ops
from tests.helpers import assert_close, random_rgba


def test_consecutive_pointwise_ops_become_one_stage():
    p = Pipeline([ops.Exposure(stops=s) for s in (0.5, -1.0, 0.25, 2.0)])
    plan = p.plan()
    assert len(plan.stages) == 1 and plan.stages[0].fused and len(plan.stages[0].ops) == 4


def test_fused_chain_is_one_kernel_dispatch(wgpu_backend):
    chain = [ops.Exposure(stops=s) for s in (0.5, -1.0, 0.25, 2.0, -0.75)]
    x = random_rgba((33, 21))
    got = Pipeline(chain).run(x, backend=wgpu_backend)
    assert wgpu_backend.kernels_dispatched == 1
    assert_close(got, Pipeline(chain).run(x, backend="cpu"), 1e-6)


def test_grey_and_rgb_inputs_keep_their_channel_count(wgpu_backend):
    p = Pipeline([ops.Exposure(stops=1)])
    grey = np.random.default_rng(0).random((9, 7), dtype=np.float32)
    assert p.run(grey, backend=wgpu_backend).shape == (9, 7)
    rgb = np.random.default_rng(1).random((9, 7, 3), dtype=np.float32)
    assert p.run(rgb, backend="cpu").shape == (9, 7, 3)
