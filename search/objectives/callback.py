"""A user's own measure: a module-level function ``fn(candidate) -> float | {name: float}``.

It is referenced by name (``package.module:function``) so a checkpoint records it and a worker
process (pool, Ray) imports the same function; lambdas and closures cannot be, and are refused.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from archir.search.candidate import Candidate
from archir.search.objectives.base import Measure, register


def resolve(ref: str) -> Callable[[Candidate], Any]:
    module, sep, name = ref.partition(":")
    if not sep or not module or not name:
        raise ValueError(f"a callback is 'package.module:function', got {ref!r}")
    try:
        obj: Any = importlib.import_module(module)
    except ImportError as e:
        raise ValueError(f"callback {ref!r}: cannot import {module!r}: {e}") from None
    for part in name.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"callback {ref!r}: {module!r} has no {name!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ValueError(f"callback {ref!r} is not callable")
    return obj


def reference(fn: Callable[..., Any]) -> str:
    """``module:qualname`` of a function that importing by that name gives back."""
    ref = f"{getattr(fn, '__module__', '')}:{getattr(fn, '__qualname__', '')}"
    if "<" in ref or ref.startswith(":"):
        raise ValueError(f"callback {fn!r} must be a module-level function: searches refer to it by "
                         "name in checkpoints and in worker processes")
    if resolve(ref) is not fn:
        raise ValueError(f"importing {ref!r} does not give back {fn!r}")
    return ref


@register
@dataclass(frozen=True)
class Callback(Measure):
    kind = "callback"
    ref: str
    names: tuple[str, ...] = ("value",)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(self.names))
        if not self.names:
            raise ValueError("a callback measure needs at least one metric name")
        resolve(self.ref)

    @classmethod
    def of(cls, fn: Callable[[Candidate], Any], names: Sequence[str] = ("value",)) -> Callback:
        return cls(reference(fn), tuple(names))

    @property
    def metrics(self) -> tuple[str, ...]:
        return self.names

    def describe(self) -> str:
        return f"callback {self.ref}"

    def measure(self, candidate: Candidate) -> dict[str, float]:
        out = resolve(self.ref)(candidate)
        if not isinstance(out, Mapping):
            if len(self.names) != 1:
                raise ValueError(f"callback {self.ref} returned one number but declares {list(self.names)}")
            out = {self.names[0]: out}
        missing = [n for n in self.names if n not in out]
        if missing:
            raise ValueError(f"callback {self.ref} did not return {missing}")
        return {n: float(out[n]) for n in self.names}
