"""A run gives image buffers back as soon as no later pass reads them."""

from pixelpipe import Pipeline, ops
from tests.helpers import random_rgba


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
    from tests.helpers import assert_close

    assert_close(got, ref, 1e-5)
