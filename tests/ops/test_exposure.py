import numpy as np
import pytest

from pixelpipe import ParameterError, ops
from tests.helpers import SIZES, TALL, check_consistency, random_rgba


@pytest.mark.parametrize("shape", [*SIZES, TALL])
def test_exposure_wgpu_matches_reference(shape, wgpu_backend):
    x = random_rgba(shape, seed=1, low=-0.5, high=4.0)
    check_consistency(ops.Exposure(stops=1.7), x, wgpu_backend, rtol=1e-6)


def test_exposure_nan_inf_propagate(wgpu_backend):
    x = random_rgba((5, 9))
    x[0, 0, 0], x[1, 1, 1], x[2, 2, 2] = np.nan, np.inf, -np.inf
    ref = check_consistency(ops.Exposure(stops=-2), x, wgpu_backend, rtol=1e-6)
    assert np.isnan(ref[0, 0, 0]) and ref[1, 1, 1] == np.inf and ref[2, 2, 2] == -np.inf


def test_plus_one_stop_doubles_linear_values_and_keeps_alpha():
    x = random_rgba((4, 4))
    y = ops.Exposure(stops=1.0).reference(x)
    np.testing.assert_array_equal(y[..., :3], 2 * x[..., :3])
    np.testing.assert_array_equal(y[..., 3], x[..., 3])


def test_exposure_range_is_validated():
    with pytest.raises(ParameterError, match="stops"):
        ops.Exposure.from_config({"stops": 11})
