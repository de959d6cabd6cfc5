"""What a search remembers: one record per told proposal, in the order they were told."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from archir.search.objectives.objective import Evaluation


@dataclass(frozen=True)
class Proposal:
    """A strategy's suggestion; ``info`` is the strategy's own JSON note (a parent, RL actions)."""

    assignment: dict[str, Any]
    info: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"assignment": self.assignment, "info": self.info}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Proposal:
        return cls(dict(data["assignment"]), dict(data.get("info", {})))


@dataclass(frozen=True)
class Record:
    index: int
    proposal: Proposal
    key: str  # dedupe identity (structural hash by default)
    evaluation: Evaluation
    duplicate_of: int | None = None  # the record first evaluated with this key; no budget spent

    @property
    def assignment(self) -> dict[str, Any]:
        return self.proposal.assignment

    @property
    def score(self) -> float | None:
        return self.evaluation.score

    @property
    def metrics(self) -> dict[str, float]:
        return self.evaluation.metrics

    @property
    def feasible(self) -> bool:
        return self.evaluation.feasible

    def rank(self) -> tuple[bool, float]:
        """Sort key, larger is better: feasible first, then score; failures last."""
        return (self.feasible, self.score if self.score is not None else float("-inf"))

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, **self.proposal.to_json(), "key": self.key,
                "duplicate_of": self.duplicate_of, **self.evaluation.to_json()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Record:
        return cls(data["index"], Proposal.from_json(data), data["key"], Evaluation.from_json(data),
                   data.get("duplicate_of"))
