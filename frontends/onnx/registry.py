"""The conversion table: ONNX op type and the opset version a converter applies from."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from archir.frontends.onnx.context import Context, Node

Converter = Callable[["Context", "Node"], None]

_TABLE: dict[str, list[tuple[int, Converter]]] = {}


def converter(*op_types: str, since: int = 1) -> Callable[[Converter], Converter]:
    """Register ``fn`` for ``op_types`` from opset ``since`` on (until a newer entry)."""

    def register(fn: Converter) -> Converter:
        for op_type in op_types:
            entries = _TABLE.setdefault(op_type, [])
            if any(s == since for s, _ in entries):
                raise ValueError(f"two converters for {op_type} since opset {since}")
            entries.append((since, fn))
            entries.sort(key=lambda e: e[0])
        return fn

    return register


def find(op_type: str, opset: int) -> Converter | None:
    """The converter for ``op_type`` in effect at ``opset`` (the newest ``since`` <= opset)."""
    best = None
    for since, fn in _TABLE.get(op_type, ()):
        if since <= opset:
            best = fn
    return best


def supported() -> list[str]:
    return sorted(_TABLE)
