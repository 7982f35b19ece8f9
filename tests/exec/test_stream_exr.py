"""Streamed OpenEXR output (ExrRegionSink) equals the in-memory run, bit for bit on cpu."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tifffile

from pixelpipe import Pipeline, io, ops
from pixelpipe.backends import get_backend
from pixelpipe.errors import OutputError
from pixelpipe.exec.files import apply_file
from pixelpipe.exec.streaming import stream_file
from pixelpipe.io.regions import ExrRegionSink

CPU = get_backend("cpu")
PIPE = Pipeline([ops.Exposure(stops=0.5), ops.GaussianBlur(sigma=2.0),
                 ops.Saturation(saturation=1.2)])


def _tiff(path: Path, shape: tuple[int, int], channels: int, seed: int = 0) -> Any:
    a = (np.random.default_rng(seed).random((*shape, channels)) * 65535).astype(np.uint16)
    tifffile.imwrite(path, a if channels > 1 else a[..., 0], tile=(32, 32),
                     photometric="rgb" if channels > 1 else "minisblack")
    return a


@pytest.mark.parametrize(("channels", "bit_depth", "dtype"),
                         [(3, None, np.float16), (4, "float", np.float32),
                          (1, "half", np.float16)])
def test_streamed_exr_equals_in_memory(tmp_path: Path, channels: int, bit_depth: Any,
                                       dtype: Any) -> None:
    src = tmp_path / "in.tif"
    _tiff(src, (150, 110), channels, seed=channels)
    streamed = stream_file(PIPE, src, tmp_path / "s.exr", CPU, tile=37, bit_depth=bit_depth)
    want = io.write(tmp_path / "m.exr", PIPE.run(io.read(src), backend="cpu"),
                    bit_depth=bit_depth)
    got, ref = _channels(streamed), _channels(want)
    assert sorted(got) == sorted(ref)  # the bindings group R, G, B (A) into one entry
    assert sum(1 if px.ndim == 2 else px.shape[2] for px in got.values()) == channels
    for name, px in ref.items():
        assert got[name].dtype == px.dtype == dtype, name
        assert got[name].shape == px.shape and px.shape[:2] == (150, 110)
        # bit-exact: compare the stored bits, NaN included
        bits = np.uint16 if dtype == np.float16 else np.uint32
        np.testing.assert_array_equal(got[name].view(bits), px.view(bits), err_msg=name)


def _channels(path: Path) -> dict[str, Any]:
    import OpenEXR

    with OpenEXR.File(str(path)) as f:
        return {n: np.array(c.pixels) for n, c in f.channels().items()}

def test_apply_file_streams_to_exr(tmp_path: Path) -> None:
    src = tmp_path / "in.tif"
    _tiff(src, (120, 90), 3)
    out, choice = apply_file(PIPE, src, tmp_path / "s.exr", CPU, memory_limit=200_000)
    assert choice.strategy == "streaming"
    ref = io.write(tmp_path / "m.exr", PIPE.run(io.read(src), backend="cpu"))
    np.testing.assert_array_equal(io.read(out).array, io.read(ref).array)
    # EXR in, EXR out
    out2 = stream_file(PIPE, ref, tmp_path / "s2.exr", CPU, tile=48, bit_depth="float")
    ref2 = io.write(tmp_path / "m2.exr", PIPE.run(io.read(ref), backend="cpu"),
                    bit_depth="float")
    np.testing.assert_array_equal(io.read(out2).array, io.read(ref2).array)


def test_exr_sink_refuses(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="half or float"):
        ExrRegionSink(tmp_path / "a.exr", 4, 4, 3, np.uint16, 16)
    with pytest.raises(OutputError, match="channels"):
        ExrRegionSink(tmp_path / "a.exr", 4, 4, 2, np.float16, 16)
    with pytest.raises(OutputError, match="compression"):
        ExrRegionSink(tmp_path / "a.exr", 4, 4, 3, np.float16, 16, compression="nope")
    (tmp_path / "b.exr").write_bytes(b"x")
    with pytest.raises(OutputError, match="exists"):
        ExrRegionSink(tmp_path / "b.exr", 4, 4, 3, np.float16, 16)
