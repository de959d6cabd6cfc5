"""Evaluation on a Ray cluster (``--ray ADDRESS``), or on a local Ray instance (``local``).

Ray is imported only here, when asked for: a search on one machine never needs it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from archir.search.candidate import Candidate
from archir.search.config import SearchConfig
from archir.search.objectives.objective import Evaluation
from archir.search.runners.base import Runner
from archir.search.runners.worker import evaluate_assignment


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ImportError("the Ray runner needs Ray: pip install 'ray>=2.9' (or run without --ray: "
                          "the local process pool needs nothing)") from None
    return ray


class RayRunner(Runner):
    name = "ray"

    def __init__(self, address: str = "auto", num_cpus: int | None = None):
        """``address``: a cluster ("auto", "ray://head:10001", "HOST:PORT") or "local" to start a
        private instance with ``num_cpus`` CPUs, shut down by ``close``."""
        self.address, self.num_cpus = address, num_cpus
        self._owned = False
        self._task: Any = None

    def start(self, config: SearchConfig) -> None:
        super().start(config)
        ray = _ray()
        self._config_json = json.dumps(config.worker_json(), sort_keys=True)
        if not ray.is_initialized():
            if self.address == "local":
                ray.init(num_cpus=self.num_cpus, include_dashboard=False, log_to_driver=False)
            else:
                ray.init(address=self.address, log_to_driver=False)
            self._owned = True
        self._task = ray.remote(num_cpus=1)(evaluate_assignment)

    def evaluate(self, candidates: Sequence[Candidate]) -> list[Evaluation]:
        if self._task is None:
            raise RuntimeError("the Ray runner was not started")
        ray = _ray()
        refs = [self._task.remote(self._config_json, c.assignment) for c in candidates]
        return [Evaluation.from_json(r) for r in ray.get(refs)]

    def close(self) -> None:
        if self._owned:
            _ray().shutdown()
            self._owned = False
        self._task = None

    def describe(self) -> str:
        return f"Ray ({self.address})"
