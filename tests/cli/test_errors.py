"""Exit codes and messages: every user error is exit 2 with one line on stderr and no output file;
an unexpected exception is exit 1 with one line and a hint to get the traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import pixelpipe.cli.running as running
from pixelpipe import __version__

EXPOSURE = "exposure stops=1"


def _malformed_toml(tmp: Path) -> Path:
    p = tmp / "bad.toml"
    p.write_text('[[ops]\nop = "exposure"\n', encoding="utf-8")
    return p


def _toml_unknown_param(tmp: Path) -> Path:
    p = tmp / "unknown_param.toml"
    p.write_text('[[ops]]\nop = "exposure"\nstop = 1.0\n', encoding="utf-8")
    return p


def _garbage_png(tmp: Path) -> Path:
    p = tmp / "garbage.png"
    p.write_bytes(b"this is not an image at all" * 10)
    return p


def _truncated_png(tmp: Path, small_png: Path) -> Path:
    p = tmp / "truncated.png"
    p.write_bytes(small_png.read_bytes()[:60])
    return p


# Each case: (id, builder(tmp, small_png, out) -> argv, a word the message must contain).
Case = tuple[str, Callable[[Path, Path, Path], list[str | Path]], str]
CASES: list[Case] = [
    ("missing input", lambda t, s, o: ["apply", t / "nosuch.png", "-o", o, "--op", EXPOSURE],
     "nosuch.png"),
    ("corrupt input", lambda t, s, o: ["apply", _garbage_png(t), "-o", o, "--op", EXPOSURE],
     "garbage.png"),
    ("truncated input",
     lambda t, s, o: ["apply", _truncated_png(t, s), "-o", o, "--op", EXPOSURE],
     "truncated.png"),
    ("input is a folder", lambda t, s, o: ["apply", t, "-o", o, "--op", EXPOSURE], "not a file"),
    ("unknown op", lambda t, s, o: ["apply", s, "-o", o, "--op", "nosuchop k=1"], "nosuchop"),
    ("bad parameter", lambda t, s, o: ["apply", s, "-o", o, "--op", "exposure stops=99"],
     "stops"),
    ("malformed op string", lambda t, s, o: ["apply", s, "-o", o, "--op", "exposure stops"],
     "key=value"),
    ("unknown parameter in TOML",
     lambda t, s, o: ["apply", s, "-o", o, "--pipeline", _toml_unknown_param(t)], "stop"),
    ("malformed TOML", lambda t, s, o: ["apply", s, "-o", o, "--pipeline", _malformed_toml(t)],
     "TOML"),
    ("missing pipeline file",
     lambda t, s, o: ["apply", s, "-o", o, "--pipeline", t / "nope.toml"], "nope.toml"),
    ("output is input", lambda t, s, o: ["apply", s, "-o", s, "--op", EXPOSURE],
     "is the input file; pass --overwrite"),
    ("output folder missing",
     lambda t, s, o: ["apply", s, "-o", t / "no" / "such" / "out.png", "--op", EXPOSURE],
     "does not exist"),
    ("unknown backend",
     lambda t, s, o: ["apply", s, "-o", o, "--op", EXPOSURE, "--backend", "cuda"], "cuda"),
    ("unknown adapter",
     lambda t, s, o: ["apply", s, "-o", o, "--op", EXPOSURE, "--backend", "wgpu",
                      "--adapter", "nosuchadapter"], "nosuchadapter"),
    ("adapter with cpu",
     lambda t, s, o: ["apply", s, "-o", o, "--op", EXPOSURE, "--backend", "cpu",
                      "--adapter", "0"], "--adapter"),
    ("bad bit depth",
     lambda t, s, o: ["apply", s, "-o", o, "--op", EXPOSURE, "--bit-depth", "12"], "bit-depth"),
    ("bit depth the format cannot store",
     lambda t, s, o: ["apply", s, "-o", o, "--op", EXPOSURE, "--bit-depth", "float"], "PNG"),
    ("unknown output format",
     lambda t, s, o: ["apply", s, "-o", t / "out.xyz", "--op", EXPOSURE], "out.xyz"),
    ("no pipeline", lambda t, s, o: ["apply", s, "-o", o], "--op"),
    ("pipeline and op",
     lambda t, s, o: ["apply", s, "-o", o, "--op", EXPOSURE, "--pipeline", _malformed_toml(t)],
     "not both"),
    ("missing -o", lambda t, s, o: ["apply", s, "--op", EXPOSURE], "--output"),
    ("unknown option", lambda t, s, o: ["apply", s, "-o", o, "--frobnicate"], "--frobnicate"),
    ("unknown command", lambda t, s, o: ["frobnicate"], "frobnicate"),
    ("unknown op in ops", lambda t, s, o: ["ops", "nosuchop"], "nosuchop"),
    ("info on missing file", lambda t, s, o: ["info", t / "nosuch.exr"], "nosuch.exr"),
    ("info on corrupt file", lambda t, s, o: ["info", _garbage_png(t)], "garbage.png"),
]


@pytest.mark.parametrize(("build", "word"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_exits_2_with_one_line_and_no_output(cli, tmp_path, small_png, build, word):
    out = tmp_path / "out.png"
    before = small_png.read_bytes()
    r = cli(*build(tmp_path, small_png, out))
    assert r.exit_code == 2, (r.exit_code, r.stderr, r.exception)
    lines = r.stderr_lines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("pixelpipe: error: "), lines
    assert word in lines[0], lines
    assert "Traceback" not in r.stderr and r.exception is None
    assert not out.exists()
    assert small_png.read_bytes() == before  # the input is untouched


def test_existing_output_is_kept_without_overwrite(cli, small_png, tmp_path):
    out = tmp_path / "out.png"
    out.write_bytes(b"precious")
    r = cli("apply", small_png, "-o", out, "--op", EXPOSURE, "--backend", "cpu")
    assert r.exit_code == 2
    assert len(r.stderr_lines()) == 1 and "--overwrite" in r.stderr
    assert out.read_bytes() == b"precious"


def test_failure_while_writing_leaves_no_output(cli, small_png, tmp_path):
    # the extension passes every early check; the writer must refuse it and write nothing
    out = tmp_path / "out.nosuchformat"
    r = cli("apply", small_png, "-o", out, "--op", EXPOSURE, "--backend", "cpu")
    assert r.exit_code == 2, r.stderr
    assert len(r.stderr_lines()) == 1
    assert list(tmp_path.iterdir()) == [small_png]


def _boom(*args: object, **kwargs: object) -> None:
    raise RuntimeError("boom")


def test_internal_error_exits_1_with_hint(cli, small_png, tmp_path, monkeypatch):
    monkeypatch.delenv("PIXELPIPE_DEBUG", raising=False)
    monkeypatch.setattr(running, "run_file", _boom)
    r = cli("apply", small_png, "-o", tmp_path / "o.png", "--op", EXPOSURE)
    assert r.exit_code == 1
    lines = r.stderr_lines()
    assert len(lines) == 1, r.stderr
    assert "internal error" in lines[0] and "RuntimeError: boom" in lines[0]
    assert "--debug" in lines[0] and "PIXELPIPE_DEBUG=1" in lines[0]
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("how", ["flag", "env"])
def test_debug_prints_the_traceback(cli, small_png, tmp_path, monkeypatch, how):
    monkeypatch.setattr(running, "run_file", _boom)
    args: list[str | Path] = ["apply", small_png, "-o", tmp_path / "o.png", "--op", EXPOSURE]
    if how == "flag":
        monkeypatch.delenv("PIXELPIPE_DEBUG", raising=False)
        args.insert(0, "--debug")
    else:
        monkeypatch.setenv("PIXELPIPE_DEBUG", "1")
    r = cli(*args)
    assert r.exit_code == 1
    assert "Traceback" in r.stderr and "_boom" in r.stderr
    assert r.stderr_lines()[-1].startswith("pixelpipe: error: internal error: RuntimeError")


def test_debug_flag_does_not_leak_into_the_next_run(cli, small_png, tmp_path, monkeypatch):
    monkeypatch.delenv("PIXELPIPE_DEBUG", raising=False)
    monkeypatch.setattr(running, "run_file", _boom)
    cli("--debug", "apply", small_png, "-o", tmp_path / "o.png", "--op", EXPOSURE)
    r = cli("apply", small_png, "-o", tmp_path / "o.png", "--op", EXPOSURE)
    assert "Traceback" not in r.stderr


def test_version(cli):
    r = cli("--version")
    assert r.exit_code == 0
    assert r.stdout.strip() == f"pixelpipe {__version__}"


def test_help_exits_0_and_lists_commands(cli):
    r = cli("--help")
    assert r.exit_code == 0
    for cmd in ("apply", "info", "backends", "ops", "demo"):
        assert cmd in r.stdout


def test_no_arguments_shows_help_as_usage_error(cli):
    r = cli()
    assert r.exit_code == 2
    assert "Usage:" in r.stderr and r.stdout == ""


def _no_gpu(monkeypatch) -> None:
    """Make every WebGPU start fail, as on a machine without a GPU."""
    import pixelpipe.backends as backends
    from pixelpipe.errors import BackendUnavailable

    real = backends.get_backend

    def fake(backend="auto", adapter=None):
        if backend == "wgpu":
            raise BackendUnavailable("no hardware GPU adapter found (test)")
        return real(backend, adapter)

    monkeypatch.setattr(backends, "get_backend", fake)


def test_auto_fallback_notice_then_success(cli, small_png, tmp_path, monkeypatch):
    _no_gpu(monkeypatch)
    out = tmp_path / "o.png"
    r = cli("apply", small_png, "-o", out, "--op", EXPOSURE)
    assert r.exit_code == 0, r.stderr
    lines = r.stderr_lines()
    assert len(lines) == 1 and "running on the CPU" in lines[0] and "(test)" in lines[0]
    assert out.exists()


def test_auto_fallback_notice_does_not_precede_an_input_error(cli, tmp_path, monkeypatch):
    _no_gpu(monkeypatch)
    r = cli("apply", _garbage_png(tmp_path), "-o", tmp_path / "o.png", "--op", EXPOSURE)
    assert r.exit_code == 2
    lines = r.stderr_lines()
    assert len(lines) == 1 and "garbage.png" in lines[0], r.stderr


def test_named_wgpu_backend_that_cannot_start_is_an_error(cli, small_png, tmp_path,
                                                         monkeypatch):
    _no_gpu(monkeypatch)
    out = tmp_path / "o.png"
    r = cli("apply", small_png, "-o", out, "--op", EXPOSURE, "--backend", "wgpu")
    assert r.exit_code == 2
    assert r.stderr_lines() == ["pixelpipe: error: no hardware GPU adapter found (test)"]
    assert not out.exists()
