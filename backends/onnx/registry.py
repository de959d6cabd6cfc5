"""The emitter table: one function per IR op name."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from archir.backends.onnx.context import Emitter
    from archir.ir import Operation

Emit = Callable[["Emitter", "Operation", list[str]], list[str]]
"""Given the op and its operands' ONNX names, add nodes and return its results' names."""

_TABLE: dict[str, Emit] = {}


def emitter(*ops: str) -> Callable[[Emit], Emit]:
    def register(fn: Emit) -> Emit:
        for name in ops:
            if name in _TABLE:
                raise ValueError(f"two ONNX emitters for '{name}'")
            _TABLE[name] = fn
        return fn

    return register


def find(op: str) -> Emit | None:
    return _TABLE.get(op)


def covered() -> set[str]:
    return set(_TABLE)
