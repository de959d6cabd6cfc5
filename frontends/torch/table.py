"""The conversion table: torch op name → converter, filled by the family modules.

A converter takes the ``Lowering`` and the node's arguments bound by schema name and
returns the IR value(s) of the node. An optional ``check`` sees the same arguments before
anything is built and returns why this use of the op cannot be lowered (or None), so that
one scan can report every problem at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Convert = Callable[[Any, dict[str, Any]], Any]
Check = Callable[[Any, dict[str, Any]], str | None]


@dataclass(frozen=True)
class Entry:
    convert: Convert
    check: Check | None = None


TABLE: dict[str, Entry] = {}


def converts(*names: str, check: Check | None = None) -> Callable[[Convert], Convert]:
    """Register a converter for ops named like ``aten.relu.default`` (``getitem`` for
    ``operator.getitem``)."""

    def register(fn: Convert) -> Convert:
        for name in names:
            if name in TABLE:
                raise ValueError(f"two converters for {name}")
            TABLE[name] = Entry(fn, check)
        return fn

    return register


def lookup(name: str) -> Entry | None:
    if not TABLE:
        _load_families()
    return TABLE.get(name)


def _load_families() -> None:
    from archir.frontends.torch import (  # noqa: F401  (each module registers its converters)
        activation,
        arith,
        attention,
        conv,
        index,
        norm,
        pool,
        reduce,
        shape,
    )
