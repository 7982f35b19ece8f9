"""The develop workflow's fixed stage order, built as one :class:`~pixelpipe.Pipeline`.

Stage order (every stage is skipped when its preset section is neutral)
---------------------------------------------------------------------
0. Source -> working space: ``transfer`` decode of the source curve and
   ``colorspace`` to linear Rec.2020 (see :mod:`.colour` for how the source
   encoding is found).
1. Linear: ``white_balance`` (temperature/tint sliders, below), ``exposure``.
2. ``dehaze`` (linear Rec.2020).
3. ``denoise`` (linear Rec.2020).
4. To the perceptual encoding: ``transfer`` sRGB encode (sRGB curve on
   Rec.2020 values).
5. Pointwise, fused into one kernel: ``tone``, ``tone_curve``, ``hsl``,
   ``color_grading``, then the LUT: perceptual -> the LUT's encoding
   (``transfer`` decode sRGB, ``colorspace`` Rec.2020 -> LUT primaries,
   ``transfer`` encode with the LUT's curve), ``lut3d``, and back.
6. Detail on luminance: ``texture``, ``clarity``, ``sharpen``.
7. ``grain``.  8. ``vignette``.
9. Output: ``transfer`` sRGB decode, ``colorspace`` Rec.2020 -> output gamut,
   ``transfer`` encode with the output curve.

Adjacent conversions that undo each other (a curve's decode then encode, a
colour space A -> B -> A) are dropped before the pipeline is built, so with
every stage neutral and an output gamut equal to the source's encoding the
pipeline is empty and the all-neutral preset returns the input unchanged.

White balance sliders
---------------------
``temperature`` T in -100..100 is a shift in mired (micro reciprocal degrees)
from the D65 reference (6504 K, 153.75 mired): the illuminant corrected for
is ``1e6 / (1e6/6504 - T)`` kelvin, so +100 assumes an 18,600 K illuminant
(the image turns warmer) and -100 a 3,940 K one (cooler). Equal slider steps
are equal steps in mired, which are close to equal perceived steps. ``tint``
is passed to the ``white_balance`` op (Duv = tint / 5000 of the illuminant;
positive = greenish illuminant corrected towards magenta). The gains are
von Kries scaling in linear Rec.2020 (``white_balance``, ``primaries="rec2020"``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pixelpipe.errors import ParameterError
from pixelpipe.image import ImageMeta
from pixelpipe.ops.base import Op, get_op_class
from pixelpipe.ops.color.colorspace import ColorSpace
from pixelpipe.ops.color.exposure import Exposure
from pixelpipe.ops.color.lut3d import LUT3D
from pixelpipe.ops.color.matrix import Matrix
from pixelpipe.ops.color.transfer import Transfer
from pixelpipe.ops.color.white_balance import WhiteBalance
from pixelpipe.pipeline import Pipeline
from pixelpipe.workflows.develop.colour import OUTPUT_GAMUTS, SourceColour

#: D65 reference of the temperature slider, in mired.
REFERENCE_MIRED = 1e6 / 6504.0


def white_balance_op(temperature: float, tint: float) -> WhiteBalance | None:
    """The ``white_balance`` op for the preset sliders (None when both are 0)."""
    if temperature == 0 and tint == 0:
        return None
    kelvin = 1e6 / (REFERENCE_MIRED - float(temperature))
    return WhiteBalance(temperature=kelvin, tint=float(tint), primaries="rec2020")


def _op(name: str, **params: Any) -> Op:
    try:
        cls = get_op_class(name)
    except ParameterError:
        raise ParameterError(f"develop: the {name!r} op is not available in this "
                             "installation") from None
    return cls.from_config(params)


def _keep(op: Op | None, out: list[Op]) -> None:
    if op is not None and not op.is_identity():
        out.append(op)


def source_ops(sc: SourceColour) -> list[Op]:
    """Ops taking the source encoding to linear Rec.2020."""
    ops: list[Op] = []
    if sc.transfer != "linear":
        ops.append(Transfer(function=sc.transfer, direction="decode", gamma=sc.gamma))
    if sc.primaries == "custom":
        assert sc.matrix is not None
        _keep(Matrix(matrix=sc.matrix), ops)
    else:
        _keep(ColorSpace(source=sc.primaries, target="rec2020"), ops)
    return ops


def output_ops(gamut: str) -> list[Op]:
    """Ops taking linear Rec.2020 to the encoded output gamut."""
    space, curve, gamma = OUTPUT_GAMUTS[gamut]
    ops: list[Op] = []
    _keep(ColorSpace(source="rec2020", target=space), ops)
    ops.append(Transfer(function=curve, direction="encode", gamma=gamma))
    return ops


def lut_ops(lut: Any) -> list[Op]:
    """The LUT with the conversions from/to the encoding it expects (empty when no LUT)."""
    if lut is None or getattr(lut, "path", None) is None:
        return []
    from pixelpipe.workflows.develop.preset import LUT_ENCODINGS

    enc = LUT_ENCODINGS[lut.encoding]
    table = LUT3D.from_cube(lut.path, interpolation=lut.interpolation)
    if (enc.primaries, enc.transfer) == ("rec2020", "srgb"):
        return [table]
    to: list[Op] = [Transfer(function="srgb", direction="decode")]
    _keep(ColorSpace(source="rec2020", target=enc.primaries), to)
    to.append(Transfer(function=enc.transfer, direction="encode", gamma=enc.gamma))
    back: list[Op] = [Transfer(function=enc.transfer, direction="decode", gamma=enc.gamma)]
    _keep(ColorSpace(source=enc.primaries, target="rec2020"), back)
    back.append(Transfer(function="srgb", direction="encode"))
    return [*to, table, *back]


def _neutral(section: Any) -> bool:
    fn = getattr(section, "is_neutral", None)
    return bool(fn()) if callable(fn) else False


def linear_stages(preset: Any) -> list[Op]:
    """Stages 1-3 (linear Rec.2020)."""
    ops: list[Op] = []
    wb = preset.white_balance
    if not _neutral(wb):
        _keep(white_balance_op(wb.temperature, wb.tint), ops)
    _keep(Exposure(stops=preset.tone.exposure), ops)
    if not _neutral(preset.dehaze):
        _keep(_op("dehaze", amount=preset.dehaze.amount), ops)
    nr = preset.noise_reduction
    if not _neutral(nr):
        _keep(_op("denoise", luminance=nr.luminance, color=nr.color, detail=nr.detail), ops)
    return ops


def perceptual_stages(preset: Any) -> list[Op]:
    """Stages 5-8 (sRGB-encoded Rec.2020)."""
    ops: list[Op] = []
    t = preset.tone
    tone_params = {k: getattr(t, k) for k in ("contrast", "highlights", "shadows", "whites",
                                               "blacks")}
    if any(v != 0 for v in tone_params.values()):
        _keep(_op("tone", **tone_params), ops)
    tc = preset.tone_curve
    if not _neutral(tc):
        curves = {c: None if getattr(tc, c).is_neutral() else
                  [list(p) for p in getattr(tc, c).points]
                  for c in ("rgb", "red", "green", "blue", "luma")}
        _keep(_op("tone_curve", **curves), ops)
    if not _neutral(preset.hsl):
        _keep(_op("hsl", **preset.hsl.model_dump()), ops)
    cg = preset.color_grading
    if not _neutral(cg):
        d = cg.model_dump()
        _keep(_op("color_grading", **d), ops)
    ops.extend(lut_ops(preset.lut))
    det = preset.detail
    if det.texture != 0:
        _keep(_op("texture", amount=det.texture), ops)
    if det.clarity != 0:
        _keep(_op("clarity", amount=det.clarity), ops)
    if not _neutral(det.sharpening):
        _keep(_op("sharpen", **det.sharpening.model_dump()), ops)
    g = preset.grain
    if not _neutral(g):
        _keep(_op("grain", amount=g.amount, size=g.size, kind=g.kind, seed=g.seed), ops)
    v = preset.vignette
    if not _neutral(v):
        _keep(_op("vignette", **v.model_dump()), ops)
    return ops


def build_pipeline(preset: Any, source: SourceColour | ImageMeta | None = None,
                   gamut: str | None = None) -> Pipeline:
    """The develop pipeline for ``preset`` and a source encoding, in the fixed stage order.

    Parameters
    ----------
    preset : DevelopPreset
        The settings (:mod:`pixelpipe.workflows.develop.preset`).
    source : SourceColour or ImageMeta, optional
        The source's encoding (an :class:`ImageMeta` is looked at as
        :func:`~pixelpipe.workflows.develop.colour.source_colour` does for an
        image with that metadata, ICC-converted sources excepted); default sRGB.
    gamut : str, optional
        Output gamut; default ``preset.output.gamut``.

    Raises
    ------
    ParameterError
        An op of a stage is missing or rejects its parameters.
    InputError
        The LUT file cannot be read.
    """
    if source is None:
        sc = SourceColour()
    elif isinstance(source, ImageMeta):
        from pixelpipe.image import Image
        from pixelpipe.workflows.develop.colour import source_colour

        sc = source_colour(Image(np.zeros((1, 1, 3), np.float32), source))
        if sc.primaries == "icc":
            sc = SourceColour("rec2020", "srgb")
    else:
        sc = source
    gamut = gamut or preset.output.gamut
    perceptual = perceptual_stages(preset)
    ops = [*source_ops(sc), *linear_stages(preset)]
    if perceptual:
        ops += [Transfer(function="srgb", direction="encode"), *perceptual,
                Transfer(function="srgb", direction="decode")]
    ops += output_ops(gamut)
    return Pipeline(cancel_inverses(ops))


def _inverse_pair(a: Op, b: Op) -> bool:
    if isinstance(a, Transfer) and isinstance(b, Transfer):
        return a.function == b.function and a.direction != b.direction and \
            (a.function != "gamma" or a.gamma == b.gamma)
    if isinstance(a, ColorSpace) and isinstance(b, ColorSpace):
        return a.source == b.target and a.target == b.source
    return False


def cancel_inverses(ops: list[Op]) -> list[Op]:
    """Drop adjacent op pairs that undo each other (decode/encode of one curve, A->B->A)."""
    out: list[Op] = []
    for op in ops:
        if out and _inverse_pair(out[-1], op):
            out.pop()
        else:
            out.append(op)
    return out
