"""What an objective is made of: measures that compute named metrics of a candidate.

A measure is a frozen dataclass with a ``kind``; its fields are its JSON configuration, so a
worker process (pool, Ray) or a resumed search rebuilds exactly the same measure.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from archir.search.candidate import Candidate


class EvaluationError(Exception):
    """This candidate cannot be measured (a dead network, an overflow); the search goes on."""


class Measure(ABC):
    kind: ClassVar[str]
    uses_torch: ClassVar[bool] = False

    @property
    def metrics(self) -> tuple[str, ...]:
        """The metric names ``measure`` returns (one, named like the measure, unless overridden)."""
        return (self.kind,)

    @abstractmethod
    def measure(self, candidate: Candidate) -> dict[str, float]: ...

    def describe(self) -> str:
        return self.kind

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, **dataclasses.asdict(self)}  # type: ignore[call-overload]


MEASURES: dict[str, type[Measure]] = {}


def register(cls: type[Measure]) -> type[Measure]:
    if cls.kind in MEASURES:
        raise ValueError(f"measure kind {cls.kind!r} registered twice")
    MEASURES[cls.kind] = cls
    return cls


def measure_from_json(data: Mapping[str, Any]) -> Measure:
    fields = dict(data)
    kind = fields.pop("kind", None)
    cls = MEASURES.get(kind)  # type: ignore[arg-type]
    if cls is None:
        raise ValueError(f"unknown measure kind {kind!r} (known: {', '.join(sorted(MEASURES))})")
    try:
        return cls(**fields)
    except TypeError as e:
        raise ValueError(f"measure {kind!r}: {e}") from None
