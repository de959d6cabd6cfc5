"""A search's configuration (JSON, saved in its checkpoint) and its budget (not saved: a resumed
search gets a new one)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from archir.search.candidate import DEDUPE_MODES
from archir.search.objectives.objective import Objective
from archir.search.spaces import SpaceSpec


@dataclass(frozen=True)
class SearchConfig:
    space: SpaceSpec
    objective: Objective
    strategy: str = "evolution"
    strategy_options: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 0
    batch_size: int = 8  # proposals per ask; fixed by the config, never by the runner's width
    dedupe: str = "hash"

    def __post_init__(self) -> None:
        object.__setattr__(self, "strategy_options", dict(self.strategy_options))
        if self.batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        if self.dedupe not in DEDUPE_MODES:
            raise ValueError(f"dedupe must be one of {DEDUPE_MODES}, not {self.dedupe!r}")

    def worker_json(self) -> dict[str, Any]:
        """What a worker needs to evaluate: the space and the objective."""
        return {"space": self.space.to_json(), "objective": self.objective.to_json()}

    def to_json(self) -> dict[str, Any]:
        return {**self.worker_json(), "strategy": self.strategy,
                "strategy_options": dict(self.strategy_options), "seed": self.seed,
                "batch_size": self.batch_size, "dedupe": self.dedupe}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SearchConfig:
        return cls(SpaceSpec.from_json(data["space"]), Objective.from_json(data["objective"]),
                   data["strategy"], data.get("strategy_options", {}), data["seed"], data["batch_size"],
                   data["dedupe"])


@dataclass(frozen=True)
class Budget:
    """Stop after ``evaluations`` new architectures and/or ``seconds`` of search (whichever first).

    Duplicates spend nothing; ``duplicate_streak`` of them in a row means the strategy has
    nothing new to propose (a small space seen whole, a converged controller), and stops it.
    """

    evaluations: int | None = None
    seconds: float | None = None
    duplicate_streak: int = 1000

    def __post_init__(self) -> None:
        if self.evaluations is None and self.seconds is None:
            raise ValueError("a search needs a budget: evaluations and/or seconds")
        if self.evaluations is not None and self.evaluations < 0:
            raise ValueError("the evaluation budget must be >= 0")
        if self.seconds is not None and self.seconds <= 0:
            raise ValueError("the time budget must be positive")
