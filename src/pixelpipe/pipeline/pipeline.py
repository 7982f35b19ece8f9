"""The user-facing :class:`Pipeline`."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, overload

import numpy as np
import numpy.typing as npt

from pixelpipe.errors import ParameterError, PipelineError
from pixelpipe.image import Image
from pixelpipe.ops.base import Op, get_op_class
from pixelpipe.pipeline.plan import Plan, plan
from pixelpipe.samples import channels_of
from pixelpipe.samples import from_rgba as from_rgba
from pixelpipe.samples import to_rgba as to_rgba


class Pipeline:
    """An ordered chain of catalogue ops.

    Parameters
    ----------
    ops : sequence of Op
        Instances from :mod:`pixelpipe.ops`, applied in order.

    Examples
    --------
    >>> import numpy as np, pixelpipe
    >>> from pixelpipe import ops
    >>> p = pixelpipe.Pipeline([ops.Exposure(stops=1.0)])
    >>> p.run(np.full((2, 2, 3), 0.25, np.float32), backend="cpu")[0, 0]
    array([0.5, 0.5, 0.5], dtype=float32)
    """

    def __init__(self, ops: Sequence[Op]) -> None:
        for op in ops:
            if not isinstance(op, Op):
                raise ParameterError(f"Pipeline takes op instances, got {type(op).__name__}")
        self.ops: tuple[Op, ...] = tuple(ops)

    def __repr__(self) -> str:
        return f"Pipeline({list(self.ops)!r})"

    def __len__(self) -> int:
        return len(self.ops)

    def plan(self) -> Plan:
        """The fused, backend-independent plan (see :mod:`pixelpipe.pipeline.plan`)."""
        return plan(self.ops)

    @overload
    def run(self, x: Image, backend: Any = ..., out_dtype: Any = ...) -> Image: ...
    @overload
    def run(self, x: npt.NDArray[Any], backend: Any = ...,
            out_dtype: Any = ...) -> npt.NDArray[Any]: ...

    def run(self, x: Image | npt.NDArray[Any], backend: Any = "auto",
            out_dtype: Any = None, tile_size: int | None = None,
            memory_limit: int | str | None = None) -> Any:
        """Run the pipeline on ``x``.

        Parameters
        ----------
        x : Image or ndarray
            An :class:`~pixelpipe.Image`, or samples ``(H, W)`` / ``(H, W, C)``
            with C in {1, 3, 4}: float16/32/64 taken as they are, uint8 and
            uint16 scaled to [0, 1] by ``1 / (2**bits - 1)``.
        backend : {"auto", "cpu", "wgpu"} or Backend
            Where to run. ``"auto"`` takes a hardware GPU adapter when there
            is one, else the CPU (with a one-line notice on stderr). A named
            backend that cannot start raises
            :class:`~pixelpipe.errors.BackendUnavailable`.
        out_dtype : None or uint8, uint16, float16, float32
            The sample type of the result (default float32), quantised as
            :mod:`pixelpipe.samples` says; for an Image input the result's
            ``samples`` hold it. On the WebGPU backend the conversion runs on
            the device, so only the result's own bytes are downloaded.
        tile_size, memory_limit : optional
            Override the executor's choice (see ``docs/strategies.md``): an
            image whose buffers exceed the device's limits or the memory
            budget (default: a share of the available RAM) runs tile by tile
            with halos, with the same result as in one pass.

        Returns
        -------
        Image or ndarray
            Same kind as ``x``, same channel count, size given by the plan
            (geometry ops change it).
        """
        from pixelpipe.backends import get_backend

        be = get_backend(backend)
        # an Image decoded from 8/16-bit samples hands those over: they cross
        # the bus in their own type and are converted on the device
        arr = x.pixels if isinstance(x, Image) else np.asarray(x)
        channels_of(arr)  # one clear error for a bad shape, before any work
        dtype = np.dtype(np.float32 if out_dtype is None else out_dtype)
        from pixelpipe.exec import execute

        out, _ = execute(self.plan(), arr, be, memory_limit=memory_limit, tile_size=tile_size,
                         out_dtype=dtype)
        if out.ndim == 2:
            out = out[..., None]
        if isinstance(x, Image):
            return x.with_array(out) if dtype == np.float32 else x.with_samples(out)
        if arr.ndim == 2:
            return out[..., 0]
        return out

    # --- construction --------------------------------------------------------
    @classmethod
    def from_config(cls, tables: Iterable[dict[str, Any]], base_dir: Path | None = None,
                    source: str = "pipeline") -> Pipeline:
        """Build from a list of op tables (``{"op": name, **params}``)."""
        ops: list[Op] = []
        for i, table in enumerate(tables):
            if not isinstance(table, dict):
                raise PipelineError(
                    f"{source}: ops[{i}] must be a table, got {type(table).__name__}"
                )
            table = dict(table)
            name = table.pop("op", None)
            if not isinstance(name, str):
                raise PipelineError(f"{source}: ops[{i}] has no 'op = \"name\"' key")
            try:
                ops.append(get_op_class(name).from_config(table, base_dir))
            except ParameterError as exc:
                raise ParameterError(f"{source}: ops[{i}]: {exc}") from None
        return cls(ops)

    @classmethod
    def from_toml(cls, path: str | Path) -> Pipeline:
        """Read a pipeline file: an array of ``[[ops]]`` tables, each with ``op = "name"``.

        Relative paths inside (e.g. a LUT's ``path``) resolve against the
        file's folder. Raises :class:`~pixelpipe.errors.PipelineError` (bad
        TOML, missing ``op``) or :class:`~pixelpipe.errors.ParameterError`
        (unknown op, bad parameter), naming the file.
        """
        p = Path(path)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise PipelineError(f"{p}: no such pipeline file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise PipelineError(f"{p}: cannot read: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise PipelineError(f"{p}: invalid TOML: {exc}") from None
        unknown = set(data) - {"ops", "metadata"}
        if unknown:
            raise PipelineError(f"{p}: unknown top-level key(s): {', '.join(sorted(unknown))}")
        tables = data.get("ops")
        if not isinstance(tables, list) or not tables:
            raise PipelineError(f"{p}: expected one or more [[ops]] tables")
        return cls.from_config(tables, base_dir=p.parent, source=str(p))

    @classmethod
    def from_strings(cls, specs: Sequence[str], base_dir: Path | None = None) -> Pipeline:
        """Build from ``--op`` strings such as ``"cdl slope=1.1,1,0.9 power=1,1.1,0.95"``.

        Values: comma-separated lists become lists of numbers, numbers become
        numbers, ``true``/``false`` booleans, anything else a string.
        """
        return cls.from_config([parse_op_string(s) for s in specs], base_dir=base_dir,
                               source="--op")


def _parse_value(text: str) -> Any:
    if "," in text:
        return [_parse_value(t) for t in text.split(",") if t != ""]
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return text


def parse_op_string(spec: str) -> dict[str, Any]:
    """``"name k=v k=v"`` -> ``{"op": name, k: v, ...}``; :class:`PipelineError` if malformed."""
    words = spec.split()
    if not words:
        raise PipelineError("--op: empty op specification")
    table: dict[str, Any] = {"op": words[0]}
    for w in words[1:]:
        key, sep, val = w.partition("=")
        if not sep or not key or val == "":
            raise PipelineError(f"--op {spec!r}: expected key=value, got {w!r}")
        table[key] = _parse_value(val)
    return table
