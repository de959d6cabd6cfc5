"""The strategy interface: ask for proposals, tell results, save and restore exactly.

A strategy's state must survive a JSON round trip (plus arrays in an npz for model weights) so
that a search stopped after N evaluations and resumed equals an uninterrupted one: random
generators are saved with ``rng_state`` and restored with ``set_rng_state``.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from archir.frontends.spaces.space import Assignment, Space
from archir.search.history import Proposal, Record

Claim = Callable[[Mapping[str, Any]], bool]
"""``claim(assignment)``: True (and reserved) when no earlier proposal is the same architecture."""


class Strategy(ABC):
    name: ClassVar[str]

    def __init__(self, space: Space, seed: int):
        self.space = space
        self.rng = random.Random(seed)

    @abstractmethod
    def ask(self, n: int, claim: Claim) -> list[Proposal]:
        """``n`` proposals made from what has been told so far."""

    @abstractmethod
    def tell(self, proposal: Proposal, record: Record) -> None:
        """One result, in proposal order (a duplicate arrives with its first evaluation)."""

    @abstractmethod
    def options(self) -> dict[str, Any]:
        """The constructor options (JSON), recorded in checkpoints."""

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return {"rng": rng_state(self.rng)}, {}

    def load_state(self, state: Mapping[str, Any], arrays: Mapping[str, np.ndarray],
                   records: Sequence[Record]) -> None:
        set_rng_state(self.rng, state["rng"])

    def novel(self, make: Callable[[], Assignment], claim: Claim, tries: int) -> Assignment:
        """``make()`` until it gives an architecture not seen yet; after ``tries`` the last one
        (the search then answers it from its cache without spending budget)."""
        for _ in range(tries):
            a = make()
            if claim(a):
                break
        return a


def rng_state(rng: random.Random) -> list[Any]:
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]


def set_rng_state(rng: random.Random, state: Sequence[Any]) -> None:
    version, internal, gauss = state
    rng.setstate((version, tuple(internal), gauss))
