"""The operation contract every catalogue op follows.

An op is a frozen pydantic model: its fields are its parameters (names,
units, ranges, defaults and descriptions live in the field definitions, so
the same model validates TOML, builds CLI help and exports JSON Schema).
The class carries:

* ``op_name``: the name used in TOML files and ``--op`` strings;
* ``kind``: how the planner treats it (:class:`OpKind`);
* :meth:`Op.reference`: the canonical implementation, written against the
  array namespace of its input (NumPy now, CuPy later);
* a WebGPU implementation: pointwise ops give a WGSL *function* over one
  pixel (:meth:`PointwiseOp.wgsl`) so that chains can be fused into one
  kernel; other kinds give full compute passes (:meth:`Op.gpu_passes`).

Pixel layout seen by every op, on every backend: float32 ``(H, W, 4)`` RGBA.
The executor expands 1-channel images to ``(g, g, g, 1)`` and 3-channel ones
to ``(r, g, b, 1)`` before the first op and cuts the result back to the
source's channel count after the last (grey: channel 0). Colour ops leave
alpha untouched unless their note says otherwise.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, ValidationError

from pixelpipe.errors import ParameterError

Array = npt.NDArray[np.float32]


class OpKind(enum.StrEnum):
    """How the planner treats an op."""

    POINTWISE = "pointwise"  #: out[y, x] depends on in[y, x] only; fusable
    NEIGHBORHOOD = "neighborhood"  #: out[y, x] depends on a window of ``radius`` pixels
    GLOBAL = "global"  #: needs image-wide statistics first
    GEOMETRY = "geometry"  #: changes size or sampling grid
    FRAMES = "frames"  #: reduces a stack of frames


def array_namespace(x: Any) -> ModuleType:
    """The array module (``numpy``; ``cupy`` for CuPy arrays) that owns ``x``."""
    mod = type(x).__module__.split(".")[0]
    if mod == "cupy":  # pragma: no cover - no CuPy in CI
        import cupy

        return cupy
    return np


@cache
def load_wgsl(package: str, name: str) -> str:
    """Text of the WGSL file ``name`` shipped in ``package`` (e.g. ``pixelpipe.ops.color``)."""
    return resources.files(package).joinpath(name).read_text(encoding="utf-8")


@dataclass(frozen=True)
class GpuPass:
    """One compute dispatch of a non-pointwise op on the WebGPU backend.

    The backend prepends a prelude to ``shader`` that declares:

    * ``dst: array<vec4<f32>>`` (binding 0, read-write): the pass output,
      ``out_h * out_w`` pixels, row-major;
    * ``params: array<vec4<f32>>`` (binding 1, read): :attr:`params`;
    * ``dims: Dims`` (binding 2, uniform): ``in_w, in_h, out_w, out_h`` and
      the dispatch folding fields; ``in_w, in_h`` is the size of the pass's
      first input (the op input for ``"in"``, that pass's ``out_size`` for ``"pN"``);
    * ``src0``, ``src1`` … (bindings 3…, read): the inputs named in :attr:`inputs`,
      each bound at its own size;
    * ``fn pixel_coord(wid, lid) -> vec2<u32>``: the pixel this invocation
      owns; the dispatch is folded so any image size fits in 65,535
      workgroups per dimension. Invocations past ``out_w``/``out_h`` must return.

    The shader's entry point is ``main``, by default with
    ``@workgroup_size(16, 16)``, one pixel per invocation (see :attr:`tile`).

    Memory: the backend gives each buffer back to its pool right after the
    last pass that reads it (the op input included, unless the caller still
    holds it), so an op's peak is the most buffers live at any one pass, not
    the number of passes. ``in_place = "pN"`` makes this pass write into
    pass N's buffer instead of a new one (same size): the shader may read
    ``dst[i]`` before writing ``dst[i]`` (each invocation its own pixels
    only), which accumulates without a second buffer. Pass N's buffer must
    then not also be one of this pass's ``inputs``; later passes name this
    pass (``"pM"``) to read the updated buffer.
    """

    shader: str
    params: Array
    out_size: tuple[int, int]  #: (height, width) of this pass's output
    inputs: tuple[str, ...] = ("in",)  #: "in" = the op input; "p0", "p1" … = earlier passes
    in_place: str | None = None  #: "pN": write into pass N's buffer (see above)
    #: outputs (rows, columns) one workgroup covers; the dispatch has one workgroup
    #: per tile. Passes with a tile other than 16 x 16 find their tile with
    #: ``tile_index(wid)`` (``dims.tiles_x`` counts tiles per row) and may use any
    #: workgroup size.
    tile: tuple[int, int] = (16, 16)
    #: the shader passes every value it stores through ``epilogue(c: vec4<f32>)
    #: -> vec4<f32>``, which the backend defines: the identity, or the
    #: pointwise ops that follow the op in the plan (they then need no pass of
    #: their own). Only an op's last pass may set it, and it must then store
    #: every output pixel through ``epilogue``.
    epilogue: bool = False
    #: (row, buffer, offset) triples: parameter row ``row`` is replaced, on the
    #: GPU and just before the pass runs, by the 16 bytes at byte ``offset`` of
    #: the GPU ``buffer`` (statistics computed on the device, see
    #: :class:`DeviceStatistics`). The row's value in :attr:`params` is a
    #: placeholder.
    device_rows: tuple[tuple[int, Any, int], ...] = ()


class Op(BaseModel):
    """Base class of catalogue operations (see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    op_name: ClassVar[str] = ""
    kind: ClassVar[OpKind] = OpKind.POINTWISE

    _registry: ClassVar[dict[str, type[Op]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("op_name")
        if name:
            if name in Op._registry and Op._registry[name] is not cls:
                raise RuntimeError(f"op name {name!r} registered twice")
            Op._registry[name] = cls

    # --- planning ------------------------------------------------------------
    def radius(self) -> int:
        """Neighbourhood radius in pixels (0 for pointwise and geometry ops)."""
        return 0

    def output_shape(self, height: int, width: int) -> tuple[int, int]:
        """Output ``(height, width)`` for an input of ``(height, width)``."""
        return height, width

    def is_identity(self) -> bool:
        """True when these parameters leave every pixel unchanged (workflows then skip the op).

        Only exact identities count (a neutral slider), not "close to".
        """
        return False

    # --- implementations -----------------------------------------------------
    def reference(self, x: Array) -> Array:
        """Canonical result: ``x`` float32 (H, W, 4) -> float32 (H', W', 4)."""
        raise NotImplementedError

    def gpu_passes(self, height: int, width: int) -> list[GpuPass]:
        """The WebGPU passes for an input of ``(height, width)`` (non-pointwise ops).

        An empty list means the output is the input, unchanged (no dispatch).
        """
        raise NotImplementedError

    # --- output tiles of geometry ops (tiled / streamed execution) -----------
    #: True when the op implements :meth:`source_region`, :meth:`reference_tile`
    #: and :meth:`gpu_passes_tile`, so an executor can compute its output tile
    #: by tile, each from the input rectangle that tile needs.
    tiles_by_region: ClassVar[bool] = False

    def source_region(self, out_region: tuple[int, int, int, int],
                      in_shape: tuple[int, int]) -> tuple[int, int, int, int]:
        """Input rectangle ``(y0, y1, x0, x1)`` (half-open, pixels) that the output
        rectangle ``out_region`` needs, filter support included, clipped to the
        input ``in_shape`` ``(height, width)`` and never empty.
        """
        raise NotImplementedError

    def reference_tile(self, x: Array, src_region: tuple[int, int, int, int],
                       out_region: tuple[int, int, int, int],
                       in_shape: tuple[int, int]) -> Array:
        """Reference output tile ``out_region`` from ``x`` = the input's ``src_region``.

        ``x`` float32 ``(y1 - y0, x1 - x0, 4)`` of ``src_region`` (as given by
        :meth:`source_region`) of an input of ``in_shape``; returns float32
        ``(oy1 - oy0, ox1 - ox0, 4)``, bit-identical to the same rectangle of
        :meth:`reference` on the whole input.
        """
        raise NotImplementedError

    def gpu_passes_tile(self, src_region: tuple[int, int, int, int],
                        out_region: tuple[int, int, int, int],
                        in_shape: tuple[int, int]) -> list[GpuPass]:
        """WebGPU passes of :meth:`reference_tile`; the pass input is ``src_region``."""
        raise NotImplementedError

    # --- construction from configuration ------------------------------------
    @classmethod
    def from_config(cls, config: dict[str, Any], base_dir: Path | None = None) -> Op:
        """Build the op from a TOML table or parsed ``--op`` string.

        ``base_dir`` resolves relative paths (LUT files). Raises
        :class:`~pixelpipe.errors.ParameterError` naming the op and the field.
        """
        try:
            return cls(**config)
        except ValidationError as exc:
            raise ParameterError(format_validation_error(cls.op_name, exc)) from None
        except (TypeError, ValueError) as exc:
            raise ParameterError(f"op {cls.op_name!r}: {exc}") from None


class PointwiseOp(Op):
    """An op whose output pixel depends on the same input pixel only.

    Subclasses give :meth:`wgsl` (WGSL source defining helper functions and
    the function named by :meth:`wgsl_function`, signature
    ``fn NAME(c: vec4<f32>, base: u32) -> vec4<f32>``, which reads its
    parameters as ``params[base + i]``) and :meth:`params` (the values at
    ``params[base]`` onward). Numbers that vary between instances belong in
    :meth:`params`, so that changing them reuses the compiled pipeline; only
    structural choices (clamp style, interpolation) may change the source.
    """

    kind: ClassVar[OpKind] = OpKind.POINTWISE

    def wgsl(self) -> str:
        raise NotImplementedError

    def wgsl_function(self) -> str:
        """Name of the per-pixel function defined in :meth:`wgsl`."""
        return self.op_name

    def params(self) -> Array:
        """Parameters packed as float32 ``(n, 4)``; ``n`` may be 0."""
        return np.zeros((0, 4), np.float32)


#: One tile of a pass over an image: (padded tile, core (y0, y1, x0, x1) in the
#: tile, (row, column) of the core in the image); see GlobalOp.statistics_from_tiles.
TileView = tuple[Array, tuple[int, int, int, int], tuple[int, int]]


class TiledGeometryOp(Op):
    """A geometry op defined by its output tiles: the whole image is one tile.

    Subclasses implement :meth:`source_region`, :meth:`reference_tile` and
    :meth:`gpu_passes_tile`; :meth:`reference` and :meth:`gpu_passes` run
    them on the tile that covers the whole output, so the untiled and tiled
    paths share one implementation.
    """

    kind: ClassVar[OpKind] = OpKind.GEOMETRY

    def reference(self, x: Array) -> Array:
        h, w = x.shape[:2]
        oh, ow = self.output_shape(h, w)
        return self.reference_tile(x, (0, h, 0, w), (0, oh, 0, ow), (h, w))

    def gpu_passes(self, height: int, width: int) -> list[GpuPass]:
        oh, ow = self.output_shape(height, width)
        return self.gpu_passes_tile((0, height, 0, width), (0, oh, 0, ow), (height, width))


@dataclass
class DeviceStatistics:
    """Statistics a global op computed on the GPU and left there.

    ``buffer`` (a WebGPU buffer, usage COPY_SRC) holds parameter rows, 16
    bytes each, that the op's passes copy in through
    :attr:`GpuPass.device_rows`. ``buffers`` are the GPU buffers the
    statistics borrowed from the backend's pool (``buffer`` among them),
    given back when the plan run ends. ``check`` and ``check_buffer``: after
    the run, the backend reads ``check_buffer`` (usage MAP_READ) and passes
    its words to ``check``, which raises
    :class:`~pixelpipe.errors.GPUError` when the statistics failed on the
    GPU; the result is then not returned.
    """

    buffer: Any
    buffers: list[Any]
    check: Callable[[npt.NDArray[np.uint32]], None] | None = None
    check_buffer: Any = None


class GlobalOp(Op):
    """An op that needs image-wide statistics before it can be applied.

    The statistics (a small float array: an airlight colour, a noise sigma,
    percentiles …) come from the op's whole input; then the op is applied
    per pixel or per neighbourhood with them. Subclasses give:

    * :meth:`statistics`: the reference statistics of the whole input;
    * :meth:`apply`: the reference result given those statistics;
    * :meth:`gpu_passes_with`: the WebGPU passes given those statistics;
    * optionally :meth:`gpu_statistics`: the statistics computed on the GPU
      from the input buffer and read back (default: the backend downloads
      the input and calls :meth:`statistics`);
    * optionally :meth:`gpu_statistics_device` with
      :meth:`gpu_passes_device`: the statistics computed on the GPU and
      consumed there by the passes, with no read-back inside the plan.

    The planner gives such an op a statistics step ahead of it. On the GPU
    it is recorded like any other work when the op offers
    :meth:`gpu_statistics_device`, and is otherwise the one synchronisation
    inside a plan. A tiled executor computes the statistics over the whole
    image before applying tile by tile.
    """

    kind: ClassVar[OpKind] = OpKind.GLOBAL

    def statistics(self, x: Array) -> npt.NDArray[Any]:
        """Statistics of the whole input ``x`` (float32 (H, W, 4)) that :meth:`apply` needs."""
        raise NotImplementedError

    def apply(self, x: Array, stats: npt.NDArray[Any]) -> Array:
        """Reference result for input ``x`` given ``stats`` from :meth:`statistics`."""
        raise NotImplementedError

    def reference(self, x: Array) -> Array:
        return self.apply(x, self.statistics(x))

    def gpu_statistics(self, backend: Any, buffer: Any, height: int,
                       width: int) -> npt.NDArray[Any] | None:
        """Statistics from the GPU ``buffer`` (RGBA f32); None: fall back to :meth:`statistics`."""
        return None

    def gpu_passes_with(self, height: int, width: int,
                        stats: npt.NDArray[Any]) -> list[GpuPass]:
        """The WebGPU passes for an input of ``(height, width)`` given ``stats``."""
        raise NotImplementedError

    def gpu_statistics_device(self, backend: Any, buffer: Any, height: int,
                              width: int) -> DeviceStatistics | None:
        """Submit the statistics kernels on ``buffer`` and leave the result on the GPU.

        None (the default): not offered; the backend uses
        :meth:`gpu_statistics` and :meth:`gpu_passes_with`.
        """
        return None

    def gpu_passes_device(self, height: int, width: int,
                          stats: DeviceStatistics) -> list[GpuPass]:
        """:meth:`gpu_passes_with` reading the statistics from ``stats`` on the GPU."""
        raise NotImplementedError

    # --- applying per tile (tiled / streaming execution) ---------------------------
    def apply_radius(self, height: int, width: int) -> int | None:
        """Halo in pixels that :meth:`apply_region` needs around a tile of a
        ``(height, width)`` image; None (the default): not tileable, the op is
        applied to its whole input."""
        return None

    def apply_region(self, x: Array, stats: npt.NDArray[Any],
                     full_shape: tuple[int, int]) -> Array:
        """Reference :meth:`apply` on a padded tile ``x`` float32 (h, w, 4) of an
        image of ``full_shape`` (height, width), with the whole image's ``stats``.

        Ops whose windows depend on the image size use ``full_shape``; the
        default ignores it. Only the pixels farther than :meth:`apply_radius`
        from a cut inside the image are exact.
        """
        return self.apply(x, stats)

    def gpu_passes_region(self, height: int, width: int, stats: npt.NDArray[Any],
                          full_shape: tuple[int, int]) -> list[GpuPass]:
        """WebGPU passes of :meth:`apply_region` for a ``(height, width)`` tile."""
        return self.gpu_passes_with(height, width, stats)

    def statistics_radius(self, height: int, width: int) -> int | None:
        """Halo in pixels that :meth:`statistics_from_tiles` needs around each tile
        of a ``(height, width)`` image; None (the default): the statistics need
        the whole image at once (the op cannot be streamed)."""
        return None

    def statistics_from_tiles(self, tiles: Callable[[], Iterable[TileView]],
                              full_shape: tuple[int, int]) -> npt.NDArray[Any]:
        """:meth:`statistics` of a ``full_shape`` image seen only tile by tile.

        Each call of ``tiles()`` is one pass over the image: it yields
        ``(tile, core, origin)``, ``tile`` float32 (h, w, 4) a region of the
        op's input padded by :meth:`statistics_radius` pixels on the sides
        inside the image, ``core`` = ``(y0, y1, x0, x1)`` the tile's own
        pixels in ``tile``'s coordinates, ``origin`` = (row, column) of the
        core's first pixel in the image; the cores cover the image once. The result
        must equal :meth:`statistics` of the whole input.
        """
        raise NotImplementedError


def format_validation_error(op_name: str, exc: ValidationError) -> str:
    """One line naming the op, each bad field and what is wrong with it."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(op)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown parameter"
        parts.append(f"{loc}: {msg}")
    return f"op {op_name!r}: " + "; ".join(parts)


def registry() -> dict[str, type[Op]]:
    """Every registered op class by ``op_name``."""
    import pixelpipe.ops  # noqa: F401  (importing the families registers them)

    return dict(Op._registry)


def get_op_class(name: str) -> type[Op]:
    """The op class called ``name``; :class:`ParameterError` listing the known names if none."""
    ops = registry()
    try:
        return ops[name]
    except KeyError:
        raise ParameterError(
            f"unknown op {name!r}; known ops: {', '.join(sorted(ops))}"
        ) from None


def pack_params(*rows: Any) -> Array:
    """Pack scalars / short sequences into float32 ``(n, 4)`` rows, one row per argument.

    Each argument is a number or a sequence of up to 4 numbers; rows are
    zero-padded to 4 lanes.
    """
    out = np.zeros((len(rows), 4), np.float32)
    for i, r in enumerate(rows):
        v = np.atleast_1d(np.asarray(r, np.float64)).ravel()
        if v.size > 4:
            raise ValueError("a parameter row holds at most 4 values")
        out[i, : v.size] = v
    return out
