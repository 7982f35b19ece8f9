"""``pixelpipe apply``: --tile-size, --memory-limit, --verbose, folder input, --dask."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from typer.testing import CliRunner

from pixelpipe import Pipeline, io, ops
from pixelpipe.cli import app

OPS = ["--op", "exposure stops=0.5", "--op", "gaussian_blur sigma=2", "--op",
       "saturation saturation=1.2"]
PIPE = Pipeline([ops.Exposure(stops=0.5), ops.GaussianBlur(sigma=2.0),
                 ops.Saturation(saturation=1.2)])


def _tiff(path: Path, shape: tuple[int, int] = (300, 400), seed: int = 0) -> np.ndarray:
    a = (np.random.default_rng(seed).random((*shape, 3)) * 65535).astype(np.uint16)
    tifffile.imwrite(path, a, tile=(64, 64), photometric="rgb")
    return a


def _run(args: list[str]) -> tuple[int, str]:
    r = CliRunner().invoke(app, args)
    return r.exit_code, r.stderr if hasattr(r, "stderr") else r.output


def test_tile_size_and_verbose(tmp_path: Path) -> None:
    a = _tiff(tmp_path / "in.tif")
    code, err = _run(["apply", str(tmp_path / "in.tif"), "-o", str(tmp_path / "t.tif"),
                      "--backend", "cpu", "--tile-size", "37", "--verbose", *OPS])
    assert code == 0, err
    assert "strategy: tiled, tile 37 px + halo 8 px" in err
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "t.tif"),
                                  PIPE.run(a, backend="cpu", out_dtype=np.uint16))


def test_memory_limit_streams(tmp_path: Path) -> None:
    a = _tiff(tmp_path / "in.tif")
    code, err = _run(["apply", str(tmp_path / "in.tif"), "-o", str(tmp_path / "s.tif"),
                      "--backend", "cpu", "--memory-limit", "3MB", "-v", *OPS])
    assert code == 0, err
    assert "strategy: streaming" in err
    with tifffile.TiffFile(tmp_path / "s.tif") as tf:
        assert tf.is_bigtiff
        got = tf.asarray()
    np.testing.assert_array_equal(got, PIPE.run(a, backend="cpu", out_dtype=np.uint16))
    # a streamed tile size is rounded up to a multiple of 16: --verbose says the one used
    code, err = _run(["apply", str(tmp_path / "in.tif"), "-o", str(tmp_path / "s37.tif"),
                      "--backend", "cpu", "--memory-limit", "3MB", "--tile-size", "37", "-v",
                      *OPS])
    assert code == 0, err
    assert "strategy: streaming, tile 48 px + halo 8 px" in err
    assert "tile 37 px rounded up to 48 px" in err
    with tifffile.TiffFile(tmp_path / "s37.tif") as tf:
        assert tf.pages.first.tilewidth == 48
        np.testing.assert_array_equal(tf.asarray(), got)
    # streaming needs a TIFF output
    code, err = _run(["apply", str(tmp_path / "in.tif"), "-o", str(tmp_path / "s.png"),
                      "--backend", "cpu", "--memory-limit", "3MB", *OPS])
    assert code == 2 and "must be streamed" in err
    code, err = _run(["apply", str(tmp_path / "in.tif"), "-o", str(tmp_path / "x.tif"),
                      "--backend", "cpu", "--memory-limit", "lots", *OPS])
    assert code == 2 and "--memory-limit" in err


@pytest.mark.parametrize("dask", [None, "local:2"])
def test_folder_input(tmp_path: Path, dask: str | None) -> None:
    src = tmp_path / "in"
    src.mkdir()
    arrays = {f"a{i}.tif": _tiff(src / f"a{i}.tif", (50, 60), seed=i) for i in range(3)}
    (src / "bad.tif").write_bytes(b"II*\x00garbage")
    extra = ["--dask", dask] if dask else []
    code, err = _run(["apply", str(src), "-o", str(tmp_path / "out"), "--backend", "cpu",
                      *extra, *OPS])
    assert code == 2, err
    assert "3 of 4 file(s) written" in err and "bad.tif" in err
    for name, a in arrays.items():
        got = io.read(tmp_path / "out" / name).array
        want = PIPE.run(io.read(src / name), backend="cpu").array
        assert got.shape == a.shape
        np.testing.assert_allclose(got, np.clip(want, 0, 1), atol=0.5 / 65535 + 1e-7)


def test_develop_batch_on_dask(tmp_path: Path, data_dir: Path) -> None:
    import shutil

    import pixelpipe.workflows.develop as develop_pkg

    src = tmp_path / "in"
    src.mkdir()
    for name in ("moon.png", "chelsea.png"):
        shutil.copy(data_dir / "photos" / name, src / name)
    (src / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    preset = Path(develop_pkg.__file__).parent / "presets" / "warm-film.toml"
    outs = {}
    for kind, extra in (("local", []), ("dask", ["--dask", "local:2"])):
        out = tmp_path / kind
        out.mkdir()
        code, err = _run(["develop", "--batch", str(src), "-o", str(out), "-p", str(preset),
                          "--backend", "cpu", "--skip-errors", "--format", "png", *extra])
        assert code == 0 and "broken.png" in err, err
        outs[kind] = out
    for name in ("moon", "chelsea"):
        a = io.read(outs["local"] / f"{name}.png").array
        b = io.read(outs["dask"] / f"{name}.png").array
        np.testing.assert_array_equal(a, b)
