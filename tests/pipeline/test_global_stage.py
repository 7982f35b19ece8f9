"""A global op: statistics of its whole input first, then the per-pixel step."""

from typing import Any, ClassVar

import numpy as np

from pixelpipe import Pipeline, ops
from pixelpipe.ops.base import GlobalOp, GpuPass, OpKind, pack_params
from tests.helpers import assert_close, random_rgba

_SUBTRACT = """
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let p = pixel_coord(wid, lid);
    if (p.x >= dims.out_w || p.y >= dims.out_h) {
        return;
    }
    let i = p.y * dims.out_w + p.x;
    let c = src0[i];
    dst[i] = vec4<f32>(c.rgb - params[0].rgb, c.a);
}
"""


class _SubtractMean(GlobalOp):
    """Test op: subtract the image's mean RGB (a statistic of the whole input)."""

    op_name: ClassVar[str] = ""
    kind: ClassVar[OpKind] = OpKind.GLOBAL

    def statistics(self, x: Any) -> Any:
        return x[..., :3].reshape(-1, 3).mean(axis=0, dtype=np.float64).astype(np.float32)

    def apply(self, x: Any, stats: Any) -> Any:
        out = x.copy()
        out[..., :3] -= stats
        return out

    def gpu_passes_with(self, height: int, width: int, stats: Any) -> list[GpuPass]:
        return [GpuPass(_SUBTRACT, pack_params(stats), (height, width))]


def test_global_stage_sees_the_output_of_earlier_stages(wgpu_backend):
    # the statistics must be taken after the exposure, mid-plan
    pipe = Pipeline([ops.Exposure(stops=1.0), _SubtractMean(), ops.Exposure(stops=-1.0)])
    x = random_rgba((37, 29), seed=3)
    ref = pipe.run(x, backend="cpu")
    np.testing.assert_allclose(ref[..., :3].mean(axis=(0, 1)), 0.0, atol=1e-6)
    got = pipe.run(x, backend=wgpu_backend)
    assert_close(got, ref, 1e-6)
    assert wgpu_backend.kernels_dispatched == 3
    assert [s.kind for s in pipe.plan().stages] == [OpKind.POINTWISE, OpKind.GLOBAL,
                                                     OpKind.POINTWISE]
