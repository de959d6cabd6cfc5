"""Regularized (aging) evolution (Real et al., AAAI 2019).

Start from ``population`` random architectures; then each child comes from a tournament: draw
``sample`` members uniformly, mutate the best (one decision changed, ``mutate_assignment``),
and the child joins the population while the *oldest* member leaves, not the worst. Ageing
keeps lucky evaluations from ruling forever. Defaults P = 100, S = 25 (the paper's and NNI's).

Children asked for in one batch all come from the population as it was told so far (the
paper's asynchronous workers); the search's budget ends the loop (NNI #4421, #4891).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from archir.frontends.spaces.space import Space
from archir.search.history import Proposal, Record
from archir.search.mutations import Rejected, mutate_assignment
from archir.search.strategies.base import Claim, Strategy


class RegularizedEvolution(Strategy):
    name = "evolution"

    def __init__(self, space: Space, seed: int, *, population: int = 100, sample: int = 25, tries: int = 20):
        super().__init__(space, seed)
        if population < 1 or not 1 <= sample <= population:
            raise ValueError(f"evolution needs population >= 1 and 1 <= sample <= population, "
                             f"got population={population}, sample={sample}")
        self.population_size, self.sample_size, self.tries = population, sample, tries
        self.population: deque[Record] = deque()
        self.initial_asked = 0

    def options(self) -> dict[str, Any]:
        return {"population": self.population_size, "sample": self.sample_size, "tries": self.tries}

    def ask(self, n: int, claim: Claim) -> list[Proposal]:
        out = []
        for _ in range(n):
            if self.initial_asked < self.population_size or not self.population:
                self.initial_asked += 1
                a = self.novel(lambda: self.space.sample(self.rng), claim, self.tries)
                out.append(Proposal(a, {"origin": "random"}))
                continue
            members = list(self.population)
            contenders = self.rng.sample(members, min(self.sample_size, len(members)))
            parent = max(contenders, key=Record.rank)  # feasible first; first of equals: deterministic
            a = self.novel(lambda p=parent: self._mutant(p), claim, self.tries)
            out.append(Proposal(a, {"origin": "mutation", "parent": parent.index}))
        return out

    def _mutant(self, parent: Record) -> dict[str, Any]:
        try:
            return mutate_assignment(self.space, parent.assignment, self.rng).assignment
        except Rejected:  # no single change keeps it valid: a fresh sample keeps the search going
            return self.space.sample(self.rng)

    def tell(self, proposal: Proposal, record: Record) -> None:
        self.population.append(record)
        if len(self.population) > self.population_size:
            self.population.popleft()

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, arrays = super().state()
        return {**state, "population": [r.index for r in self.population],
                "initial_asked": self.initial_asked}, arrays

    def load_state(self, state: Mapping[str, Any], arrays: Mapping[str, np.ndarray],
                   records: Sequence[Record]) -> None:
        super().load_state(state, arrays, records)
        self.population = deque(records[i] for i in state["population"])
        self.initial_asked = state["initial_asked"]
