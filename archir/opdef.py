"""Op declarations: every op kind is declared once; builder, printer, parser, verifier,
cost analysis and backends all read the declaration."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from archir.attrs import Attr
from archir.types import TensorType

Shape = tuple[int | str, ...]
Infer = Callable[[tuple[TensorType, ...], Mapping[str, Any]], tuple[TensorType, ...]]
ParamShapes = Callable[[tuple[TensorType, ...], Mapping[str, Any]], dict[str, Shape]]


class InferError(ValueError):
    """Raised by an op's result-type inference when operands and attributes do not fit."""


@dataclass(frozen=True)
class OpDef:
    """One op kind.

    ``operands`` names the tensor operands; a trailing ``?`` marks an optional one and a
    trailing ``*`` a variadic tail. ``infer`` computes result types from operand types and
    attributes; it is None only for ops typed by the module (``call``, ``choice``).
    ``params`` gives the shapes of the op's learnable weights (None: the op has none).
    """

    name: str
    operands: tuple[str, ...]
    attrs: Mapping[str, Attr]
    infer: Infer | None
    family: str
    params: ParamShapes | None = None
    commutative: bool = False
    doc: str = ""
    _arity: tuple[int, int | None] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        required = sum(1 for o in self.operands if not o.endswith(("?", "*")))
        variadic = any(o.endswith("*") for o in self.operands)
        object.__setattr__(self, "_arity", (required, None if variadic else len(self.operands)))

    def check_arity(self, count: int) -> str | None:
        lo, hi = self._arity
        if count < lo or (hi is not None and count > hi):
            want = f"{lo}" if lo == hi else f"{lo}..{hi if hi is not None else ''}"
            return f"'{self.name}' takes {want} operands, got {count}"
        return None

    def normalize_attrs(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Fill defaults and normalise values; raise ``AttrError`` naming the attribute."""
        from archir.attrs import AttrError

        unknown = sorted(set(given) - set(self.attrs))
        if unknown:
            raise AttrError(
                f"'{self.name}' has no attribute {', '.join(unknown)}"
                f" (it has: {', '.join(self.attrs) or 'none'})"
            )
        out: dict[str, Any] = {}
        for key, decl in self.attrs.items():
            if key in given:
                try:
                    out[key] = decl.check(given[key])
                except AttrError as e:
                    raise AttrError(f"attribute '{key}' of '{self.name}': {e}") from None
            elif decl.required:
                raise AttrError(f"'{self.name}' needs attribute '{key}'")
            else:
                out[key] = decl.default
        return out


OPS: dict[str, OpDef] = {}


def declare(
    name: str,
    operands: tuple[str, ...] | str,
    infer: Infer | None,
    *,
    family: str,
    attrs: Mapping[str, Attr] | None = None,
    params: ParamShapes | None = None,
    commutative: bool = False,
    doc: str = "",
) -> OpDef:
    if name in OPS:
        raise ValueError(f"op '{name}' declared twice")
    if isinstance(operands, str):
        operands = tuple(operands.split())
    op = OpDef(name, operands, dict(attrs or {}), infer, family, params, commutative, doc)
    OPS[name] = op
    return op


def lookup(name: str) -> OpDef | None:
    return OPS.get(name)
