"""The scalar every strategy maximises, in MnasNet's form (Tan et al., CVPR 2019):

    score = goal · Π_c (value_c / limit_c) ^ w_c,   w_c = α_c if value_c ≤ limit_c else β_c

With an accuracy goal and a latency constraint this is MnasNet's reward ACC·(LAT/T)^w:
soft constraint α = β = −0.07 (2× latency costs ~5% relative accuracy, 2^−0.07 ≈ 0.953);
hard constraint α = 0, β = −1 (free under the limit, proportional penalty over it). Every
other constraint (params, MACs) is hard. A candidate is *feasible* when every value is within
every *limit*: a constraint with α = 0 (free under the limit, as the hard one). A soft
constraint is a target traded against the goal on both sides, never a limit.

Strategies that compare candidates (evolution's tournaments, the reported best) put feasible
ones first, then the score: with a goal that grows as fast as latency (MACs), the product
alone would rate a network over the limit above every one under it. REINFORCE, which needs a
number, is rewarded with the score itself, as MnasNet's controller was.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SOFT_W = -0.07
GOAL_MODES = ("maximize", "minimize")


@dataclass(frozen=True)
class Goal:
    """The base of the score: the metric itself (maximize) or its reciprocal (minimize), > 0."""

    metric: str
    mode: str = "maximize"

    def __post_init__(self) -> None:
        if self.mode not in GOAL_MODES:
            raise ValueError(f"goal mode must be one of {GOAL_MODES}, not {self.mode!r}")

    def value(self, metrics: Mapping[str, float]) -> float:
        v = metrics[self.metric]
        if self.mode == "minimize":
            if v <= 0:
                raise ValueError(f"cannot minimise {self.metric} = {v}: the score is 1/{self.metric}")
            return 1.0 / v
        if v < 0:
            raise ValueError(f"{self.metric} = {v} is negative: the MnasNet product needs a goal >= 0")
        return v

    def describe(self) -> str:
        return f"{self.mode} {self.metric}"

    def to_json(self) -> dict[str, Any]:
        return {"metric": self.metric, "mode": self.mode}


@dataclass(frozen=True)
class Constraint:
    metric: str
    limit: float
    alpha: float = 0.0  # exponent within the limit
    beta: float = -1.0  # exponent over the limit

    def __post_init__(self) -> None:
        if not self.limit > 0:
            raise ValueError(f"the limit on {self.metric} must be positive, got {self.limit}")

    @classmethod
    def hard(cls, metric: str, limit: float) -> Constraint:
        return cls(metric, float(limit), 0.0, -1.0)

    @classmethod
    def soft(cls, metric: str, limit: float) -> Constraint:
        return cls(metric, float(limit), SOFT_W, SOFT_W)

    @property
    def kind(self) -> str:
        if (self.alpha, self.beta) == (0.0, -1.0):
            return "hard"
        if self.alpha == self.beta == SOFT_W:
            return "soft"
        return f"α={self.alpha}, β={self.beta}"

    @property
    def is_limit(self) -> bool:
        return self.alpha == 0

    def satisfied(self, metrics: Mapping[str, float]) -> bool:
        return not self.is_limit or metrics[self.metric] <= self.limit

    def factor(self, metrics: Mapping[str, float]) -> float:
        v = metrics[self.metric]
        w = self.alpha if v <= self.limit else self.beta
        if w == 0:
            return 1.0
        if v <= 0:
            raise ValueError(f"{self.metric} = {v}: a constraint with exponent {w} needs a positive value")
        return (v / self.limit) ** w

    def describe(self) -> str:
        return f"{self.metric} <= {self.limit:g} ({self.kind})"

    def to_json(self) -> dict[str, Any]:
        return {"metric": self.metric, "limit": self.limit, "alpha": self.alpha, "beta": self.beta}
