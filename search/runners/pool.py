"""A local process pool (``concurrent.futures`` with the spawn start method: no fork of a process
that holds torch threads, and the same behaviour on Linux, macOS and Windows)."""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from archir.search.candidate import Candidate
from archir.search.config import SearchConfig
from archir.search.objectives.objective import Evaluation
from archir.search.runners.base import Runner
from archir.search.runners.worker import evaluate_assignment


class ProcessPool(Runner):
    name = "pool"

    def __init__(self, workers: int | None = None):
        self.workers = workers or max(1, (os.cpu_count() or 2) - 1)
        if self.workers < 1:
            raise ValueError("a process pool needs at least one worker")
        self._pool: ProcessPoolExecutor | None = None

    def start(self, config: SearchConfig) -> None:
        super().start(config)
        self._config_json = json.dumps(config.worker_json(), sort_keys=True)  # workers cache per config
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))

    def evaluate(self, candidates: Sequence[Candidate]) -> list[Evaluation]:
        if self._pool is None:
            raise RuntimeError("the pool runner was not started")
        futures = [self._pool.submit(evaluate_assignment, self._config_json, c.assignment)
                   for c in candidates]
        return [Evaluation.from_json(f.result()) for f in futures]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def describe(self) -> str:
        return f"process pool ({self.workers} workers)"
