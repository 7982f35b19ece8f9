"""Readers keep decoded samples in their own type; writers use them when the type matches."""

import numpy as np

import pixelpipe
from pixelpipe import Image, Pipeline, ops


def test_png_reader_keeps_uint8_samples_and_derives_the_float_array(data_dir):
    img = pixelpipe.read(data_dir / "photos" / "chelsea.png")
    assert img.samples is not None and img.samples.dtype == np.uint8
    np.testing.assert_array_equal(img.array, img.samples.astype(np.float32) / np.float32(255))


def test_writing_kept_samples_is_lossless_without_a_float_round_trip(data_dir, tmp_path):
    img = pixelpipe.read(data_dir / "photos" / "chelsea.png")
    out = pixelpipe.write(tmp_path / "copy.png", img)
    np.testing.assert_array_equal(pixelpipe.read(out).samples, img.samples)


def test_an_integer_array_is_written_as_samples_not_as_float_values(tmp_path):
    x = np.arange(256, dtype=np.uint8).reshape(16, 16)
    back = pixelpipe.read(pixelpipe.write(tmp_path / "ramp.png", x))
    np.testing.assert_array_equal(back.samples[..., 0], x)


def test_pipeline_on_a_decoded_image_quantises_on_the_device(data_dir, wgpu_backend):
    img = pixelpipe.read(data_dir / "photos" / "chelsea.png")
    pipe = Pipeline([ops.Exposure(stops=0.5)])
    on_gpu = pipe.run(img, backend=wgpu_backend, out_dtype=np.uint8)
    assert on_gpu.samples is not None and on_gpu.samples.dtype == np.uint8
    reference = pipe.run(Image(img.array, img.meta), backend="cpu")
    expected = np.rint(np.clip(reference.array, 0, 1) * np.float32(255)).astype(np.uint8)
    # the GPU's u8 -> float conversion may differ from NumPy's by an ulp: at most one
    # code value, and only where the product lands on a rounding boundary
    diff = np.abs(on_gpu.samples.astype(int) - expected.astype(int))
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3
