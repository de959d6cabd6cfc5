"""Runners evaluate a batch of candidates and return results in the batch's order.

Every runner evaluates with the same code (``Objective.evaluate``) and the same torch thread
count, so which runner evaluated never changes a result, only how long it took.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from archir.search.candidate import Candidate
from archir.search.config import SearchConfig
from archir.search.objectives.objective import Evaluation


class Runner(ABC):
    name = "runner"

    def start(self, config: SearchConfig) -> None:
        """Called once before the first batch, with the search's configuration."""
        self.config = config

    @abstractmethod
    def evaluate(self, candidates: Sequence[Candidate]) -> list[Evaluation]: ...

    def close(self) -> None:  # noqa: B027  (optional: only runners with workers release any)
        """Release workers; the runner can be started again."""

    def describe(self) -> str:
        return self.name

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InProcess(Runner):
    """Evaluates in this process, one candidate after another (reusing the IR the search built)."""

    name = "in-process"

    def evaluate(self, candidates: Sequence[Candidate]) -> list[Evaluation]:
        return [self.config.objective.evaluate(c) for c in candidates]
