"""Attribute kinds: each declared attribute names a kind that validates and normalises values.

Values in memory are plain immutable Python data: int, float, bool, str, tuples of those,
``DType``, ``SymbolRef`` (``@cell``) and ``ParamRef`` (``$choice``, any attribute may be one).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from archir.types import DType, ParamRef, SymbolRef, is_symbol

Coerce = Callable[[Any], Any]


class AttrError(ValueError):
    pass


def _int(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise AttrError(f"expected an int, got {v!r}")
    return v


def _float(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise AttrError(f"expected a float, got {v!r}")
    return float(v)


def _bool(v: Any) -> bool:
    if not isinstance(v, bool):
        raise AttrError(f"expected true or false, got {v!r}")
    return v


def _seq(v: Any) -> tuple:
    if not isinstance(v, (list, tuple)):
        raise AttrError(f"expected a list, got {v!r}")
    return tuple(v)


@dataclass(frozen=True)
class Kind:
    """How an attribute's value is checked and normalised (e.g. ``3`` -> ``(3, 3)``)."""

    name: str
    coerce: Coerce

    def __call__(self, value: Any) -> Any:
        return self.coerce(value)


INT = Kind("int", _int)
FLOAT = Kind("float", _float)
BOOL = Kind("bool", _bool)
STR = Kind("str", lambda v: v if isinstance(v, str) else _fail(f"expected a string, got {v!r}"))
FLOATS = Kind("floats", lambda v: tuple(_float(x) for x in _seq(v)))
SYM = Kind("symbol", lambda v: v if isinstance(v, SymbolRef) else _fail(f"expected @name, got {v!r}"))


def _fail(msg: str) -> Any:
    raise AttrError(msg)


def _dtype(v: Any) -> DType:
    try:
        return DType(v)
    except ValueError:
        raise AttrError(f"expected a dtype ({', '.join(d.value for d in DType)}), got {v!r}") from None


DTYPE = Kind("dtype", _dtype)


def one_of(*choices: str) -> Kind:
    def coerce(v: Any) -> str:
        if v not in choices:
            raise AttrError(f"expected one of {', '.join(map(repr, choices))}, got {v!r}")
        return v

    return Kind("|".join(choices), coerce)


def ints(length: int | None = None, *, min_value: int | None = None) -> Kind:
    """A tuple of ints; with a fixed ``length`` a single int is broadcast (``3`` -> ``(3, 3)``)."""

    def coerce(v: Any) -> tuple[int, ...]:
        if length is not None and isinstance(v, int) and not isinstance(v, bool):
            v = (v,) * length
        out = tuple(_int(x) for x in _seq(v))
        if length is not None and len(out) != length:
            raise AttrError(f"expected {length} ints, got {len(out)}")
        if min_value is not None and any(x < min_value for x in out):
            raise AttrError(f"expected ints >= {min_value}, got {list(out)}")
        return out

    return Kind(f"ints[{length or ''}]", coerce)


def pads(spatial: int) -> Kind:
    """Padding: ``"same"`` ((kernel-1)·dilation/2 each side), one int, one per spatial dim
    (symmetric), or begin values then end values (ONNX order)."""

    def coerce(v: Any) -> str | tuple[int, ...]:
        if v == "same":
            return v
        if isinstance(v, int) and not isinstance(v, bool):
            v = (v,) * spatial
        out = tuple(_int(x) for x in _seq(v))
        if len(out) not in (spatial, 2 * spatial) or any(x < 0 for x in out):
            raise AttrError(f"expected \"same\" or {spatial} or {2 * spatial} ints >= 0, got {v!r}")
        return out

    return Kind("pads", coerce)


def _dims(v: Any) -> tuple[int | str, ...]:
    out = []
    for d in _seq(v):
        if isinstance(d, str) and is_symbol(d):
            out.append(d)
        else:
            out.append(_int(d))
    return tuple(out)


DIMS = Kind("dims", _dims)
"""A shape: ints (``-1`` infers one dim) and symbols such as ``N``."""

_REQUIRED = object()


@dataclass(frozen=True)
class Attr:
    """An attribute declaration: its kind and its default (none means required)."""

    kind: Kind
    default: Any = _REQUIRED
    doc: str = ""

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED

    def check(self, value: Any) -> Any:
        """Normalise ``value``; a ``$param`` reference passes through (its domain is checked)."""
        if isinstance(value, ParamRef):
            return value
        return self.kind(value)


def format_value(v: Any) -> str:
    """The text form of an attribute value (deterministic; inverse of the parser)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, SymbolRef, ParamRef)):
        return str(v)
    if isinstance(v, DType):
        return f'"{v.value}"'
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(v, tuple):
        return "[" + ", ".join(format_value(x) for x in v) + "]"
    raise TypeError(f"not an attribute value: {v!r}")
