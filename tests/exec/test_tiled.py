"""Tiled == untiled: every catalogue op, chains, edge modes, the develop workflow.

cpu: bit-identical (same arithmetic per pixel). wgpu: tiled vs untiled on
the same device within 1e-5 relative (the same shaders read the same
inputs for every core pixel; global ops take their statistics on the host,
merged exactly from tiles, then are applied per tile), and tiled
wgpu vs the cpu reference within each op's own consistency tolerance
(table below, from tests/ops).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import pixelpipe.workflows.develop as develop_pkg
from pixelpipe import Pipeline, ops
from pixelpipe.backends import get_backend
from pixelpipe.exec import choose, execute
from pixelpipe.exec.tiled import run_tiled, segments
from pixelpipe.ops.base import Op, OpKind, registry
from tests.helpers import assert_close, random_rgba

CPU = get_backend("cpu")
#: tiled wgpu vs untiled wgpu (same shaders, same inputs per core pixel)
RTOL_SAME_DEVICE = 1e-5
#: tile sizes: a power of two and sizes that divide nothing here
TILES = (64, 37, 16)
SHAPE = (83, 101)


def _lut1d() -> Op:
    t = np.linspace(0.0, 1.0, 17, dtype=np.float32)
    return ops.LUT1D(table=np.stack([t ** 0.8, t, t ** 1.3], axis=1))


def _lut3d() -> Op:
    g = np.linspace(0.0, 1.0, 5, dtype=np.float32)
    r, gg, b = np.meshgrid(g, g, g, indexing="ij")
    table = np.stack([r ** 1.2, 0.8 * gg + 0.1 * b, b ** 0.7], axis=-1).astype(np.float32)
    return ops.LUT3D(table=table, interpolation="tetrahedral")


#: op_name -> (representative non-neutral instance, its wgpu consistency rtol)
CASES: dict[str, tuple[Any, float]] = {
    "box_blur": (lambda: ops.BoxBlur(radius=4, mode="reflect"), 1e-5),
    "cdl": (lambda: ops.CDL(slope=(1.1, 1.0, 0.9), offset=(0.01, 0, -0.02),
                            power=(1.0, 1.1, 0.95), saturation=0.8), 1e-5),
    "clarity": (lambda: ops.Clarity(amount=45.0), 1e-5),
    "color_grading": (lambda: ops.ColorGrading(shadows={"hue": 200, "saturation": 40},
                                               highlights={"hue": 40, "saturation": 30,
                                                           "luminance": 10}), 1e-5),
    "colorspace": (lambda: ops.ColorSpace(source="rec709", target="display-p3"), 1e-5),
    "crop": (lambda: ops.Crop(x=5, y=7, width=80, height=60), 1e-5),
    "dehaze": (lambda: ops.Dehaze(amount=60.0), 1e-4),
    "denoise": (lambda: ops.Denoise(luminance=70, color=55, detail=40), 3e-6),
    "exposure": (lambda: ops.Exposure(stops=0.7), 1e-5),
    "flip": (lambda: ops.Flip(axis="both"), 1e-5),
    "gaussian_blur": (lambda: ops.GaussianBlur(sigma=3.0), 1e-5),
    "grain": (lambda: ops.Grain(amount=40.0, seed=3, grain_kind="silver"), 1e-5),
    "hsl": (lambda: ops.HSL(red={"hue": 20, "saturation": 30}, blue={"luminance": -20}), 1e-4),
    "lut1d": (_lut1d, 1e-5),
    "lut3d": (_lut3d, 1e-5),
    "matrix": (lambda: ops.Matrix(matrix=((0.9, 0.1, 0.0), (0.05, 0.9, 0.05),
                                          (0.0, 0.2, 0.8)), offset=(0.01, 0.0, 0.02)), 1e-5),
    "resize": (lambda: ops.Resize(width=61, filter="lanczos3"), 1e-5),
    "rotate": (lambda: ops.Rotate(angle=17.0, expand=True), 1e-5),
    "saturation": (lambda: ops.Saturation(saturation=1.3), 1e-5),
    "sharpen": (lambda: ops.Sharpen(amount=60.0, masking=30.0, threshold=10.0), 1e-5),
    "texture": (lambda: ops.Texture(amount=50.0), 1e-5),
    "tone": (lambda: ops.Tone(contrast=20, highlights=-30, shadows=25, whites=10,
                              blacks=-10), 1e-5),
    "tone_curve": (lambda: ops.ToneCurve(rgb=((0, 0), (0.25, 0.2), (0.75, 0.85), (1, 1))),
                   1e-5),
    "transfer": (lambda: ops.Transfer(function="srgb", direction="encode"), 1e-5),
    "unsharp_mask": (lambda: ops.UnsharpMask(amount=1.5, sigma=2.0, mode="nearest"), 1e-5),
    "vignette": (lambda: ops.Vignette(amount=-50.0, feather=30.0), 2e-5),
    "white_balance": (lambda: ops.WhiteBalance(temperature=4300, tint=-5), 1e-5),
}


def test_every_registered_op_has_a_case() -> None:
    assert sorted(registry()) == sorted(CASES), "add the new op to CASES"


@pytest.mark.parametrize("name", sorted(CASES))
def test_tiled_equals_untiled_cpu(name: str) -> None:
    op = CASES[name][0]()
    assert not op.is_identity()
    x = random_rgba(SHAPE, seed=1)
    p = Pipeline([op]).plan()
    want = CPU.run(p, x)
    for tile in TILES:
        got = run_tiled(p, x, CPU, tile)
        np.testing.assert_array_equal(got, want, err_msg=f"{name}, tile {tile}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_tiled_equals_untiled_wgpu(name: str, wgpu_backend: Any) -> None:
    make, rtol = CASES[name]
    x = random_rgba(SHAPE, seed=2)
    p = Pipeline([make()]).plan()
    untiled = wgpu_backend.run(p, x)
    ref = CPU.run(p, x)
    got = run_tiled(p, x, wgpu_backend, 37)
    assert_close(got, untiled, RTOL_SAME_DEVICE, what=f"{name} tiled vs untiled wgpu")
    assert_close(got, ref, rtol, what=f"{name} tiled wgpu vs reference")


#: global ops applied per tile: (op, expected apply halo on GLOBAL_SHAPE, wgpu rtol)
GLOBAL_SHAPE = (300, 260)
GLOBAL_CASES: dict[str, tuple[Any, int, float]] = {
    # dark radius round(7 * 260 / 600) = 3; halo 3 + 2 x 4 x 3
    "dehaze": (lambda: ops.Dehaze(amount=60.0), 27, 1e-4),
    "dehaze-add": (lambda: ops.Dehaze(amount=-45.0), 0, 1e-5),
    # a trous support 2 + 4 + 8 + 16 + 32
    "denoise": (lambda: ops.Denoise(luminance=70, color=55, detail=40), 62, 3e-6),
}


@pytest.mark.parametrize("name", sorted(GLOBAL_CASES))
def test_global_op_applied_per_tile_cpu(name: str) -> None:
    make, halo, _ = GLOBAL_CASES[name]
    op = make()
    assert op.apply_radius(*GLOBAL_SHAPE) == halo
    x = random_rgba(GLOBAL_SHAPE, seed=11)
    x[40, 50] = np.nan  # non-finite pixels take the same path tiled and untiled
    x[200, 10, 1] = np.inf
    p = Pipeline([op]).plan()
    with np.errstate(invalid="ignore"):  # the NaN spreads through dehaze's windows
        want = CPU.run(p, x)
    for tile in (64, 37):
        # the image is larger than a padded tile: the op really runs per tile
        assert tile + 2 * halo < min(GLOBAL_SHAPE)
        with np.errstate(invalid="ignore"):
            got = run_tiled(p, x, CPU, tile)
        np.testing.assert_array_equal(got, want, err_msg=f"{name}, tile {tile}")


def test_global_op_tile_uses_full_image_windows() -> None:
    # a tile applied with its own size's radii would differ: dehaze's windows
    # on a 64-px tile are smaller than on the 300 x 260 image
    op = ops.Dehaze(amount=80.0)
    x = random_rgba(GLOBAL_SHAPE, seed=12)
    stats = op.statistics(x)
    tile = x[:64 + 27, :64 + 27]
    full = op.apply_region(tile, stats, GLOBAL_SHAPE)[:64, :64]
    np.testing.assert_array_equal(full, op.apply(x, stats)[:64, :64])
    assert not np.array_equal(op.apply(tile, stats)[:64, :64], full)


@pytest.mark.parametrize("name", ["dehaze", "denoise"])
def test_global_op_applied_per_tile_wgpu(name: str, wgpu_backend: Any) -> None:
    make, _, rtol = GLOBAL_CASES[name]
    x = random_rgba(GLOBAL_SHAPE, seed=13)
    p = Pipeline([make()]).plan()
    got = run_tiled(p, x, wgpu_backend, 64)
    assert_close(got, wgpu_backend.run(p, x), RTOL_SAME_DEVICE,
                 what=f"{name} tiled vs untiled wgpu")
    assert_close(got, CPU.run(p, x), rtol, what=f"{name} tiled wgpu vs reference")


@pytest.mark.parametrize("mode", ["mirror", "reflect", "nearest", "wrap", "constant"])
def test_edge_modes(mode: str) -> None:
    chain = [ops.Exposure(stops=0.3), ops.GaussianBlur(sigma=2.5, mode=mode, cval=0.25),
             ops.BoxBlur(radius=5, mode=mode, cval=0.5)]
    x = random_rgba((45, 58), seed=3)
    p = Pipeline(chain).plan()
    want = CPU.run(p, x)
    for tile in (16, 23, 64):
        np.testing.assert_array_equal(run_tiled(p, x, CPU, tile), want, err_msg=f"{mode} {tile}")


def test_radius_larger_than_tile_and_image() -> None:
    # halo 24 > tile 7; mirror / wrap at a 20-pixel-high image reflect several times
    for mode in ("mirror", "wrap"):
        p = Pipeline([ops.GaussianBlur(sigma=6.0, mode=mode)]).plan()
        x = random_rgba((20, 41), seed=4)
        np.testing.assert_array_equal(run_tiled(p, x, CPU, 7), CPU.run(p, x), err_msg=mode)


LONG_CHAIN = [
    ops.WhiteBalance(temperature=5000, tint=5), ops.Exposure(stops=0.4),
    ops.Vignette(amount=-30.0), ops.GaussianBlur(sigma=1.5, mode="wrap"),
    ops.Denoise(luminance=50, color=30), ops.Clarity(amount=30.0), ops.Grain(amount=20.0),
    ops.Crop(x=3, y=4, width=90, height=70), ops.Sharpen(amount=50.0),
    ops.Dehaze(amount=40.0), ops.Rotate(angle=-8.0), ops.BoxBlur(radius=2, mode="nearest"),
    ops.Resize(width=50, filter="bicubic"), ops.Tone(contrast=15), ops.Flip(axis="horizontal"),
    ops.UnsharpMask(amount=0.8, sigma=1.2),
]


def test_chain_cpu() -> None:
    p = Pipeline(LONG_CHAIN).plan()
    assert any(s.periodic for s in segments(p)) and sum(not s.tiled for s in segments(p)) == 6
    x = random_rgba(SHAPE, seed=5)
    want = CPU.run(p, x)
    for tile in (64, 37):
        np.testing.assert_array_equal(run_tiled(p, x, CPU, tile), want, err_msg=str(tile))


def test_chain_wgpu(wgpu_backend: Any) -> None:
    p = Pipeline(LONG_CHAIN).plan()
    x = random_rgba(SHAPE, seed=6)
    got = run_tiled(p, x, wgpu_backend, 37)
    assert_close(got, wgpu_backend.run(p, x), 1e-4, what="chain tiled vs untiled wgpu")
    # the loosest tolerance in the chain (dehaze 1e-4) bounds the whole chain
    assert_close(got, CPU.run(p, x), 1e-4, what="chain tiled wgpu vs reference")


def test_develop_workflow_pipeline(data_dir: Any, wgpu_backend: Any) -> None:
    from pixelpipe.samples import to_rgba
    from pixelpipe.workflows.develop import build_pipeline, load_input, load_preset

    presets = Path(develop_pkg.__file__).parent / "presets"
    image, source = load_input(data_dir / "photos" / "coffee.png")
    x = np.ascontiguousarray(image.array[:90, :120])
    for name in ("heavy", "warm-film"):
        pipe = build_pipeline(load_preset(presets / f"{name}.toml"), source)
        assert len(pipe) > 3
        want = pipe.run(x, backend="cpu")
        got, choice = execute(pipe, x, backend="cpu", tile_size=37)
        assert choice.strategy == "tiled"
        np.testing.assert_array_equal(got, want, err_msg=name)
        p, rgba = pipe.plan(), to_rgba(x)
        assert_close(run_tiled(p, rgba, wgpu_backend, 64), wgpu_backend.run(p, rgba), 1e-4,
                     what=f"develop {name} tiled vs untiled wgpu")


def test_choose_strategies(wgpu_backend: Any) -> None:
    p = Pipeline([ops.GaussianBlur(sigma=8.0)]).plan()
    assert p.halo == 32
    c = choose(p, 100, 100, CPU, memory_limit=2**30)
    assert c.strategy == "single" and c.tile_size is None
    c = choose(p, 100, 100, CPU, memory_limit=2**30, tile_size=48)
    assert (c.strategy, c.tile_size, c.halo) == ("tiled", 48, 32)
    # does not fit the device's binding limit -> tiled, padded tile fits the device
    side = int((wgpu_backend.max_binding / 16) ** 0.5) + 16
    c = choose(p, side, side, wgpu_backend, memory_limit=2**40)
    assert c.strategy == "tiled"
    assert (c.tile_size + 2 * c.halo) ** 2 * 16 <= wgpu_backend.max_binding
    # does not fit RAM (a file source) -> streaming, band bounded by the budget
    c = choose(p, 40000, 60000, CPU, memory_limit=2 * 2**30, in_memory=False,
               source_pixel_bytes=6)
    assert c.strategy == "streaming"
    assert (c.tile_size + 2 * c.halo) * 60000 * 6 <= 2 * 2**30 / 2
    assert "streaming" in c.describe() and "tile" in c.describe()


def test_execute_matches_run_for_every_strategy() -> None:
    p = Pipeline([ops.Exposure(stops=1.0), ops.GaussianBlur(sigma=1.0)])
    x = (random_rgba((30, 40), seed=7)[..., :3] * 65535).astype(np.uint16)
    want = p.run(x, backend="cpu", out_dtype=np.uint16)
    for tile in (None, 9):
        got, choice = execute(p, x, backend="cpu", tile_size=tile, out_dtype=np.uint16)
        assert choice.strategy == ("single" if tile is None else "tiled")
        np.testing.assert_array_equal(got, want)
    grey = x[..., 0]
    got, _ = execute(p, grey, backend="cpu", tile_size=11, out_dtype=np.uint16)
    np.testing.assert_array_equal(got, p.run(grey, backend="cpu", out_dtype=np.uint16))


def test_kinds_covered() -> None:
    kinds = {CASES[n][0]().kind for n in CASES}
    assert kinds == {OpKind.POINTWISE, OpKind.NEIGHBORHOOD, OpKind.GLOBAL, OpKind.GEOMETRY}


# --- geometry ops tile by tile of their output grid ---------------------------
# Each output tile is computed from its source region only
# (pixelpipe.exec.regional): cpu bit-identical to the untiled run (NaN and
# Inf included), wgpu within the ops' consistency tolerance, 1e-5 relative.
GEOMETRY_CASES: dict[str, Any] = {
    "crop": lambda: ops.Crop(x=5, y=7, width=80, height=60),
    "flip-horizontal": lambda: ops.Flip(axis="horizontal"),
    "flip-vertical": lambda: ops.Flip(axis="vertical"),
    "flip-both": lambda: ops.Flip(axis="both"),
    "rotate-90-expand": lambda: ops.Rotate(angle=90.0, expand=True),
    "rotate-270": lambda: ops.Rotate(angle=-90.0),
    "rotate-30-nearest": lambda: ops.Rotate(angle=30.0, interpolation="nearest"),
    **{f"rotate-30-{interp}{'-expand' if expand else ''}":
       (lambda i=interp, e=expand: ops.Rotate(angle=30.0, interpolation=i, expand=e,
                                              fill=(0.1, 0.2, 0.3, 1.0)))
       for interp in ("bilinear", "bicubic") for expand in (False, True)},
    **{f"resize-{way}-{f}": (lambda f=f, size=size: ops.Resize(width=size[1], height=size[0],
                                                                filter=f))
       for f in ("nearest", "bilinear", "bicubic", "lanczos3", "area")
       for way, size in (("up", (190, 157)), ("down", (29, 47)))},
    "resize-width-only": lambda: ops.Resize(width=150, filter="bicubic"),
}
#: wgpu tiled vs the cpu reference (the geometry ops' tests/ops tolerance)
RTOL_GEOMETRY = 1e-5


class _RecordingBackend:
    """Wraps a backend and records the input size of each run."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.sizes: list[tuple[int, int]] = []

    def run(self, p: Any, x: Any) -> Any:
        self.sizes.append(x.shape[:2])
        return self.inner.run(p, x)

    def run_samples(self, p: Any, x: Any, *args: Any) -> Any:
        self.sizes.append(x.shape[:2])
        return self.inner.run_samples(p, x, *args)


def _with_non_finite(x: np.ndarray) -> np.ndarray:
    x = x.copy()
    x[10, 20] = np.nan
    x[40, 3, 1] = np.inf
    x[70, 90, 2] = -np.inf
    return x


@pytest.mark.parametrize("name", sorted(GEOMETRY_CASES))
def test_geometry_tiled_cpu(name: str) -> None:
    op = GEOMETRY_CASES[name]()
    x = _with_non_finite(random_rgba(SHAPE, seed=11))
    p = Pipeline([op]).plan()
    want = CPU.run(p, x)
    assert want.shape[:2] == op.output_shape(*SHAPE)
    for tile in (64, 37):
        rec = _RecordingBackend(CPU)
        got = run_tiled(p, x, rec, tile)  # type: ignore[arg-type]
        np.testing.assert_array_equal(got, want, err_msg=f"{name}, tile {tile}")
        # really tiled: one run per output tile, none on the whole input
        oh, ow = want.shape[:2]
        assert len(rec.sizes) == -(-oh // tile) * -(-ow // tile)
        if tile == 37:
            assert all(h * w < SHAPE[0] * SHAPE[1] for h, w in rec.sizes), rec.sizes


@pytest.mark.parametrize("name", sorted(GEOMETRY_CASES))
def test_geometry_tiled_wgpu(name: str, wgpu_backend: Any) -> None:
    op = GEOMETRY_CASES[name]()
    x = random_rgba(SHAPE, seed=12)
    p = Pipeline([op]).plan()
    got = run_tiled(p, x, wgpu_backend, 37)
    assert_close(got, wgpu_backend.run(p, x), RTOL_SAME_DEVICE,
                 what=f"{name} tiled vs untiled wgpu")
    assert_close(got, CPU.run(p, x), RTOL_GEOMETRY, what=f"{name} tiled wgpu vs reference")


def test_geometry_source_regions_bounded() -> None:
    """A tile's source region is about the tile mapped back, not the image."""
    shape = (1000, 1200)
    tile = (400, 464, 500, 564)
    r = ops.Rotate(angle=30.0, interpolation="bicubic").source_region(tile, shape)
    # 64 x (cos 30 + sin 30) = 87.4 px, plus 2 x 2 taps of support
    assert 80 <= r[1] - r[0] <= 93 and 80 <= r[3] - r[2] <= 93, r
    r = ops.Resize(width=600, height=500, filter="lanczos3").source_region(tile, shape)
    # scale 2: 128 px, plus 3 x 2 px of kernel support on each side
    assert r[1] - r[0] <= 128 + 14 and r[3] - r[2] <= 128 + 14, r
    assert ops.Flip(axis="both").source_region(tile, shape) == (536, 600, 636, 700)
    assert ops.Crop(x=3, y=4, width=900, height=800).source_region(tile, shape) == (
        404, 468, 503, 567)


def test_geometry_chain_tiled() -> None:
    chain = [ops.GaussianBlur(sigma=2.0), ops.Rotate(angle=30.0, interpolation="bicubic"),
             ops.Exposure(stops=0.3), ops.Resize(width=70, filter="lanczos3"),
             ops.Crop(x=3, y=2, width=50, height=40), ops.Flip(axis="vertical"),
             ops.Sharpen(amount=50.0)]
    p = Pipeline(chain).plan()
    x = random_rgba(SHAPE, seed=13)
    want = CPU.run(p, x)
    for tile in (64, 37):
        np.testing.assert_array_equal(run_tiled(p, x, CPU, tile), want, err_msg=str(tile))
