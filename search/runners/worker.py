"""The task a worker process runs (pool or Ray): rebuild the space and objective from the search's
JSON configuration (once per process), specialise the assignment, evaluate."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from archir.frontends.spaces.space import Space
from archir.search.candidate import Candidate
from archir.search.objectives.objective import Objective
from archir.search.spaces import SpaceSpec


@lru_cache(maxsize=4)
def _setup(config_json: str) -> tuple[Space, Objective]:
    data = json.loads(config_json)
    return SpaceSpec.from_json(data["space"]).build(), Objective.from_json(data["objective"])


def evaluate_assignment(config_json: str, assignment: Mapping[str, Any]) -> dict[str, Any]:
    """Plain JSON data in and out, so any transport (pickle, Ray's serializer) carries it."""
    space, objective = _setup(config_json)
    return objective.evaluate(Candidate(space, assignment)).to_json()
