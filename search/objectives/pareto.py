"""Pareto fronts by non-dominated sorting (Deb et al., NSGA-II, 2002).

A point *dominates* another when it is at least as good on every axis and strictly better on
one. Front 0 holds the points nobody dominates; front k those dominated only by fronts < k.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

DIRECTIONS = ("max", "min")


@dataclass(frozen=True)
class Axis:
    metric: str
    direction: str  # "max" or "min"

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"axis direction must be 'max' or 'min', not {self.direction!r}")


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """``a`` dominates ``b``, both given so that larger is better on every axis."""
    return all(x >= y for x, y in zip(a, b)) and any(x > y for x, y in zip(a, b))


def non_dominated_sort(points: Sequence[Sequence[float]], axes: Sequence[Axis]) -> list[list[int]]:
    """Indices of ``points`` grouped into fronts, best front first, each in index order."""
    if any(len(p) != len(axes) for p in points):
        raise ValueError(f"every point needs {len(axes)} values, one per axis")
    sign = [1.0 if a.direction == "max" else -1.0 for a in axes]
    pts = [[s * v for s, v in zip(sign, p)] for p in points]
    n = len(pts)
    beats: list[list[int]] = [[] for _ in range(n)]  # who each point dominates
    beaten_by = [0] * n  # how many points dominate it
    for i in range(n):
        for j in range(i + 1, n):
            if dominates(pts[i], pts[j]):
                beats[i].append(j)
                beaten_by[j] += 1
            elif dominates(pts[j], pts[i]):
                beats[j].append(i)
                beaten_by[i] += 1
    fronts: list[list[int]] = []
    current = [i for i in range(n) if beaten_by[i] == 0]
    while current:
        fronts.append(sorted(current))
        following = []
        for i in current:
            for j in beats[i]:
                beaten_by[j] -= 1
                if beaten_by[j] == 0:
                    following.append(j)
        current = following
    return fronts


def pareto_front(points: Sequence[Sequence[float]], axes: Sequence[Axis]) -> list[int]:
    fronts = non_dominated_sort(points, axes)
    return fronts[0] if fronts else []
