"""An objective: measures (metrics of a candidate), a goal and constraints (the score).

``evaluate`` never raises for a bad candidate: the error is recorded with it, so one network
the backend cannot run does not end a search of thousands.
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from archir.search.candidate import Candidate
from archir.search.objectives.base import EvaluationError, Measure, measure_from_json
from archir.search.objectives.reward import Constraint, Goal


@dataclass(frozen=True)
class Evaluation:
    metrics: dict[str, float]
    score: float | None  # None when the evaluation failed
    feasible: bool
    error: str | None = None
    seconds: float = field(default=0.0, compare=False)  # wall time: not part of the result's identity

    def to_json(self) -> dict[str, Any]:
        return {"metrics": self.metrics, "score": self.score, "feasible": self.feasible, "error": self.error,
                "seconds": round(self.seconds, 6)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Evaluation:
        return cls(dict(data["metrics"]), data["score"], data["feasible"], data.get("error"),
                   data.get("seconds", 0.0))


@dataclass(frozen=True)
class Objective:
    measures: tuple[Measure, ...]
    goal: Goal
    constraints: tuple[Constraint, ...] = ()
    threads: int = 1  # torch intra-op threads while measuring (see torch_threads)
    _provided: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "measures", tuple(self.measures))
        object.__setattr__(self, "constraints", tuple(self.constraints))
        provided = [m for measure in self.measures for m in measure.metrics]
        twice = sorted({m for m in provided if provided.count(m) > 1})
        if twice:
            raise ValueError(f"metrics {twice} are computed by more than one measure")
        object.__setattr__(self, "_provided", frozenset(provided))
        needed = [self.goal.metric, *(c.metric for c in self.constraints)]
        missing = [m for m in needed if m not in self._provided]
        if missing:
            raise ValueError(f"no measure computes {missing}; the measures give {sorted(self._provided)}")
        if self.threads < 1:
            raise ValueError("threads must be >= 1")

    @property
    def metric_names(self) -> tuple[str, ...]:
        return tuple(m for measure in self.measures for m in measure.metrics)

    def check(self, space) -> None:
        """Refuse, before a search starts, a measure that cannot work on ``space``."""
        from archir.search.objectives.latency import NOTE10, Latency, check_note10_space

        for m in self.measures:
            if isinstance(m, Latency) and m.target == NOTE10:
                check_note10_space(space)

    def score(self, metrics: Mapping[str, float]) -> tuple[float, bool]:
        value = self.goal.value(metrics)
        feasible = True
        for c in self.constraints:
            value *= c.factor(metrics)
            feasible = feasible and c.satisfied(metrics)
        return value, feasible

    def evaluate(self, candidate: Candidate) -> Evaluation:
        start = time.perf_counter()
        metrics: dict[str, float] = {}
        try:
            if any(m.uses_torch for m in self.measures):
                from archir.search.objectives.torch_util import torch_threads

                with torch_threads(self.threads):
                    for m in self.measures:
                        metrics.update(m.measure(candidate))
            else:
                for m in self.measures:
                    metrics.update(m.measure(candidate))
            bad = [k for k, v in metrics.items() if not math.isfinite(v)]
            if bad:
                raise EvaluationError(f"non-finite metrics: {', '.join(f'{k}={metrics[k]}' for k in bad)}")
            score, feasible = self.score(metrics)
        except EvaluationError as e:
            return Evaluation(metrics, None, False, str(e), time.perf_counter() - start)
        except Exception as e:  # recorded with the candidate (see the module doc)
            where = traceback.extract_tb(e.__traceback__)[-1]
            error = f"{type(e).__name__}: {e} (at {where.filename}:{where.lineno})"
            return Evaluation(metrics, None, False, error, time.perf_counter() - start)
        return Evaluation(metrics, score, feasible, None, time.perf_counter() - start)

    def describe(self) -> str:
        parts = [self.goal.describe()] + [f"subject to {c.describe()}" for c in self.constraints]
        return "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {"measures": [m.to_json() for m in self.measures], "goal": self.goal.to_json(),
                "constraints": [c.to_json() for c in self.constraints], "threads": self.threads}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Objective:
        return cls(tuple(measure_from_json(m) for m in data["measures"]), Goal(**data["goal"]),
                   tuple(Constraint(**c) for c in data.get("constraints", ())), data.get("threads", 1))


def build_objective(measures: Sequence[Measure], goal: str | Goal, *, max_latency_ms: float | None = None,
                    max_params: float | None = None, max_macs: float | None = None, reward: str = "hard",
                    threads: int = 1) -> Objective:
    """The usual composition: latency under MnasNet's ``reward`` (hard or soft), params/MACs hard."""
    if reward not in ("hard", "soft"):
        raise ValueError(f"reward must be 'hard' or 'soft', not {reward!r}")
    constraints = []
    if max_latency_ms is not None:
        make = Constraint.hard if reward == "hard" else Constraint.soft
        constraints.append(make("latency_ms", max_latency_ms))
    if max_params is not None:
        constraints.append(Constraint.hard("params", max_params))
    if max_macs is not None:
        constraints.append(Constraint.hard("macs", max_macs))
    return Objective(tuple(measures), goal if isinstance(goal, Goal) else Goal(goal), tuple(constraints),
                     threads)
