"""Streaming: region sources and sinks, streamed == in-memory, memory bounded."""

from __future__ import annotations

import tracemalloc
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tifffile

from pixelpipe import Pipeline, ops
from pixelpipe.backends import get_backend
from pixelpipe.errors import InputError, OutputError, PipelineError
from pixelpipe.exec import choose
from pixelpipe.exec.streaming import input_tiles, run_streaming, stream_file
from pixelpipe.io.regions import (
    ArrayRegionSink,
    ArrayRegionSource,
    TiffRegionSink,
    open_region_source,
)
from pixelpipe.ops.spatial import denoise as denoise_mod
from tests.helpers import assert_close, random_rgba

CPU = get_backend("cpu")
SHAPE = (700, 900)
PIPE = Pipeline([ops.Exposure(stops=0.5), ops.GaussianBlur(sigma=3.0),
                 ops.Vignette(amount=-30.0), ops.Grain(amount=25.0),
                 ops.Sharpen(amount=40.0), ops.Saturation(saturation=1.2)])


def _image(shape: tuple[int, int] = SHAPE, channels: int = 3, seed: int = 0) -> Any:
    rng = np.random.default_rng(seed)
    return (rng.random((*shape, channels)) * 65535).astype(np.uint16)


@pytest.mark.parametrize("layout", [dict(tile=(64, 64)), dict(rowsperstrip=37),
                                    dict(tile=(32, 48), compression="zlib", predictor=True)],
                         ids=["tiled", "strips", "zlib-predictor"])
def test_streamed_equals_in_memory_cpu(tmp_path: Path, layout: dict[str, Any]) -> None:
    a = _image()
    src = tmp_path / "in.tif"
    tifffile.imwrite(src, a, bigtiff=True, photometric="rgb", **layout)
    out = stream_file(PIPE, src, tmp_path / "out.tif", CPU, tile=48)
    with tifffile.TiffFile(out) as tf:
        assert tf.is_bigtiff and tf.pages.first.is_tiled
        got = tf.asarray()
    want = PIPE.run(a, backend="cpu", out_dtype=np.uint16)
    np.testing.assert_array_equal(got, want)


def test_streamed_grey_and_rgba_to_float(tmp_path: Path) -> None:
    for channels in (1, 4):
        a = _image((130, 170), channels, seed=channels)
        src = tmp_path / f"in{channels}.tif"
        tifffile.imwrite(src, a if channels > 1 else a[..., 0], tile=(16, 16),
                         photometric="rgb" if channels > 1 else "minisblack")
        out = stream_file(PIPE, src, tmp_path / f"out{channels}.tif", CPU, tile=32,
                          bit_depth="float")
        got = tifffile.imread(out)
        want = PIPE.run(a if channels > 1 else a[..., 0], backend="cpu", out_dtype=np.float32)
        np.testing.assert_array_equal(got, want)


def test_streamed_wgpu(tmp_path: Path, wgpu_backend: Any) -> None:
    a = _image((200, 260))
    src = tmp_path / "in.tif"
    tifffile.imwrite(src, a, tile=(32, 32))
    out = stream_file(PIPE, src, tmp_path / "out.tif", wgpu_backend, tile=64, bit_depth="float")
    got = tifffile.imread(out)
    untiled = PIPE.run(a, backend=wgpu_backend, out_dtype=np.float32)
    assert_close(got, untiled, 1e-5, what="streamed vs untiled wgpu")
    assert_close(got, PIPE.run(a, backend="cpu"), 2e-5, what="streamed wgpu vs reference")


def test_exr_source(tmp_path: Path) -> None:
    import OpenEXR

    a = np.random.default_rng(1).random((90, 120, 3)).astype(np.float32) * 4
    td = OpenEXR.TileDescription()
    td.xSize, td.ySize = 16, 16
    for kind, extra in ((OpenEXR.scanlineimage, {}), (OpenEXR.tiledimage, {"tiles": td})):
        path = tmp_path / "in.exr"
        OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION, "type": kind, **extra},
                     {"RGB": a}).write(str(path))
        with open_region_source(path) as s:
            assert (s.height, s.width, s.channels, s.dtype) == (90, 120, 3, np.float32)
            np.testing.assert_array_equal(s.read_rows(17, 53), a[17:53])
        out = stream_file(PIPE, path, tmp_path / "out.tif", CPU, tile=32, overwrite=True)
        np.testing.assert_array_equal(tifffile.imread(out), PIPE.run(a, backend="cpu"))


def test_array_source_and_sink_any_tile() -> None:
    a = _image((75, 61), 3, seed=3)
    sink = ArrayRegionSink(75, 61, 3, np.uint16, 23)
    run_streaming(PIPE.plan(), ArrayRegionSource(a), sink, CPU, 23, np.uint16)
    np.testing.assert_array_equal(sink.array, PIPE.run(a, backend="cpu", out_dtype=np.uint16))


def _peak_streaming(tmp_path: Path, height: int) -> int:
    a = _image((height, 400), 3, seed=height)
    src = tmp_path / f"tall{height}.tif"
    tifffile.imwrite(src, a, tile=(64, 64))
    del a
    p = Pipeline([ops.Exposure(stops=0.5), ops.GaussianBlur(sigma=2.0)]).plan()
    tracemalloc.start()
    try:
        with open_region_source(src) as s:
            run_streaming(p, s, TiffRegionSink(tmp_path / f"o{height}.tif", height, 400, 3,
                                               np.uint16, 64), CPU, 64, np.uint16)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_bounded_by_tiles_not_image(tmp_path: Path) -> None:
    small, large = _peak_streaming(tmp_path, 320), _peak_streaming(tmp_path, 1600)
    whole_f32 = 1600 * 400 * 16  # the large image as float32 RGBA: 10 MB
    assert large < whole_f32 / 4, f"peak {large} B"
    # five times the rows, same peak (bands and tiles only), within 25 %
    assert large < 1.25 * small, f"peak grows with the image: {small} -> {large} B"


DENOISE_CHAIN = [ops.Exposure(stops=0.3), ops.GaussianBlur(sigma=1.0),
                 ops.Denoise(luminance=80, color=60, detail=30), ops.Sharpen(amount=40.0)]


@pytest.mark.parametrize("cap", [None, 500], ids=["gathered", "radix-passes"])
def test_denoise_streamed_equals_in_memory_cpu(cap: int | None,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # cap 500: the exact median takes histogram passes before gathering
    if cap is not None:
        monkeypatch.setattr(denoise_mod, "GATHER_CAP", cap)
    a = _image((150, 170), 3, seed=9)
    a[20, 30] = 0  # ties in |w1| near the median are handled by the selection
    for chain in (DENOISE_CHAIN, [*DENOISE_CHAIN, ops.Denoise(luminance=40, color=20)]):
        pipe = Pipeline(chain)
        want = pipe.run(a, backend="cpu", out_dtype=np.uint16)
        for tile in (64, 37):
            sink = ArrayRegionSink(150, 170, 3, np.uint16, tile)
            run_streaming(pipe.plan(), ArrayRegionSource(a), sink, CPU, tile, np.uint16)
            np.testing.assert_array_equal(sink.array, want, err_msg=f"{len(chain)} ops, {tile}")


def test_denoise_streamed_statistics_equal_whole_image() -> None:
    op = ops.Denoise(luminance=50)
    x = random_rgba((90, 110), seed=4)
    x[5, 7] = np.nan
    src = ArrayRegionSource(x)
    assert op.statistics_radius(90, 110) == 2
    got = op.statistics_from_tiles(lambda: input_tiles([], src, CPU, 29, 2), (90, 110))
    np.testing.assert_array_equal(got, op.statistics(x))
    assert np.all(got > 0)


@pytest.mark.parametrize("n", [1, 2, 7, 1000, 1001])
def test_tiled_median_is_numpy_median(n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(n)
    v = np.abs(rng.standard_normal((n, 3))) * rng.choice([1e-3, 1.0, 1e3], size=(n, 3))
    v[: n // 3, 1] = 0.5  # many ties
    want = np.median(v, axis=0)
    for cap in (1 << 22, 10, 0):
        monkeypatch.setattr(denoise_mod, "GATHER_CAP", cap)
        got = denoise_mod.tiled_median(lambda: (v[i:i + 97] for i in range(0, n, 97)), n, 3)
        np.testing.assert_array_equal(got, want, err_msg=f"cap {cap}")


#: dehaze's consistency tolerance, as RTOL_GPU in tests/ops/test_dehaze.py
DEHAZE_RTOL = 1e-4
DEHAZE_CHAIN = [ops.Exposure(stops=-0.2), ops.BoxBlur(radius=2),
                ops.Dehaze(amount=70.0), ops.Saturation(saturation=1.1)]


def test_dehaze_streamed_equals_in_memory_cpu() -> None:
    a = _image((260, 230), 3, seed=12)  # dark radius 3, apply halo 27
    a[:60, :80] = 50000  # a flat bright patch: ties in the dark channel and intensity
    for chain in (DEHAZE_CHAIN, [*DEHAZE_CHAIN, ops.Dehaze(amount=-30.0)]):
        pipe = Pipeline(chain)
        want = pipe.run(a, backend="cpu", out_dtype=np.uint16)
        for tile in (64, 37):
            sink = ArrayRegionSink(260, 230, 3, np.uint16, tile)
            run_streaming(pipe.plan(), ArrayRegionSource(a), sink, CPU, tile, np.uint16)
            np.testing.assert_array_equal(sink.array, want, err_msg=f"{len(chain)} ops, {tile}")


def _dehaze_inputs() -> list[Any]:
    rng = np.random.default_rng(5)
    plain = random_rgba((130, 150), seed=6)
    ties = plain.copy()
    ties[:50, :40, :3] = 0.9  # the brightest 0.1 % is one flat block: first pixel wins
    ties[100:, :, 0] = -0.5  # negative values order below zero
    ties[7, 9] = np.nan
    steps = (np.round(rng.random((90, 100, 4)) * 4) / 4).astype(np.float32)
    steps[3:9, 3:9, :3] = np.inf
    return [plain, ties, steps, -plain, np.full((40, 50, 4), np.nan, np.float32)]


@pytest.mark.parametrize("case", range(5))
def test_dehaze_streamed_statistics_equal_whole_image(case: int) -> None:
    op = ops.Dehaze(amount=40.0)
    x = _dehaze_inputs()[case]
    src = ArrayRegionSource(x)
    h, w = x.shape[:2]
    r = op.statistics_radius(h, w)
    want = op.statistics(x)
    for tile in (37, 16):
        got = op.statistics_from_tiles(partial(input_tiles, [], src, CPU, tile, r), (h, w))
        np.testing.assert_array_equal(got, want, err_msg=f"tile {tile}")


def test_dehaze_streamed_wgpu(wgpu_backend: Any) -> None:
    a = _image((150, 140), 3, seed=13)
    pipe = Pipeline(DEHAZE_CHAIN)
    sink = ArrayRegionSink(150, 140, 3, np.float32, 64)
    run_streaming(pipe.plan(), ArrayRegionSource(a), sink, wgpu_backend, 64, np.float32)
    assert_close(sink.array, pipe.run(a, backend="cpu"), DEHAZE_RTOL,
                 what="streamed wgpu vs cpu")


def test_denoise_streamed_wgpu(wgpu_backend: Any) -> None:
    a = _image((140, 150), 3, seed=10)
    pipe = Pipeline(DENOISE_CHAIN)
    sink = ArrayRegionSink(140, 150, 3, np.float32, 64)
    run_streaming(pipe.plan(), ArrayRegionSource(a), sink, wgpu_backend, 64, np.float32)
    # denoise's consistency tolerance (tests/ops/test_denoise.py): 3e-6
    assert_close(sink.array, pipe.run(a, backend="cpu"), 3e-6, what="streamed wgpu vs cpu")


def test_not_streamable_ops_raise(tmp_path: Path) -> None:
    a = _image((40, 50))
    src = tmp_path / "in.tif"
    tifffile.imwrite(src, a)
    crop = ops.Crop(x=2, y=3, width=30, height=30)
    for chain, word in (([crop, ops.Dehaze(amount=30.0)], "dehaze"),
                        ([ops.BoxBlur(radius=2, mode="wrap")], "wrap")):
        with pytest.raises(PipelineError, match=word):
            stream_file(Pipeline(chain), src, tmp_path / "o.tif", CPU, 32)
    assert not (tmp_path / "o.tif").exists()


def test_bad_files(tmp_path: Path) -> None:
    a = _image((100, 100))
    good = tmp_path / "good.tif"
    tifffile.imwrite(good, a, tile=(32, 32), compression="zlib")
    data = good.read_bytes()
    cut = tmp_path / "cut.tif"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"cut\.tif"):
        stream_file(PIPE, cut, tmp_path / "o.tif", CPU, 32)
    assert not (tmp_path / "o.tif").exists()
    junk = tmp_path / "junk.tif"
    junk.write_bytes(b"II*\x00" + b"\xff" * 50)
    with pytest.raises(InputError, match=r"junk\.tif"):
        open_region_source(junk)
    with pytest.raises(InputError, match="cannot be streamed"):
        open_region_source(Path(__file__).parents[1] / "data" / "photos" / "coffee.png")
    stream_file(PIPE, good, tmp_path / "o.tif", CPU, 32)
    with pytest.raises(OutputError, match="already exists"):
        stream_file(PIPE, good, tmp_path / "o.tif", CPU, 32)


def test_strategy_streams_when_image_exceeds_budget() -> None:
    p = PIPE.plan()
    c = choose(p, 700, 900, CPU, memory_limit=8 * 10**6, in_memory=False, source_pixel_bytes=6)
    assert c.strategy == "streaming" and c.tile_size is not None
    assert choose(p, 700, 900, CPU, memory_limit=10**9, in_memory=False).strategy == "single"


@pytest.mark.parametrize("byteorder", ["<", ">"])
def test_single_strip_uncompressed_reads_only_the_band(tmp_path: Path, byteorder: str) -> None:
    h, w = 1600, 400
    a = _image((h, w), 3, seed=7)
    src = tmp_path / "strip.tif"
    tifffile.imwrite(src, a, rowsperstrip=h, byteorder=byteorder, photometric="rgb")
    with tifffile.TiffFile(src) as tf:
        assert len(tf.pages.first.dataoffsets) == 1  # really one strip
    p = Pipeline([ops.Exposure(stops=0.5), ops.GaussianBlur(sigma=2.0)]).plan()
    tracemalloc.start()
    try:
        with open_region_source(src) as s:
            np.testing.assert_array_equal(s.read_rows(777, 801), a[777:801])
            sink = TiffRegionSink(tmp_path / "o.tif", h, w, 3, np.uint16, 64)
            run_streaming(p, s, sink, CPU, 64, np.uint16)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # decoding the strip costs all of it, 3.8 MB, per band; reading the band's rows costs
    # the band (64 + 2 x 8 rows: 192 kB) and the tiles' working set (measured: 1.3-1.6 MB)
    assert peak < a.nbytes / 2, f"peak {peak} B for a {a.nbytes} B strip"
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "o.tif"),
                                  Pipeline([ops.Exposure(stops=0.5), ops.GaussianBlur(sigma=2.0)])
                                  .run(a, backend="cpu", out_dtype=np.uint16))


def test_truncated_uncompressed_strip(tmp_path: Path) -> None:
    a = _image((120, 50), 3, seed=8)
    src = tmp_path / "strip.tif"
    tifffile.imwrite(src, a, rowsperstrip=120, photometric="rgb")
    with tifffile.TiffFile(src) as tf:
        end = int(tf.pages.first.dataoffsets[0] + tf.pages.first.databytecounts[0])
    data = src.read_bytes()
    if end == len(data):  # pixel data last: cut into it
        src.write_bytes(data[:end - 1000])
        with open_region_source(src) as s:
            np.testing.assert_array_equal(s.read_rows(0, 10), a[:10])
            with pytest.raises(InputError, match="truncated"):
                s.read_rows(100, 120)
    else:  # pixel data before the header's end: shrink the strip's byte count instead
        with tifffile.TiffFile(src, mode="r+b") as tf:
            tf.pages.first.tags["StripByteCounts"].overwrite([a.nbytes - 1000])
        with open_region_source(src) as s:
            np.testing.assert_array_equal(s.read_rows(0, 10), a[:10])
            with pytest.raises(InputError, match="fewer than its rows need"):
                s.read_rows(100, 120)


# --- geometry ops streamed (tiles of the output grid from source rectangles) --
GEOMETRY_STREAM = {
    "crop": [ops.Crop(x=13, y=21, width=150, height=97)],
    "flip-both": [ops.Flip(axis="both")],
    "flip-horizontal": [ops.Exposure(stops=0.4), ops.Flip(axis="horizontal")],
    "resize-down": [ops.Resize(width=71, filter="lanczos3")],
    "resize-up": [ops.Resize(width=230, height=140, filter="bicubic")],
    "resize-area": [ops.Resize(width=85, height=65, filter="area")],
    "rotate": [ops.Rotate(angle=30.0, interpolation="bicubic", expand=True)],
    "chain": [ops.GaussianBlur(sigma=1.5), ops.Flip(axis="vertical"),
              ops.Resize(width=120, filter="bilinear"), ops.Sharpen(amount=40.0),
              ops.Crop(x=4, y=6, width=90, height=70)],
}


class _CountingSource(ArrayRegionSource):
    """Records the area of every rectangle read."""

    def __init__(self, array: np.ndarray) -> None:
        super().__init__(array)
        self.areas: list[int] = []

    def read_region(self, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
        self.areas.append((y1 - y0) * (x1 - x0))
        return super().read_region(y0, y1, x0, x1)


@pytest.mark.parametrize("name", sorted(GEOMETRY_STREAM))
def test_geometry_streamed_equals_in_memory_cpu(name: str) -> None:
    a = _image((130, 170), 3, seed=21)
    pipe = Pipeline(GEOMETRY_STREAM[name])
    want = pipe.run(a, backend="cpu", out_dtype=np.uint16)
    oh, ow = pipe.plan().output_shape(130, 170)
    assert want.shape == (oh, ow, 3)
    for tile in (64, 37):
        src = _CountingSource(a)
        sink = ArrayRegionSink(oh, ow, 3, np.uint16, tile)
        run_streaming(pipe.plan(), src, sink, CPU, tile, np.uint16)
        np.testing.assert_array_equal(sink.array, want, err_msg=f"{name}, tile {tile}")
        # one source rectangle per output tile; with several tiles, each
        # smaller than the image
        assert len(src.areas) == -(-oh // tile) * -(-ow // tile)
        assert len(src.areas) == 1 or max(src.areas) < 130 * 170, (name, max(src.areas))


def test_geometry_streamed_tiff_file(tmp_path: Path) -> None:
    a = _image((150, 200), 3, seed=22)
    src = tmp_path / "in.tif"
    tifffile.imwrite(src, a, tile=(32, 32), photometric="rgb")
    pipe = Pipeline([ops.Flip(axis="both"), ops.Resize(width=90, filter="bicubic")])
    out = stream_file(pipe, src, tmp_path / "out.tif", CPU, 32)
    got = tifffile.imread(out)
    np.testing.assert_array_equal(got, pipe.run(a, backend="cpu", out_dtype=a.dtype))


def test_geometry_streamed_wgpu(wgpu_backend: Any) -> None:
    a = _image((120, 140), 3, seed=23).astype(np.float32) / 65535
    pipe = Pipeline(GEOMETRY_STREAM["chain"] + [ops.Rotate(angle=30.0, expand=True)])
    oh, ow = pipe.plan().output_shape(120, 140)
    sink = ArrayRegionSink(oh, ow, 3, np.float32, 64)
    run_streaming(pipe.plan(), ArrayRegionSource(a), sink, wgpu_backend, 64, np.float32)
    # the loosest consistency tolerance of the chain's ops (tests/ops): 1e-5
    assert_close(sink.array, pipe.run(a, backend="cpu"), 1e-5, what="streamed wgpu vs cpu")


def test_geometry_with_global_op_refused() -> None:
    a = _image((40, 50), 3)
    pipe = Pipeline([ops.Flip(), ops.Dehaze(amount=30.0)])
    sink = ArrayRegionSink(40, 50, 3, np.uint16, 16)
    with pytest.raises(PipelineError, match="dehaze"):
        run_streaming(pipe.plan(), ArrayRegionSource(a), sink, CPU, 16, np.uint16)


@pytest.mark.parametrize("layout", [{"tile": (32, 48)}, {"rowsperstrip": 7},
                                    {"tile": (16, 16), "compression": "zlib"}])
def test_tiff_read_region(tmp_path: Path, layout: dict[str, Any]) -> None:
    a = _image((150, 200), 3, seed=24)
    tifffile.imwrite(tmp_path / "r.tif", a, photometric="rgb", **layout)
    with open_region_source(tmp_path / "r.tif") as src:
        for y0, y1, x0, x1 in ((0, 150, 0, 200), (5, 77, 33, 180), (149, 150, 199, 200),
                               (31, 33, 47, 49)):
            np.testing.assert_array_equal(src.read_region(y0, y1, x0, x1), a[y0:y1, x0:x1])
        with pytest.raises(InputError, match="columns"):
            src.read_region(0, 10, 190, 201)
