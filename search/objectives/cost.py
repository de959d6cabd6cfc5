"""Parameters and MACs from ``archir.cost`` (the cost analysis pass)."""

from __future__ import annotations

from dataclasses import dataclass

from archir.search.candidate import Candidate
from archir.search.objectives.base import Measure, register


@register
@dataclass(frozen=True)
class Cost(Measure):
    kind = "cost"

    @property
    def metrics(self) -> tuple[str, ...]:
        return ("params", "macs")

    def measure(self, candidate: Candidate) -> dict[str, float]:
        from archir.passes.cost import cost

        report = cost(candidate.module)
        return {"params": float(report.params), "macs": float(report.macs)}
