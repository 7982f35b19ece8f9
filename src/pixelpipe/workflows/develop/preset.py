"""Develop presets: the parameter model, TOML loading, ``extends`` and layering.

A preset is a TOML file with one section per stage of ``pixelpipe
develop`` (see ``docs/presets.md`` for every key)::

    [metadata]
    name = "warm film"
    extends = "base.toml"          # or ["a.toml", "b.toml"], relative to this file

    [tone]
    exposure = 0.3                 # stops
    contrast = 20                  # -100..100

    [hsl.red]
    saturation = -15

    [tone_curve.rgb]
    points = [[0.0, 0.0], [0.25, 0.2], [0.75, 0.8], [1.0, 1.0]]

Every key is optional and every default is neutral: an empty file is the
neutral preset, which changes nothing.

Model
-----
:class:`DevelopPreset` is a frozen pydantic model with one frozen sub-model
per section, ``extra="forbid"``. The ranges, units (``json_schema_extra``)
and descriptions in its ``Field(...)`` declarations are the one source of
truth for validation, error hints and ``pixelpipe preset schema`` (JSON
Schema). The names and ranges follow the shared develop specification and
the usual names of raw developers (exposure in stops, temperature/tint,
contrast/highlights/shadows/whites/blacks, HSL bands, colour-grading wheels
with balance and blending). The model does not import the op classes: the
workflow maps a preset to ops, and uses :meth:`DevelopPreset.is_neutral` and
each section's ``is_neutral()`` to skip stages that would do nothing.

Layering
--------
Values are merged as TOML tables, key by key, *before* validation into the
model, so only keys actually written in a file override:

1. ``extends`` (a file or a list of files, resolved relative to the file
   that names them, any depth): the bases are merged left to right, then the
   file itself on top. A file that is reached again while it is still being
   resolved is a cycle (code PP402); the same base reached through two
   branches (a diamond) is fine.
2. :func:`load_presets` merges several files (``--preset a --preset b``)
   left to right, each with its own ``extends`` resolved first.
3. ``--set section.key=value`` overrides (:func:`parse_override`) go last.

Tables merge recursively; any other value (a number, a string, a whole
``points`` array) replaces the earlier one. ``lut.path`` is made absolute
against the directory of the file that set it (the current directory for
``--set``). The resolved preset's ``model_fields_set`` (on each section)
says which fields some layer set.

Errors
------
Every problem is an :class:`~pixelpipe.workflows.develop.validate.Issue`
with file, line, code and hint; loading raises :class:`PresetError` holding
all of them (see :mod:`pixelpipe.workflows.develop.validate` for the codes).
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import tomllib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from pixelpipe.errors import InputError, ParameterError
from pixelpipe.workflows.develop.validate import (
    Issue,
    Loc,
    curve_order_issues,
    issues_from_error,
    line_of,
    scan_positions,
    toml_error_line,
)

_CONFIG = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


def _slider(description: str, lo: float = -100.0, hi: float = 100.0,
            default: float = 0.0, unit: str = "percent") -> Any:
    """A float field with a range, a unit and a description (neutral default)."""
    return Field(default, ge=lo, le=hi, allow_inf_nan=False, description=description,
                 json_schema_extra={"unit": unit})


class PresetError(ParameterError):
    """A preset (file, ``extends`` chain or ``--set`` override) is invalid.

    Attributes
    ----------
    issues : list of Issue
        Every problem found (at least one).
    file, line, code, hint
        Those of the first issue.
    """

    def __init__(self, issues: Sequence[Issue]) -> None:
        if not issues:
            raise ValueError("PresetError needs at least one issue")
        self.issues = list(issues)
        first = self.issues[0]
        self.file, self.line, self.code, self.hint = first.file, first.line, first.code, first.hint
        more = len(self.issues) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        super().__init__(first.format() + suffix)


# --------------------------------------------------------------------------- sections


class Metadata(BaseModel):
    """``[metadata]``: who made the preset and what it builds on."""

    model_config = _CONFIG

    name: str = Field("", description="Display name of the preset.")
    version: str = Field("", description="Version of the preset, free text (e.g. \"1.2\").")
    author: str = Field("", description="Who made the preset.")
    description: str = Field("", description="What the preset does.")
    extends: tuple[str, ...] = Field(
        (), description="Preset file(s) this one builds on, relative to this file; a string or "
        "an array of strings, merged left to right, then this file on top.")

    @field_validator("extends", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        if isinstance(v, str):
            return (v,)
        return tuple(v) if isinstance(v, list) else v


class WhiteBalanceSettings(BaseModel):
    """``[white_balance]``: temperature and tint relative to the D65 reference."""

    model_config = _CONFIG

    temperature: float = _slider(
        "Colour temperature shift: +-100 is +-100 mired from the D65 reference; positive is "
        "warmer.", unit="mired")
    tint: float = _slider("Tint along the green-magenta axis; positive is more magenta.")
    as_shot: bool = Field(
        True, description="Camera RAW only: decode with the camera's as-shot white balance "
        "(true) or with LibRaw's daylight multipliers from the camera matrix (false); the "
        "sliders then act on that. Other inputs ignore it.",
        json_schema_extra={"unit": "boolean"})

    def is_neutral(self) -> bool:
        """True when the stage changes nothing (temperature and tint 0; ``as_shot`` is a
        decode setting, not a pixel stage)."""
        return self.temperature == 0 and self.tint == 0


class ToneSettings(BaseModel):
    """``[tone]``: exposure (linear stage) and the tone sliders (perceptual stage)."""

    model_config = _CONFIG

    exposure: float = _slider("Exposure in stops: +1 doubles linear values.", -5.0, 5.0,
                              unit="stops")
    contrast: float = _slider("Contrast around middle grey.")
    highlights: float = _slider("Brightness of the highlights (negative recovers them).")
    shadows: float = _slider("Brightness of the shadows (positive opens them).")
    whites: float = _slider("White point: brightness of the brightest tones.")
    blacks: float = _slider("Black point: brightness of the darkest tones.")

    def exposure_is_neutral(self) -> bool:
        """True when the linear exposure stage changes nothing."""
        return self.exposure == 0

    def sliders_are_neutral(self) -> bool:
        """True when contrast, highlights, shadows, whites and blacks are all 0."""
        return all(getattr(self, k) == 0 for k in
                   ("contrast", "highlights", "shadows", "whites", "blacks"))

    def is_neutral(self) -> bool:
        """True when exposure and every slider are 0."""
        return self.exposure_is_neutral() and self.sliders_are_neutral()


#: The identity curve: the neutral value of every tone-curve channel.
IDENTITY_POINTS: tuple[tuple[float, float], ...] = ((0.0, 0.0), (1.0, 1.0))

_Unit = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]


class CurveSettings(BaseModel):
    """``[tone_curve.<channel>]``: a curve through ``points``."""

    model_config = _CONFIG

    points: tuple[tuple[_Unit, _Unit], ...] = Field(
        IDENTITY_POINTS, min_length=2, max_length=32,
        description="Curve points [x, y], input and output in 0..1 (perceptual encoding), "
        "x strictly increasing, 2 to 32 points; monotone cubic interpolation (Fritsch & "
        "Carlson 1980) through them. [[0, 0], [1, 1]] is the identity.",
        json_schema_extra={"unit": "normalized"})

    @field_validator("points")
    @classmethod
    def _increasing(cls, v: tuple[tuple[float, float], ...]) -> tuple[tuple[float, float], ...]:
        for i in range(1, len(v)):
            if not v[i][0] > v[i - 1][0]:
                raise PydanticCustomError(
                    "curve_points",
                    "x must be strictly increasing: point {index} has x = {x}, point {prev} "
                    "has x = {prev_x}",
                    {"index": i, "x": v[i][0], "prev": i - 1, "prev_x": v[i - 1][0]})
        return v

    def is_neutral(self) -> bool:
        """True when the curve is the identity ``[[0, 0], [1, 1]]``."""
        return tuple(tuple(p) for p in self.points) == IDENTITY_POINTS


def _curve(channel: str) -> Any:
    return Field(default_factory=CurveSettings,
                 description=f"Tone curve applied to {channel}.")


class ToneCurveSettings(BaseModel):
    """``[tone_curve.rgb|red|green|blue|luma]``: master, per-channel and luma curves.

    Applied in the order rgb (master, all three channels), then red, green,
    blue, then luma.
    """

    model_config = _CONFIG

    rgb: CurveSettings = _curve("all three channels (master curve)")
    red: CurveSettings = _curve("the red channel")
    green: CurveSettings = _curve("the green channel")
    blue: CurveSettings = _curve("the blue channel")
    luma: CurveSettings = _curve("luminance (colour ratios kept)")

    def is_neutral(self) -> bool:
        """True when every channel's curve is the identity."""
        return all(getattr(self, c).is_neutral() for c in ("rgb", "red", "green", "blue", "luma"))


class HSLBandSettings(BaseModel):
    """``[hsl.<band>]``: hue, saturation and luminance adjustments of one hue band."""

    model_config = _CONFIG

    hue: float = _slider("Hue shift of the band in degrees.", -180.0, 180.0, unit="degrees")
    saturation: float = _slider("Saturation of the band; -100 removes its colour.")
    luminance: float = _slider("Luminance of the band.")

    def is_neutral(self) -> bool:
        """True when hue, saturation and luminance are 0."""
        return self.hue == 0 and self.saturation == 0 and self.luminance == 0


#: The eight HSL bands, in hue order.
HSL_BANDS = ("red", "orange", "yellow", "green", "aqua", "blue", "purple", "magenta")


def _band(name: str) -> Any:
    return Field(default_factory=HSLBandSettings, description=f"Adjustments of the {name} band.")


class HSLSettings(BaseModel):
    """``[hsl.red|orange|yellow|green|aqua|blue|purple|magenta]``: eight hue bands."""

    model_config = _CONFIG

    red: HSLBandSettings = _band("red")
    orange: HSLBandSettings = _band("orange")
    yellow: HSLBandSettings = _band("yellow")
    green: HSLBandSettings = _band("green")
    aqua: HSLBandSettings = _band("aqua")
    blue: HSLBandSettings = _band("blue")
    purple: HSLBandSettings = _band("purple")
    magenta: HSLBandSettings = _band("magenta")

    def is_neutral(self) -> bool:
        """True when every band is neutral."""
        return all(getattr(self, b).is_neutral() for b in HSL_BANDS)


class GradingWheelSettings(BaseModel):
    """``[color_grading.<wheel>]``: a colour wheel (hue, saturation) and luminance."""

    model_config = _CONFIG

    hue: float = _slider("Hue of the tint, degrees on the colour wheel (0 red, 120 green, "
                         "240 blue).", 0.0, 360.0, unit="degrees")
    saturation: float = _slider("Strength of the tint; 0 adds no colour.", 0.0, 100.0)
    luminance: float = _slider("Brightness of the tonal range.")

    def is_neutral(self) -> bool:
        """True when the wheel adds no colour and no brightness (hue alone does nothing)."""
        return self.saturation == 0 and self.luminance == 0


class ColorGradingSettings(BaseModel):
    """``[color_grading]`` and its wheels ``.shadows .midtones .highlights .global``.

    ``global`` is a Python keyword, so the field is ``global_`` with the
    alias ``global`` (both names are accepted in Python).
    """

    model_config = _CONFIG

    shadows: GradingWheelSettings = Field(default_factory=GradingWheelSettings,
                                          description="Wheel for the shadows.")
    midtones: GradingWheelSettings = Field(default_factory=GradingWheelSettings,
                                           description="Wheel for the midtones.")
    highlights: GradingWheelSettings = Field(default_factory=GradingWheelSettings,
                                             description="Wheel for the highlights.")
    global_: GradingWheelSettings = Field(default_factory=GradingWheelSettings, alias="global",
                                          description="Wheel for the whole tonal range.")
    balance: float = _slider("Moves the split between shadows and highlights; positive favours "
                             "the highlights.")
    blending: float = _slider("Overlap of the shadow, midtone and highlight ranges.", 0.0, 100.0,
                              50.0)

    def is_neutral(self) -> bool:
        """True when every wheel is neutral (balance and blending then do nothing)."""
        return all(w.is_neutral() for w in (self.shadows, self.midtones, self.highlights,
                                            self.global_))


class LUTEncoding(NamedTuple):
    """What a LUT expects: the ``ColorSpace`` primaries and ``Transfer`` function."""

    primaries: str
    transfer: str
    gamma: float = 2.2


#: ``[lut] encoding`` values and the colour encoding each stands for. "rec2020-srgb" is the
#: develop workflow's own perceptual encoding (no conversion around the LUT).
LUT_ENCODINGS: dict[str, LUTEncoding] = {
    "srgb": LUTEncoding("rec709", "srgb"),
    "rec2020-srgb": LUTEncoding("rec2020", "srgb"),
    "display-p3": LUTEncoding("display-p3", "srgb"),
    "adobe-rgb": LUTEncoding("adobe-rgb", "gamma", 563 / 256),
    "acescct": LUTEncoding("acescg", "acescct"),
    "acescc": LUTEncoding("acescg", "acescc"),
}

LutEncodingName = Literal["srgb", "rec2020-srgb", "display-p3", "adobe-rgb", "acescct", "acescc"]


class LUTSettings(BaseModel):
    """``[lut]``: a 3-D ``.cube`` LUT and the encoding it expects."""

    model_config = _CONFIG

    path: str | None = Field(
        None, description="The .cube file, relative to the preset file that names it (made "
        "absolute when the preset is loaded). Unset: no LUT.")
    encoding: LutEncodingName = Field(
        "srgb", description="Colour encoding the LUT expects and returns: srgb (sRGB primaries "
        "and curve), rec2020-srgb (Rec.2020 primaries, sRGB curve), display-p3, adobe-rgb, "
        "acescct, acescc (ACES AP1 primaries).")
    interpolation: Literal["tetrahedral", "trilinear"] = Field(
        "tetrahedral", description="Interpolation between the LUT's grid points.")

    def is_neutral(self) -> bool:
        """True when no LUT is set."""
        return self.path is None


class DehazeSettings(BaseModel):
    """``[dehaze]``: haze removal (dark channel prior) or, negative, added haze."""

    model_config = _CONFIG

    amount: float = _slider("Haze removed (positive) or added (negative).")

    def is_neutral(self) -> bool:
        """True when amount is 0."""
        return self.amount == 0


class NoiseReductionSettings(BaseModel):
    """``[noise_reduction]``: wavelet denoising of luminance and colour noise."""

    model_config = _CONFIG

    luminance: float = _slider("Strength of luminance noise reduction.", 0.0, 100.0)
    color: float = _slider("Strength of colour (chroma) noise reduction.", 0.0, 100.0)
    detail: float = _slider("Fine detail protected from the luminance reduction.", 0.0, 100.0)

    def is_neutral(self) -> bool:
        """True when luminance and color are 0 (detail alone does nothing)."""
        return self.luminance == 0 and self.color == 0


class SharpeningSettings(BaseModel):
    """``[detail.sharpening]``: unsharp-mask style sharpening of luminance."""

    model_config = _CONFIG

    amount: float = _slider("Strength of the sharpening.", 0.0, 100.0)
    radius: float = _slider("Radius of the detail sharpened.", 0.5, 3.0, 1.0, unit="pixels")
    threshold: float = _slider("Local contrast below which nothing is sharpened.", 0.0, 100.0)
    masking: float = _slider("Edge masking: restricts sharpening to edges.", 0.0, 100.0)

    def is_neutral(self) -> bool:
        """True when amount is 0."""
        return self.amount == 0


class DetailSettings(BaseModel):
    """``[detail]`` and ``[detail.sharpening]``: texture, clarity and sharpening on luminance."""

    model_config = _CONFIG

    texture: float = _slider("Local contrast of fine texture.")
    clarity: float = _slider("Local contrast of mid-size structure.")
    sharpening: SharpeningSettings = Field(default_factory=SharpeningSettings,
                                           description="Sharpening.")

    def texture_is_neutral(self) -> bool:
        """True when texture is 0."""
        return self.texture == 0

    def clarity_is_neutral(self) -> bool:
        """True when clarity is 0."""
        return self.clarity == 0

    def is_neutral(self) -> bool:
        """True when texture, clarity and sharpening are all neutral."""
        return self.texture_is_neutral() and self.clarity_is_neutral() and \
            self.sharpening.is_neutral()


class GrainSettings(BaseModel):
    """``[grain]``: seeded, deterministic film grain."""

    model_config = _CONFIG

    amount: float = _slider("Strength of the grain.", 0.0, 100.0)
    size: float = _slider("Size of the grain.", 0.0, 100.0, 25.0)
    kind: Literal["fine", "silver", "harsh"] = Field("fine", description="Character of the grain.")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="Seed of the grain pattern (uint32).",
                      json_schema_extra={"unit": "integer"})

    def is_neutral(self) -> bool:
        """True when amount is 0."""
        return self.amount == 0


class VignetteSettings(BaseModel):
    """``[vignette]``: darkening (negative) or lightening (positive) towards the corners."""

    model_config = _CONFIG

    amount: float = _slider("Strength: negative darkens the corners, positive lightens them.")
    shape: Literal["elliptical", "circular"] = Field(
        "elliptical", description="Elliptical follows the frame's aspect ratio; circular does not.")
    midpoint: float = _slider("Distance from the centre where the falloff is half way.", 0.0,
                              100.0, 50.0)
    feather: float = _slider("Softness of the falloff.", 0.0, 100.0, 50.0)

    def is_neutral(self) -> bool:
        """True when amount is 0."""
        return self.amount == 0


class OutputSettings(BaseModel):
    """``[output]``: output gamut, bit depth and JPEG quality (not an adjustment)."""

    model_config = _CONFIG

    gamut: Literal["srgb", "display-p3", "adobe-rgb"] = Field(
        "srgb", description="Output colour space; its ICC profile is embedded.")
    bit_depth: Literal[8, 16, 32] | None = Field(
        None, description="Bits per sample of the output file (32: float, TIFF/EXR). Unset: "
        "the output format's default.", json_schema_extra={"unit": "bits"})
    jpeg_quality: int = Field(95, ge=1, le=100, description="JPEG quality.",
                              json_schema_extra={"unit": "quality"})


#: The stage sections, in the workflow's stage order (``output`` and ``metadata`` excluded).
STAGE_SECTIONS = ("white_balance", "tone", "dehaze", "noise_reduction", "tone_curve", "hsl",
                  "color_grading", "lut", "detail", "grain", "vignette")


class DevelopPreset(BaseModel):
    """A ``pixelpipe develop`` preset: every section, each defaulting to neutral.

    Build one with :func:`load_preset` / :func:`load_presets`, or in Python
    (``DevelopPreset(tone=ToneSettings(exposure=0.5))``). Frozen; unknown
    keys are rejected (``extra="forbid"``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True,
                              title="pixelpipe develop preset")

    metadata: Metadata = Field(default_factory=Metadata, description="Name, author, extends.")
    white_balance: WhiteBalanceSettings = Field(default_factory=WhiteBalanceSettings,
                                                description="White balance (linear stage).")
    tone: ToneSettings = Field(default_factory=ToneSettings,
                               description="Exposure and tone sliders.")
    tone_curve: ToneCurveSettings = Field(default_factory=ToneCurveSettings,
                                          description="Tone curves.")
    hsl: HSLSettings = Field(default_factory=HSLSettings, description="Hue/saturation/luminance "
                             "per hue band.")
    color_grading: ColorGradingSettings = Field(default_factory=ColorGradingSettings,
                                                description="Colour-grading wheels.")
    lut: LUTSettings = Field(default_factory=LUTSettings, description="A 3-D LUT.")
    dehaze: DehazeSettings = Field(default_factory=DehazeSettings, description="Dehaze.")
    noise_reduction: NoiseReductionSettings = Field(default_factory=NoiseReductionSettings,
                                                    description="Noise reduction.")
    detail: DetailSettings = Field(default_factory=DetailSettings,
                                   description="Texture, clarity, sharpening.")
    grain: GrainSettings = Field(default_factory=GrainSettings, description="Film grain.")
    vignette: VignetteSettings = Field(default_factory=VignetteSettings, description="Vignette.")
    output: OutputSettings = Field(default_factory=OutputSettings,
                                   description="Output gamut, depth, quality.")

    def is_neutral(self) -> bool:
        """True when every stage is neutral, so developing changes no pixel.

        ``metadata`` and ``output`` are not stages and do not count.
        """
        return all(getattr(self, s).is_neutral() for s in STAGE_SECTIONS)

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The JSON Schema of a preset file (TOML names, e.g. ``global``)."""
        return cls.model_json_schema(by_alias=True)


# --------------------------------------------------------------------------- loading


def _validate_raw(raw: dict[str, Any]) -> DevelopPreset:
    """Validate a TOML table strictly (no string-to-number coercion); may raise ValidationError.

    The table goes through JSON so that arrays are accepted for tuples while
    ``"0.5"`` stays a string and ``true`` stays a boolean.
    """
    text = json.dumps(raw, default=str, allow_nan=True)
    return DevelopPreset.model_validate_json(text, strict=True)


def _check_raw(raw: dict[str, Any], file: str, pos: dict[Loc, int]) -> list[Issue]:
    """Every model problem of one TOML table (no LUT or extends checks), without repeats."""
    issues = curve_order_issues(raw, file, pos)
    try:
        _validate_raw(raw)
    except ValidationError as exc:
        issues += issues_from_error(DevelopPreset, exc, file, pos, raw)
    return list(dict.fromkeys(issues))


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """``top`` over ``base``: tables merge key by key, other values replace."""
    out = dict(base)
    for k, v in top.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _lut_issues(path_value: Any, base_dir: Path, file: str, line: int | None) -> list[Issue]:
    """PP301 / PP302 for a ``lut.path`` value (nothing when it is not a string)."""
    if not isinstance(path_value, str):
        return []
    from pixelpipe.io.cube import read_cube

    p = base_dir / path_value
    if not p.is_file():
        where = "" if Path(path_value).is_absolute() else f" (looked for {os.path.normpath(p)})"
        return [Issue(file, line, "PP301", f"lut.path: LUT file '{path_value}' not found{where}",
                      "the path is relative to the preset file")]
    if p.suffix.lower() != ".cube":
        return [Issue(file, line, "PP302", f"lut.path: '{path_value}' is not a .cube file",
                      "use a 3-D LUT in the .cube format")]
    try:
        cube = read_cube(p)
    except InputError as exc:
        return [Issue(file, line, "PP302", f"lut.path: '{path_value}' cannot be read: "
                      f"{exc.problem}", "check the file is a valid .cube LUT")]
    if cube.lut3d is None:
        return [Issue(file, line, "PP302", f"lut.path: '{path_value}' has no 3-D table",
                      "a 1-D LUT cannot be used here; use a .cube file with LUT_3D_SIZE")]
    return []


class _Loader:
    """Resolves files and their ``extends`` chains, collecting every issue."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []
        self._done: dict[Path, dict[str, Any] | None] = {}

    def _key(self, path: Path) -> Path:
        return path.resolve()

    def load_top(self, path: Path) -> dict[str, Any] | None:
        """A file named by the user: PP002 when it is not a readable file."""
        if not path.is_file():
            problem = "is a folder" if path.is_dir() else "not found"
            self.issues.append(Issue(str(path), None, "PP002", f"preset file {problem}",
                                     "check the path"))
            return None
        return self.load(path, ())

    def load(self, path: Path, stack: tuple[Path, ...]) -> dict[str, Any] | None:
        """The merged table of ``path`` and its bases; None when something is wrong."""
        key = self._key(path)
        if key in self._done:
            return self._done[key]
        self._done[key] = None  # re-entry is caught as a cycle by the caller
        file = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self.issues.append(Issue(file, None, "PP002", f"cannot read the preset: {reason}",
                                     "the file must be UTF-8 TOML"))
            return None
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            self.issues.append(Issue(file, toml_error_line(exc, text), "PP001",
                                     f"TOML syntax error: {exc}",
                                     "see https://toml.io for the syntax"))
            return None
        pos = scan_positions(text)
        issues: list[Issue] = []
        issues += _check_raw(raw, file, pos)
        lut = raw.get("lut")
        if isinstance(lut, dict):
            issues += _lut_issues(lut.get("path"), path.parent, file, line_of(pos, ("lut", "path")))

        meta = raw.get("metadata")
        refs: Any = meta.get("extends", []) if isinstance(meta, dict) else []
        refs_list = [refs] if isinstance(refs, str) else refs if isinstance(refs, list) else []
        base: dict[str, Any] = {}
        base_failed = False
        chain = (*stack, key)
        for i, ref in enumerate(refs_list):
            if not isinstance(ref, str):
                continue  # reported as a wrong type above
            loc: Loc = ("metadata", "extends") if isinstance(refs, str) else \
                ("metadata", "extends", i)
            line = line_of(pos, loc)
            target = path.parent / ref
            if not target.is_file():
                siblings = sorted(q.name for q in target.parent.glob("*.toml")) \
                    if target.parent.is_dir() else []
                guess = difflib.get_close_matches(Path(ref).name, siblings, n=1, cutoff=0.8)
                hint = (f"did you mean '{guess[0]}'?" if guess else
                        "the path is relative to the file that extends it")
                issues.append(Issue(file, line, "PP401", f"metadata.extends: '{ref}' not found "
                                    f"(looked for {os.path.normpath(target)})", hint))
                continue
            tkey = self._key(target)
            if tkey in chain:
                names = [q.name for q in chain[chain.index(tkey):]] + [tkey.name]
                issues.append(Issue(file, line, "PP402", "metadata.extends: cycle "
                                    + " -> ".join(names), "remove one of the extends links"))
                continue
            sub = self.load(Path(os.path.normpath(target)), chain)
            if sub is None:
                base_failed = True  # its own issues are already reported
            else:
                base = _merge(base, sub)
        self.issues += sorted(issues, key=lambda i: i.line or 0)
        if issues or base_failed:
            return None
        own = copy.deepcopy(raw)
        if isinstance(own.get("metadata"), dict):
            own["metadata"].pop("extends", None)
        if isinstance(own.get("lut"), dict) and isinstance(own["lut"].get("path"), str):
            own["lut"]["path"] = os.path.normpath(path.parent.resolve() / own["lut"]["path"])
        merged = _merge(base, own)
        self._done[key] = merged
        return merged


def parse_override(text: str) -> tuple[tuple[str, ...], Any]:
    """Parse one ``--set section.key=value`` override.

    The value is read as a TOML value (``0.5``, ``10``, ``true``,
    ``"text"``, ``[[0, 0], [1, 1]]``); a value that is not valid TOML is
    taken as a bare string (``grain.kind=silver``).

    Returns
    -------
    (key path, value)
        E.g. ``(("hsl", "red", "hue"), 10)``.

    Raises
    ------
    PresetError
        Code PP501 when there is no ``=`` or the key is not a dotted name.
    """
    key, sep, value = text.partition("=")
    parts = tuple(p.strip() for p in key.strip().split("."))
    if not sep or not key.strip() or any(not p for p in parts):
        raise PresetError([Issue("--set", None, "PP501", f"malformed override '{text}'",
                                 "write section.key=value, e.g. tone.exposure=0.5")])
    try:
        parsed = tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value.strip()
    return parts, parsed


def _nest(parts: Sequence[str], value: Any) -> dict[str, Any]:
    out: Any = value
    for p in reversed(parts):
        out = {p: out}
    return dict(out)


def load_presets(paths: Iterable[str | Path], overrides: Iterable[str] = ()) -> DevelopPreset:
    """Load preset files layered left to right, then apply ``--set`` overrides.

    Parameters
    ----------
    paths : iterable of str or Path
        Preset TOML files (``--preset`` flags), each with its ``extends``
        resolved (relative to the file, any depth). A key set in a later
        file wins; keys a later file does not set keep the earlier value.
        No paths: the neutral preset (plus overrides).
    overrides : iterable of str
        ``section.key=value`` strings (``tone.exposure=0.5``,
        ``hsl.red.hue=10``, ``detail.sharpening.amount=40``,
        ``color_grading.global.hue=30``), applied last, in order. Values are
        TOML values and keep their type (``"0.5"`` in quotes is a string and
        is rejected for a number); ``lut.path`` is relative to the current
        directory.

    Returns
    -------
    DevelopPreset
        The resolved preset; ``metadata.extends`` is empty (resolved).

    Raises
    ------
    PresetError
        With every issue found (file, line, code, hint): unreadable file,
        TOML syntax, unknown section or key, wrong type, out of range, bad
        choice, bad curve, missing or unreadable LUT, missing or cyclic
        ``extends``, malformed override.
    """
    loader = _Loader()
    merged: dict[str, Any] = {}
    for p in paths:
        sub = loader.load_top(Path(p))
        if sub is not None:
            merged = _merge(merged, sub)
    issues = list(loader.issues)
    for text in overrides:
        try:
            parts, value = parse_override(text)
        except PresetError as exc:
            issues += exc.issues
            continue
        layer = _nest(parts, value)
        where = f"--set {text}"
        bad = _check_raw(layer, where, {})
        if bad:
            issues += bad
            continue
        if parts == ("lut", "path") and isinstance(value, str):
            bad = _lut_issues(value, Path.cwd(), where, None)
            if bad:
                issues += bad
                continue
            layer = _nest(parts, os.path.normpath(Path.cwd() / value))
        if parts[:2] == ("metadata", "extends"):
            issues.append(Issue(where, None, "PP501", "extends cannot be set with --set",
                                "pass the base preset as another --preset before this one"))
            continue
        merged = _merge(merged, layer)
    if issues:
        raise PresetError(issues)
    return _validate_raw(merged)


def load_preset(path: str | Path) -> DevelopPreset:
    """Load one preset file, resolving its ``extends`` chain (see :func:`load_presets`).

    Raises
    ------
    PresetError
        With every issue found in the file and the files it extends.
    """
    return load_presets([path])


_PRESET_DIR = Path(__file__).resolve().parent / "presets"


def example_presets() -> dict[str, Path]:
    """The example presets shipped with pixelpipe, by name (file stem), sorted.

    ``neutral`` (changes nothing), ``bw-contrast`` (contrasty black and
    white), ``warm-film`` (warm film look with a small LUT) and ``heavy``
    (every section, extends ``warm-film``).
    """
    return {p.stem: p for p in sorted(_PRESET_DIR.glob("*.toml"))}
