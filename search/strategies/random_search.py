"""Random search: uniform samples of the space (each new to the search, when it can be)."""

from __future__ import annotations

from typing import Any

from archir.frontends.spaces.space import Space
from archir.search.history import Proposal, Record
from archir.search.strategies.base import Claim, Strategy


class RandomSearch(Strategy):
    name = "random"

    def __init__(self, space: Space, seed: int, *, tries: int = 20):
        super().__init__(space, seed)
        self.tries = tries

    def options(self) -> dict[str, Any]:
        return {"tries": self.tries}

    def ask(self, n: int, claim: Claim) -> list[Proposal]:
        def sample() -> dict[str, Any]:
            return self.space.sample(self.rng)

        return [Proposal(self.novel(sample, claim, self.tries), {"origin": "random"}) for _ in range(n)]

    def tell(self, proposal: Proposal, record: Record) -> None:
        pass
