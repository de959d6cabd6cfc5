"""Search strategies: random search, regularized evolution, REINFORCE with an RNN controller."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archir.frontends.spaces.space import Space
from archir.search.strategies.base import Strategy
from archir.search.strategies.evolution import RegularizedEvolution
from archir.search.strategies.random_search import RandomSearch

STRATEGIES = ("random", "evolution", "reinforce")


def make_strategy(name: str, space: Space, seed: int, options: Mapping[str, Any] | None = None) -> Strategy:
    options = dict(options or {})
    if name == "random":
        cls: type[Strategy] = RandomSearch
    elif name == "evolution":
        cls = RegularizedEvolution
    elif name == "reinforce":
        from archir.search.strategies.reinforce import Reinforce  # torch, only when asked for

        cls = Reinforce
    else:
        raise ValueError(f"unknown strategy {name!r} (known: {', '.join(STRATEGIES)})")
    try:
        return cls(space, seed, **options)
    except TypeError as e:
        raise ValueError(f"strategy {name!r}: {e}") from None


__all__ = ["STRATEGIES", "RandomSearch", "RegularizedEvolution", "Strategy", "make_strategy"]
