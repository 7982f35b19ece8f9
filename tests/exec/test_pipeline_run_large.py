"""Pipeline.run itself tiles an image whose buffers exceed the device's limits."""

import numpy as np

from pixelpipe import Pipeline, ops
from tests.helpers import assert_close


def test_image_over_the_binding_limit_runs_tiled_with_the_one_pass_result(wgpu_backend):
    # one RGBA float32 image of this size is larger than the adapter's largest binding
    limit = wgpu_backend.max_binding
    side = int(np.sqrt(limit / 16)) + 64
    rng = np.random.default_rng(1)
    x = rng.random((side, side // 8, 3), dtype=np.float32)
    x = np.tile(x, (1, 8, 1))  # cheap to make, still not constant
    assert x.shape[0] * x.shape[1] * 16 > limit
    pipe = Pipeline([ops.GaussianBlur(sigma=2.0), ops.Exposure(stops=0.5)])
    got = pipe.run(x, backend=wgpu_backend)
    # the reference on a window: tiling must not change any pixel beyond the tolerance
    rows = slice(side // 2 - 40, side // 2 + 40)
    ref = Pipeline([ops.GaussianBlur(sigma=2.0), ops.Exposure(stops=0.5)]).run(
        x[side // 2 - 60: side // 2 + 60], backend="cpu")[20:100]
    assert_close(got[rows], ref, 1e-5)
