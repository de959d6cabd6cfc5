"""Python identifiers for generated source: IR names made legal, readable and unique."""

from __future__ import annotations

import builtins
import keyword
import re

from archir.names import claim

_ILLEGAL = re.compile(r"[^A-Za-z0-9_]")

# Names the generated file binds at module level or that a reader expects to mean the usual thing.
RESERVED = frozenset({"self", "torch", "nn", "F", "math", "np", "numpy"}) | frozenset(dir(builtins))


def identifier(text: str, fallback: str = "v") -> str:
    """``block0.dw`` -> ``block0_dw``; ``0`` -> ``v0``; keywords get a trailing underscore."""
    name = _ILLEGAL.sub("_", text).strip("_") or fallback
    if name[0].isdigit():
        name = fallback + name
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        name += "_"
    return name


def camel(text: str) -> str:
    """``normal_cell`` -> ``NormalCell`` (a class name)."""
    parts = [p for p in _ILLEGAL.sub("_", text).split("_") if p]
    name = "".join(p[:1].upper() + p[1:] for p in parts) or "Cell"
    return "Cell" + name if name[0].isdigit() else name


class Scope:
    """Hands out unique identifiers within one Python namespace (a module, a class, a function)."""

    def __init__(self, taken: set[str] | frozenset[str] = frozenset()):
        self._taken = set(taken)

    def take(self, wanted: str) -> str:
        return claim(wanted, self._taken)

    def reserve(self, *names: str) -> None:
        self._taken.update(names)
