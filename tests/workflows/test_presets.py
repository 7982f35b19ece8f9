"""Develop presets: examples, extends, layering, --set overrides, validation codes and lines, CLI.

The malformed presets in ``fixtures/presets/`` each hold one problem; the
line at fault carries a ``# expect: PPxxx`` comment, written by hand, that
gives the expected code and line.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from pixelpipe.cli.app import app
from pixelpipe.errors import ParameterError, PixelpipeError
from pixelpipe.workflows.develop.preset import (
    HSL_BANDS,
    STAGE_SECTIONS,
    ColorGradingSettings,
    CurveSettings,
    DevelopPreset,
    GradingWheelSettings,
    PresetError,
    ToneSettings,
    example_presets,
    load_preset,
    load_presets,
    parse_override,
)
from pixelpipe.workflows.develop.validate import CODES, Issue, scan_positions, validate_files

FIXTURES = Path(__file__).parent / "fixtures" / "presets"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _expectation(path: Path) -> tuple[str, int]:
    """The code and 1-based line of the ``# expect: CODE`` marker in a fixture."""
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        m = re.search(r"# expect: (PP\d{3})", line)
        if m:
            return m.group(1), n
    raise AssertionError(f"{path.name} has no '# expect:' marker")


# --------------------------------------------------------------------------- examples


def test_example_presets_are_the_four_shipped() -> None:
    ex = example_presets()
    assert set(ex) == {"neutral", "bw-contrast", "warm-film", "heavy"}
    assert all(p.is_file() and p.suffix == ".toml" for p in ex.values())


@pytest.mark.parametrize("name", ["neutral", "bw-contrast", "warm-film", "heavy"])
def test_example_validates_clean_and_loads(name: str) -> None:
    path = example_presets()[name]
    assert validate_files([path]) == []
    preset = load_preset(path)
    assert preset.metadata.name  # every example names itself
    assert preset.metadata.extends == ()  # resolved


def test_neutral_example_is_neutral() -> None:
    preset = load_preset(example_presets()["neutral"])
    assert preset.is_neutral()
    for section in (*STAGE_SECTIONS, "output"):
        assert getattr(preset, section) == getattr(DevelopPreset(), section), section


def test_bw_contrast_removes_all_colour() -> None:
    preset = load_preset(example_presets()["bw-contrast"])
    assert all(getattr(preset.hsl, band).saturation == -100 for band in HSL_BANDS)
    assert preset.tone.contrast > 0
    assert not preset.is_neutral()


def test_warm_film_lut_resolves_next_to_the_preset() -> None:
    path = example_presets()["warm-film"]
    preset = load_preset(path)
    assert preset.lut.path is not None
    assert Path(preset.lut.path) == path.parent.resolve() / "warm-film.cube"
    from pixelpipe.io.cube import read_cube

    cube = read_cube(preset.lut.path)
    assert cube.lut3d is not None and cube.lut3d.shape == (2, 2, 2, 3)
    white = cube.lut3d[1, 1, 1]
    assert white[0] > white[2]  # warm: the white corner has more red than blue


def test_heavy_uses_every_section_and_extends_warm_film() -> None:
    path = example_presets()["heavy"]
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    assert raw["metadata"]["extends"] == "warm-film.toml"
    preset = load_preset(path)
    for section in STAGE_SECTIONS:
        assert section in raw, section
        assert not getattr(preset, section).is_neutral(), section
    assert preset.output != DevelopPreset().output
    # every tone-curve channel, HSL band and grading wheel is used
    assert all(not getattr(preset.tone_curve, c).is_neutral()
               for c in ("rgb", "red", "green", "blue", "luma"))
    assert all(not getattr(preset.hsl, b).is_neutral() for b in HSL_BANDS)
    cg = preset.color_grading
    assert all(not w.is_neutral() for w in (cg.shadows, cg.midtones, cg.highlights, cg.global_))
    assert not preset.detail.sharpening.is_neutral()
    # heavy does not set tint: warm-film's tint = 3 comes through; temperature is heavy's own
    assert "tint" not in raw["white_balance"]
    assert preset.white_balance.tint == 3
    assert preset.white_balance.temperature == 20


# --------------------------------------------------------------------------- model


def test_model_defaults_are_neutral_and_frozen() -> None:
    p = DevelopPreset()
    assert p.is_neutral()
    for section in STAGE_SECTIONS:
        assert getattr(p, section).is_neutral(), section
    with pytest.raises(ValidationError):
        p.tone.contrast = 5  # type: ignore[misc]
    with pytest.raises(ValidationError):
        DevelopPreset.model_validate({"tone": {"contrst": 5}})
    with pytest.raises(ValidationError):
        ToneSettings(exposure=5.5)


@pytest.mark.parametrize(("section", "values"), [
    ("white_balance", {"tint": 1}),
    ("tone", {"exposure": 0.1}),
    ("tone", {"blacks": -1}),
    ("tone_curve", {"luma": {"points": [[0, 0.1], [1, 1]]}}),
    ("hsl", {"aqua": {"hue": 1}}),
    ("color_grading", {"global": {"luminance": 1}}),
    ("lut", {"path": "x.cube"}),
    ("dehaze", {"amount": -1}),
    ("noise_reduction", {"color": 1}),
    ("detail", {"sharpening": {"amount": 1}}),
    ("grain", {"amount": 1}),
    ("vignette", {"amount": 1}),
])
def test_one_non_neutral_value_makes_the_section_non_neutral(section: str, values: dict) -> None:
    p = DevelopPreset.model_validate({section: values})
    assert not getattr(p, section).is_neutral()
    assert not p.is_neutral()
    others = [s for s in STAGE_SECTIONS if s != section]
    assert all(getattr(p, s).is_neutral() for s in others)


def test_values_that_do_nothing_stay_neutral() -> None:
    # a grading hue without saturation adds no colour; balance/blending then do nothing
    p = DevelopPreset.model_validate({
        "color_grading": {"shadows": {"hue": 200}, "balance": 30, "blending": 80},
        "noise_reduction": {"detail": 70},
        "detail": {"sharpening": {"radius": 2.0, "masking": 50}},
        "grain": {"size": 80, "kind": "harsh", "seed": 9},
        "vignette": {"shape": "circular", "midpoint": 10},
        "lut": {"encoding": "acescct"},
        "output": {"gamut": "display-p3", "bit_depth": 16},
    })
    assert p.is_neutral()


def test_global_wheel_alias_in_python_and_toml() -> None:
    by_name = ColorGradingSettings(global_=GradingWheelSettings(saturation=10))
    by_alias = ColorGradingSettings.model_validate({"global": {"saturation": 10}})
    assert by_name == by_alias
    assert by_alias.global_.saturation == 10


def test_curve_points_rules() -> None:
    assert CurveSettings().is_neutral()
    assert CurveSettings(points=[(0, 0), (1, 1)]).is_neutral()
    assert not CurveSettings(points=[(0, 0), (0.5, 0.6), (1, 1)]).is_neutral()
    for bad in ([(0, 0)], [(0, 0), (0.5, 0.5), (0.5, 0.6), (1, 1)], [(0, 0), (1, 1.2)],
                [(x / 40, x / 40) for x in range(41)]):
        with pytest.raises(ValidationError):
            CurveSettings(points=bad)


def test_schema_has_every_section_with_ranges_units_descriptions() -> None:
    schema = DevelopPreset.json_schema()
    json.dumps(schema)  # serialisable
    assert set(schema["properties"]) == {"metadata", "output", *STAGE_SECTIONS}
    defs = schema["$defs"]
    exposure = defs["ToneSettings"]["properties"]["exposure"]
    assert (exposure["minimum"], exposure["maximum"], exposure["unit"]) == (-5, 5, "stops")
    assert exposure["description"]
    assert "global" in defs["ColorGradingSettings"]["properties"]
    assert defs["HSLBandSettings"]["properties"]["hue"]["unit"] == "degrees"
    assert defs["ToneSettings"]["additionalProperties"] is False


# --------------------------------------------------------------------------- extends


def test_extends_depth_three_with_relative_paths(tmp_path: Path) -> None:
    lut_src = example_presets()["warm-film"].parent / "warm-film.cube"
    _write(tmp_path / "base" / "luts" / "look.cube", lut_src.read_text(encoding="utf-8"))
    _write(tmp_path / "base" / "root.toml",
           '[lut]\npath = "luts/look.cube"\n[tone]\ncontrast = 10\nshadows = 5\nblacks = 1\n')
    _write(tmp_path / "base" / "mid" / "mid.toml",
           '[metadata]\nextends = "../root.toml"\n[tone]\ncontrast = 20\n')
    _write(tmp_path / "looks" / "child.toml",
           '[metadata]\nextends = "../base/mid/mid.toml"\n[tone]\nshadows = 7\n')
    top = _write(tmp_path / "top.toml",
                 '[metadata]\nname = "top"\nextends = "looks/child.toml"\n[grain]\namount = 3\n')
    assert validate_files([top]) == []
    p = load_preset(top)
    assert (p.tone.contrast, p.tone.shadows, p.tone.blacks) == (20, 7, 1)
    assert p.grain.amount == 3
    assert p.metadata.name == "top"
    assert Path(p.lut.path or "") == (tmp_path / "base" / "luts" / "look.cube").resolve()


def test_extends_list_merges_left_to_right_then_the_file(tmp_path: Path) -> None:
    _write(tmp_path / "a.toml", "[tone]\ncontrast = 1\nshadows = 1\nwhites = 1\n")
    _write(tmp_path / "b.toml", "[tone]\ncontrast = 2\nshadows = 2\n")
    top = _write(tmp_path / "top.toml",
                 '[metadata]\nextends = ["a.toml", "b.toml"]\n[tone]\ncontrast = 3\n')
    p = load_preset(top)
    assert (p.tone.contrast, p.tone.shadows, p.tone.whites) == (3, 2, 1)


def test_diamond_is_not_a_cycle(tmp_path: Path) -> None:
    _write(tmp_path / "d.toml", "[dehaze]\namount = 4\n")
    _write(tmp_path / "b.toml", '[metadata]\nextends = "d.toml"\n')
    _write(tmp_path / "c.toml", '[metadata]\nextends = "d.toml"\n')
    top = _write(tmp_path / "a.toml", '[metadata]\nextends = ["b.toml", "c.toml"]\n')
    assert validate_files([top]) == []
    assert load_preset(top).dehaze.amount == 4


@pytest.mark.parametrize("chain", [["a"], ["a", "b"], ["a", "b", "c"]])
def test_cycle_is_detected(tmp_path: Path, chain: list[str]) -> None:
    for here, nxt in zip(chain, [*chain[1:], chain[0]], strict=True):
        _write(tmp_path / f"{here}.toml", f'[metadata]\nextends = "{nxt}.toml"\n')
    with pytest.raises(PresetError) as info:
        load_preset(tmp_path / "a.toml")
    assert info.value.code == "PP402"
    assert [i.code for i in info.value.issues] == ["PP402"]
    assert info.value.line == 2
    assert " -> ".join(f"{n}.toml" for n in chain) in info.value.issues[0].message


def test_problem_in_a_base_file_is_reported_in_that_file(tmp_path: Path) -> None:
    base = _write(tmp_path / "base.toml", "[tone]\n\ncontrast = 500\n")
    top = _write(tmp_path / "top.toml", '[metadata]\nextends = "base.toml"\n')
    issues = validate_files([top])
    assert [(i.file, i.line, i.code) for i in issues] == [(str(base), 3, "PP202")]
    with pytest.raises(PresetError):
        load_preset(top)


# --------------------------------------------------------------------------- layering


def test_layering_later_file_wins_field_by_field(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.toml",
               "[tone]\ncontrast = 30\nshadows = 10\n[hsl.red]\nhue = 5\nsaturation = 5\n"
               "[tone_curve.rgb]\npoints = [[0, 0], [0.5, 0.6], [1, 1]]\n")
    b = _write(tmp_path / "b.toml",
               "[tone]\nshadows = 0\n[hsl.red]\nhue = -5\n"
               "[tone_curve.rgb]\npoints = [[0, 0.1], [1, 0.9]]\n")
    p = load_presets([a, b])
    assert p.tone.contrast == 30  # not set in b: kept
    assert p.tone.shadows == 0  # set in b, even to the neutral value: wins
    assert (p.hsl.red.hue, p.hsl.red.saturation) == (-5, 5)
    assert p.tone_curve.rgb.points == ((0, 0.1), (1, 0.9))  # arrays replace whole
    assert p.tone.model_fields_set == {"contrast", "shadows"}
    q = load_presets([b, a])
    assert (q.tone.shadows, q.hsl.red.hue) == (10, 5)


def test_no_presets_is_neutral() -> None:
    assert load_presets([]) == DevelopPreset()


def test_layered_examples(tmp_path: Path) -> None:
    ex = example_presets()
    p = load_presets([ex["warm-film"], ex["bw-contrast"]])
    assert p.lut.path is not None  # from warm-film
    assert p.hsl.red.saturation == -100  # from bw-contrast
    assert p.grain.kind == "silver"  # bw-contrast set it later
    assert p.white_balance.temperature == 12  # only warm-film sets it


# --------------------------------------------------------------------------- --set


@pytest.mark.parametrize(("text", "path", "value"), [
    ("tone.exposure=0.5", ("tone", "exposure"), 0.5),
    ("hsl.red.hue = 10", ("hsl", "red", "hue"), 10),
    ("grain.kind=silver", ("grain", "kind"), "silver"),
    ('grain.kind="harsh"', ("grain", "kind"), "harsh"),
    ("tone_curve.rgb.points=[[0,0],[1,1]]", ("tone_curve", "rgb", "points"), [[0, 0], [1, 1]]),
])
def test_parse_override(text: str, path: tuple[str, ...], value: object) -> None:
    assert parse_override(text) == (path, value)


def test_overrides_apply_last_with_types(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.toml", "[tone]\nexposure = 1.0\ncontrast = 4\n")
    p = load_presets([a], ["tone.exposure=-1", "hsl.red.hue=10", "detail.sharpening.amount=40",
                           "color_grading.global.saturation=20", "grain.kind=silver",
                           "grain.seed=7", "tone_curve.luma.points=[[0, 0], [0.5, 0.6], [1, 1]]",
                           "hsl.red.hue=12"])
    assert p.tone.exposure == -1.0 and isinstance(p.tone.exposure, float)
    assert p.tone.contrast == 4
    assert p.hsl.red.hue == 12  # the later override wins
    assert p.detail.sharpening.amount == 40
    assert p.color_grading.global_.saturation == 20
    assert (p.grain.kind, p.grain.seed) == ("silver", 7)
    assert p.tone_curve.luma.points == ((0, 0), (0.5, 0.6), (1, 1))


def test_override_lut_path_is_relative_to_the_current_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lut = example_presets()["warm-film"].parent / "warm-film.cube"
    _write(tmp_path / "my.cube", lut.read_text(encoding="utf-8"))
    monkeypatch.chdir(tmp_path)
    p = load_presets([], ["lut.path=my.cube"])
    assert Path(p.lut.path or "") == (tmp_path / "my.cube").resolve()
    with pytest.raises(PresetError) as info:
        load_presets([], ["lut.path=other.cube"])
    assert info.value.code == "PP301"


@pytest.mark.parametrize(("text", "code", "hint_part"), [
    ("tone.exposure", "PP501", "section.key=value"),
    ("=3", "PP501", "section.key=value"),
    ("tone..exposure=1", "PP501", "section.key=value"),
    ("tone.exposure=abc", "PP201", "number"),
    ('tone.exposure="0.5"', "PP201", "remove the quotes"),
    ("tone.exposure=9", "PP202", "-5..5"),
    ("tone.expsure=1", "PP102", "exposure"),
    ("tones.exposure=1", "PP101", "[tone]"),
    ("grain.seed=1.5", "PP201", "integer"),
    ("grain.kind=coarse", "PP203", "silver"),
    ("tone_curve.rgb.points=[[0,0],[0,1]]", "PP204", "increasing"),
    ("metadata.extends=a.toml", "PP501", "--preset"),
])
def test_bad_override(text: str, code: str, hint_part: str) -> None:
    with pytest.raises(PresetError) as info:
        load_presets([], [text])
    err = info.value
    assert err.code == code
    assert err.line is None
    assert hint_part in err.hint + err.issues[0].message
    assert isinstance(err, ParameterError) and isinstance(err, PixelpipeError)


def test_every_bad_override_is_reported() -> None:
    with pytest.raises(PresetError) as info:
        load_presets([], ["tone.exposure=9", "tone.contrast=1", "grain.kind=x", "nope"])
    assert [i.code for i in info.value.issues] == ["PP202", "PP203", "PP501"]
    assert "and 2 more problems" in str(info.value)


# --------------------------------------------------------------------------- malformed fixtures

# (fixture, file the issue is reported in)
MALFORMED = [
    ("unknown_section.toml", None),
    ("unknown_subsection.toml", None),
    ("unknown_key.toml", None),
    ("unknown_key_inline_table.toml", None),
    ("wrong_type.toml", None),
    ("wrong_type_section.toml", None),
    ("out_of_range.toml", None),
    ("out_of_range_dotted_key.toml", None),
    ("not_finite.toml", None),
    ("bad_enum.toml", None),
    ("points_not_increasing.toml", None),
    ("too_few_points.toml", None),
    ("missing_lut.toml", None),
    ("broken_lut.toml", None),
    ("bad_extends.toml", None),
    ("cycle_a.toml", "cycle_b.toml"),
    ("syntax_error.toml", None),
]


def test_every_fixture_has_a_case() -> None:
    named = {f for f, _ in MALFORMED} | {"cycle_b.toml"}
    assert {p.name for p in FIXTURES.glob("*.toml")} == named


@pytest.mark.parametrize(("fixture", "reported_in"), MALFORMED, ids=[f for f, _ in MALFORMED])
def test_malformed_fixture_is_caught(fixture: str, reported_in: str | None) -> None:
    where = FIXTURES / (reported_in or fixture)
    code, line = _expectation(where)
    issues = validate_files([FIXTURES / fixture])
    assert [(Path(i.file).name, i.line, i.code) for i in issues] == [(where.name, line, code)]
    issue = issues[0]
    assert issue.code in CODES
    assert issue.message and issue.hint
    with pytest.raises(PresetError) as info:
        load_preset(FIXTURES / fixture)
    assert (info.value.code, info.value.line) == (code, line)


@pytest.mark.parametrize(("fixture", "hint"), [
    ("unknown_key.toml", "did you mean 'highlights'?"),
    ("unknown_key_inline_table.toml", "did you mean 'radius'?"),
    ("unknown_section.toml", "did you mean [vignette]?"),
    ("out_of_range.toml", "allowed range -180..180"),
    ("out_of_range_dotted_key.toml", "allowed range 0.5..3"),
    ("bad_enum.toml", '"fine", "silver", "harsh"'),
    ("wrong_type.toml", "expected a number"),
])
def test_fix_hints(fixture: str, hint: str) -> None:
    (issue,) = validate_files([FIXTURES / fixture])
    assert hint in issue.hint


def test_every_problem_in_a_file_is_reported(tmp_path: Path) -> None:
    text = (
        "exposure = 1\n"                                   # 1 PP102 (top level)
        "[metadata]\n"
        'extends = ["nowhere.toml"]\n'                     # 3 PP401
        "[tones]\n"                                        # 4 PP101
        "contrast = 1\n"
        "[tone]\n"
        "highlight = -20\n"                                # 7 PP102
        'contrast = "50"\n'                                # 8 PP201
        "blacks = 200\n"                                   # 9 PP202
        "[grain]\n"
        'kind = "silvr"\n'                                 # 11 PP203
        "[tone_curve.rgb]\n"
        "points = [\n"
        "  [0.0, 0.0],\n"
        "  [0.5, 0.4], [0.5, 0.6],\n"                      # 15 PP204
        "  [1.0, 1.5],\n"                                  # 16 PP202
        "]\n"
        "[lut]\n"
        'path = "x.cube"\n'                                # 19 PP301
        "[detail]\n"
        "sharpening = { amount = 400, foo = 1 }\n"         # 21 PP102, PP202
    )
    issues = validate_files([_write(tmp_path / "many.toml", text)])
    got = sorted((i.line or 0, i.code) for i in issues)
    assert got == [(1, "PP102"), (3, "PP401"), (4, "PP101"), (7, "PP102"), (8, "PP201"),
                   (9, "PP202"), (11, "PP203"), (15, "PP204"), (16, "PP202"), (19, "PP301"),
                   (21, "PP102"), (21, "PP202")]
    assert "'exposure' belongs in [tone]" in issues[0].hint


def test_toml_dates_are_a_wrong_type_not_a_string(tmp_path: Path) -> None:
    (issue,) = validate_files([_write(tmp_path / "d.toml", "[tone]\ncontrast = 1979-05-27\n")])
    assert (issue.line, issue.code) == (2, "PP201")
    assert "date" in issue.message and "quotes" not in issue.hint


def test_missing_preset_file(tmp_path: Path) -> None:
    (issue,) = validate_files([tmp_path / "nope.toml"])
    assert (issue.code, issue.line) == ("PP002", None)
    with pytest.raises(PresetError) as info:
        load_preset(tmp_path / "nope.toml")
    assert info.value.code == "PP002"


def test_file_reached_twice_is_checked_once(tmp_path: Path) -> None:
    base = _write(tmp_path / "base.toml", "[tone]\ncontrast = 500\n")
    top = _write(tmp_path / "top.toml", '[metadata]\nextends = "base.toml"\n')
    assert len(validate_files([base, top, base])) == 1


# --------------------------------------------------------------------------- line scanner


def test_scan_positions_handles_toml_forms() -> None:
    text = (
        '# comment with [brackets] and key = 1\n'                  # 1
        '[metadata]\n'                                             # 2
        'name = "a # not a comment [x]"\n'                         # 3
        'description = """\n'                                      # 4
        'several\n'                                                # 5
        'lines = 3\n'                                              # 6
        '"""\n'                                                    # 7
        '[ hsl . "red" ]\n'                                        # 8
        'hue = 5\n'                                                # 9
        '[detail]\n'                                               # 10
        'sharpening = { amount = 1, radius = 2 }\n'                # 11
        'clarity.x = 3\n'                                          # 12
        '[tone_curve.rgb]\n'                                       # 13
        'points = [ [0, 0],\n'                                     # 14
        '  # a comment line\n'                                     # 15
        '  [0.5, 0.5], [1, 1]\n'                                   # 16
        ']\n'                                                      # 17
        "'quoted key' = 1\n"                                       # 18
    )
    tomllib.loads(text)  # the scanner is for valid TOML
    pos = scan_positions(text)
    assert pos[("metadata",)] == 2
    assert pos[("metadata", "name")] == 3
    assert pos[("metadata", "description")] == 4
    assert ("metadata", "lines") not in pos  # inside a multi-line string
    assert pos[("hsl",)] == 8 and pos[("hsl", "red")] == 8
    assert pos[("hsl", "red", "hue")] == 9
    assert pos[("detail", "sharpening", "radius")] == 11
    assert pos[("detail", "clarity", "x")] == 12
    assert pos[("tone_curve", "rgb", "points")] == 14
    assert [pos[("tone_curve", "rgb", "points", i)] for i in range(3)] == [14, 16, 16]
    assert pos[("tone_curve", "rgb", "quoted key")] == 18


# --------------------------------------------------------------------------- CLI


def _cli(*args: str | Path) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, ["preset", *[str(a) for a in args]])
    return r.exit_code, r.stdout, r.stderr


def test_cli_validate_examples_ok() -> None:
    code, out, _ = _cli("validate", *example_presets().values())
    assert code == 0
    assert "4 presets valid" in out


def test_cli_validate_reports_problems_exit_2() -> None:
    files = [FIXTURES / "unknown_key.toml", FIXTURES / "out_of_range.toml",
             example_presets()["neutral"]]
    code, out, err = _cli("validate", *files)
    assert code == 2
    lines = out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{files[0]}:4: PP102 ")
    assert lines[1].startswith(f"{files[1]}:8: PP202 ")
    assert "2 problems in 2 files" in err


def test_cli_validate_json() -> None:
    code, out, _ = _cli("validate", "--format", "json", FIXTURES / "bad_enum.toml",
                        FIXTURES / "cycle_a.toml")
    assert code == 2
    data = json.loads(out)
    assert [(Path(d["file"]).name, d["line"], d["code"]) for d in data] == [
        ("bad_enum.toml", 4, "PP203"), ("cycle_b.toml", 4, "PP402")]
    assert all(set(d) == {"file", "line", "code", "message", "hint"} for d in data)
    code, out, _ = _cli("validate", "--format", "json", example_presets()["heavy"])
    assert (code, json.loads(out)) == (0, [])


def test_cli_validate_bad_format_is_usage_error() -> None:
    code, _, _ = _cli("validate", "--format", "xml", example_presets()["neutral"])
    assert code == 2


def test_cli_schema_is_json_schema_of_the_model() -> None:
    code, out, _ = _cli("schema")
    assert code == 0
    schema = json.loads(out)
    assert schema == json.loads(json.dumps(DevelopPreset.json_schema()))
    assert {"tone", "hsl", "color_grading", "lut", "output"} <= set(schema["properties"])


def test_cli_subprocess_exit_code() -> None:
    r = subprocess.run([sys.executable, "-m", "pixelpipe", "preset", "validate",
                        str(FIXTURES / "syntax_error.toml")],
                       capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 2
    assert "PP001" in r.stdout


def test_issue_format() -> None:
    issue = Issue("p.toml", 3, "PP202", "tone.contrast = 150 is out of range", "allowed range")
    assert issue.format() == "p.toml:3: PP202 tone.contrast = 150 is out of range " \
        "(hint: allowed range)"
    assert Issue("--set x", None, "PP501", "bad").format() == "--set x: PP501 bad"


def test_docs_list_every_code_and_section() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "presets.md").read_text(encoding="utf-8")
    for code in CODES:
        assert f"| {code} |" in doc, code
    for section in (*STAGE_SECTIONS, "metadata", "output"):
        assert f"`[{section}" in doc, section
