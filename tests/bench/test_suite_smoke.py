"""CPU smoke test of the benchmark suite on tiny sizes (no timings are asserted)."""

import json

import numpy as np
from typer.testing import CliRunner

from pixelpipe import Pipeline
from pixelpipe.bench.peers import w1_array_code
from pixelpipe.bench.suite import format_table, make_image, make_lut, run_suite, w1_ops
from pixelpipe.cli.app import app


def test_w1_array_code_peer_computes_what_pixelpipe_computes():
    # the CuPy peer must do the same work: checked here with NumPy as the array module
    x = make_image(40, 56)
    lut = make_lut()
    chain = w1_ops(lut)
    ref = Pipeline(chain).run(x, backend="cpu")
    np.testing.assert_allclose(w1_array_code(np, x, lut, chain), ref, atol=2e-6)


def test_suite_runs_and_reports_every_workload(tmp_path, wgpu_backend):
    out = tmp_path / "r.json"
    report = run_suite(24, 40, out=out, gpu_repeat=1, log=lambda s: None,
                       adapter=str(wgpu_backend.info["index"]), batch_files=2)
    saved = json.loads(out.read_text())
    assert saved["size"] == [24, 40]
    rows = {(r["workload"], r["impl"]) for r in saved["results"]}
    for w in ("W1", "W2", "W3", "W4"):
        assert (w, "pixelpipe cpu") in rows and (w, "pixelpipe wgpu") in rows
    assert saved["ceilings"]["host_memcpy_Bps"]["1"] > 0
    parts = saved["ceilings"]["staging_parts_Bps"]
    assert set(parts) == {"fill", "drain", "gpu copy up", "gpu copy down"}
    assert all(v > 0 for v in parts.values())
    w6 = {r["impl"]: r for r in saved["results"] if r["workload"] == "W6"}
    # W6: the floor, the library's batch loop in-process (warm), the CLI subprocess on
    # 1 and on all files, the cpu subprocess; each timed, none failed
    kinds = ["floor", "wgpu in-process", "wgpu subprocess, 1 file",
             "wgpu subprocess, 2 files", "cpu subprocess"]
    for kind in kinds:
        rows = [r for name, r in w6.items() if kind in name]
        assert len(rows) == 1, (kind, list(w6))
        assert rows[0]["wall_s"] is not None and rows[0]["wall_s"] > 0, rows[0]
        assert "failed" not in rows[0]["note"]
    table = format_table(report)
    assert table.count("\n") >= 9 and "W4" in table


def test_bench_command_prints_the_table(tmp_path, wgpu_backend):
    res = CliRunner().invoke(app, ["bench", "--size", "32x24", "--repeat", "1",
                                   "--adapter", str(wgpu_backend.info["index"]),
                                   "-o", str(tmp_path / "b.json")])
    assert res.exit_code == 0, res.output
    assert "W1" in res.stdout and (tmp_path / "b.json").exists()


def test_bench_command_rejects_a_bad_size():
    res = CliRunner().invoke(app, ["bench", "--size", "big"])
    assert res.exit_code == 2
