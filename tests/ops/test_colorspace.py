"""ColorSpace: matrices against colour-science, reference vs WebGPU."""

import itertools
import warnings

import numpy as np
import pytest

from pixelpipe import ParameterError, ops
from pixelpipe.ops.color.colorspace import SPACES, conversion_matrix, rgb_to_xyz
from tests.helpers import SIZES, TALL, check_consistency, random_rgba

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import colour

#: pixelpipe name -> colour-science RGB_COLOURSPACES key
COLOUR_NAMES = {
    "rec709": "sRGB", "rec2020": "ITU-R BT.2020", "display-p3": "Display P3",
    "adobe-rgb": "Adobe RGB (1998)", "acescg": "ACEScg", "aces2065-1": "ACES2065-1",
}
D65_XYZ = colour.xy_to_XYZ(np.array([0.3127, 0.3290]))


def _cs(name: str):
    """colour-science's definition, with its matrices derived from the primaries and white
    (its sRGB entry otherwise carries IEC 61966-2-1's 4-digit rounded matrix, 4e-5 away)."""
    cs = colour.RGB_COLOURSPACES[COLOUR_NAMES[name]].copy()
    cs.use_derived_matrix_RGB_to_XYZ = True
    cs.use_derived_matrix_XYZ_to_RGB = True
    return cs


def _colour_matrix(source: str, target: str) -> np.ndarray:
    if source == "xyz-d65" and target == "xyz-d65":
        return np.eye(3)
    if target == "xyz-d65":
        cs = _cs(source)
        cat = colour.adaptation.matrix_chromatic_adaptation_VonKries(
            colour.xy_to_XYZ(cs.whitepoint), D65_XYZ, transform="Bradford")
        return cat @ cs.matrix_RGB_to_XYZ
    if source == "xyz-d65":
        return np.linalg.inv(_colour_matrix(target, "xyz-d65"))
    return colour.matrix_RGB_to_RGB(_cs(source), _cs(target),
                                    chromatic_adaptation_transform="Bradford")


@pytest.mark.parametrize(("source", "target"), list(itertools.product(SPACES, SPACES)))
def test_matrices_match_colour_science(source, target):
    # tolerance 1e-6 absolute on every coefficient (the brief's bound); measured 2e-15
    np.testing.assert_allclose(conversion_matrix(source, target),
                               _colour_matrix(source, target), rtol=0, atol=1e-6)


def test_d50_colorants_match_colour_science():
    cs = _cs("display-p3")
    cat = colour.adaptation.matrix_chromatic_adaptation_VonKries(
        D65_XYZ, colour.xy_to_XYZ(np.array([0.3457, 0.3585])), transform="Bradford")
    np.testing.assert_allclose(rgb_to_xyz("display-p3", (0.3457, 0.3585)),
                               cat @ cs.matrix_RGB_to_XYZ, atol=1e-9)


def test_round_trip_and_identity():
    m = conversion_matrix("rec709", "rec2020") @ conversion_matrix("rec2020", "rec709")
    np.testing.assert_allclose(m, np.eye(3), atol=1e-12)
    assert ops.ColorSpace(source="acescg", target="acescg").is_identity()
    assert not ops.ColorSpace(source="rec709", target="rec2020").is_identity()
    # white stays white between spaces of the same white point
    white = random_rgba((1, 1))
    white[..., :3] = 0.5
    out = ops.ColorSpace(source="display-p3", target="rec2020").reference(white)
    np.testing.assert_allclose(out[..., :3], 0.5, atol=1e-6)


@pytest.mark.parametrize("shape", [*SIZES, TALL])
def test_colorspace_wgpu_matches_reference(shape, wgpu_backend):
    x = random_rgba(shape, seed=3, low=-0.5, high=4.0)
    op = ops.ColorSpace(source="acescg", target="rec709")
    # coefficients up to ~1.7, inputs up to 4: one FMA rounding is ~4e-7 of the sum's scale
    check_consistency(op, x, wgpu_backend, rtol=2e-6)


def test_colorspace_nan_inf(wgpu_backend):
    x = random_rgba((5, 9))
    x[0, 0, 0], x[1, 1, 1] = np.nan, np.inf
    ref = check_consistency(ops.ColorSpace(source="rec2020", target="display-p3"), x,
                            wgpu_backend, rtol=2e-6)
    assert np.isnan(ref[0, 0, :3]).all()
    assert np.isinf(ref[1, 1, :3]).any()
    np.testing.assert_array_equal(ref[..., 3], x[..., 3])


def test_unknown_space_is_a_parameter_error():
    with pytest.raises(ParameterError, match="target"):
        ops.ColorSpace.from_config({"source": "rec709", "target": "prophoto"})
