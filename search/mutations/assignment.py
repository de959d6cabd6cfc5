"""Mutations of an assignment within a space: change one decision to another value of its
domain. Cheap (no IR is built) and always valid: the result passes the space's constraints
(e.g. DARTS's two distinct inputs per node); specialise it to get the architecture."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from archir.frontends.spaces.space import Space
from archir.search.mutations.base import Rejected


@dataclass(frozen=True)
class AssignmentMutant:
    assignment: dict[str, Any]
    decision: str
    old: Any
    new: Any


def mutate_assignment(space: Space, assignment: Mapping[str, Any], rng: random.Random,
                      kinds: Iterable[str] | None = None) -> AssignmentMutant:
    """Change one decision (of one of ``kinds``, e.g. {"kernel", "depth"}; all by default)."""
    space.check(assignment)
    wanted = set(kinds) if kinds is not None else None
    decisions = [d for d in space.decisions if len(d.domain) > 1 and (wanted is None or d.kind in wanted)]
    if not decisions:
        raise Rejected(f"{space.name} has no decision of kind {sorted(wanted or [])} to change")
    for d in rng.sample(decisions, len(decisions)):
        others = [v for v in d.domain if v != assignment[d.name]]
        for value in rng.sample(others, len(others)):
            new = {**assignment, d.name: value}
            if space.is_valid(new):
                return AssignmentMutant(new, d.name, assignment[d.name], value)
    raise Rejected(f"no single-decision change of this {space.name} assignment keeps it valid")
