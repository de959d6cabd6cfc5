"""The search loop: ask the strategy for a batch, evaluate what is new, tell every result in
order, stop at the budget, checkpoint.

Exact resumption rests on two rules. The strategy is asked only when every earlier proposal has
been told, so its state at each ask depends on the results alone, never on where a budget cut a
batch. Proposals the budget leaves unevaluated stay *pending* in the checkpoint and are the
first evaluated on resume. Hence 30 evaluations, stop, resume to 60 equals 60 in one go.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archir.search.candidate import Candidate
from archir.search.config import Budget, SearchConfig
from archir.search.history import Proposal, Record
from archir.search.objectives.catalog import pareto_axes
from archir.search.objectives.pareto import pareto_front
from archir.search.runners.base import InProcess, Runner
from archir.search.strategies import make_strategy


class SearchError(RuntimeError):
    pass


@dataclass(frozen=True)
class Progress:
    evaluations: int  # new architectures evaluated (what the budget counts)
    told: int  # records, duplicates included
    best: Record | None
    new: tuple[Record, ...]  # the records this step added
    elapsed_s: float


class Search:
    def __init__(self, config: SearchConfig):
        self.config = config
        self.space = config.space.build()
        config.objective.check(self.space)
        self.strategy = make_strategy(config.strategy, self.space, config.seed, config.strategy_options)
        self.records: list[Record] = []
        self.pending: list[Proposal] = []
        self.first_by_key: dict[str, int] = {}
        self.evaluations = 0
        self.elapsed_s = 0.0
        self.duplicate_streak = 0
        self.stop_reason: str | None = None
        self._best: Record | None = None
        self._reserved: set[str] = set()
        self._candidates: dict[str, Candidate] = {}  # the pending batch's IR, built once

    # ---- running ---------------------------------------------------------------------------

    def run(self, budget: Budget, runner: Runner | None = None, *,
            checkpoint_dir: str | Path | None = None, checkpoint_every_s: float = 10.0,
            on_progress: Callable[[Progress], None] | None = None) -> SearchResult:
        """Search until ``budget``. A ``runner`` passed in stays open (the caller closes it, and
        may reuse it); by default the search evaluates in this process."""
        owned = runner is None
        runner = runner or InProcess()
        runner.start(self.config)
        last_save = time.monotonic()
        try:
            while True:
                reason = self._should_stop(budget)
                if reason:
                    self.stop_reason = reason
                    break
                started = time.monotonic()
                new = self._step(runner, budget)
                self.elapsed_s += time.monotonic() - started
                if on_progress is not None:
                    on_progress(Progress(self.evaluations, len(self.records), self.best(), tuple(new),
                                         self.elapsed_s))
                if checkpoint_dir is not None and time.monotonic() - last_save >= checkpoint_every_s:
                    self.save(checkpoint_dir)
                    last_save = time.monotonic()
        finally:
            if owned:
                runner.close()
            if checkpoint_dir is not None:
                self.save(checkpoint_dir)  # also after Ctrl-C: a step is applied whole or not at all
        return SearchResult(self)

    def _should_stop(self, budget: Budget) -> str | None:
        if budget.evaluations is not None and self.evaluations >= budget.evaluations:
            return "evaluation budget"
        if budget.seconds is not None and self.elapsed_s >= budget.seconds:
            return "time budget"
        if self.duplicate_streak >= budget.duplicate_streak:
            return f"{self.duplicate_streak} duplicates in a row: nothing new to propose"
        return None

    def _step(self, runner: Runner, budget: Budget) -> list[Record]:
        if not self.pending:
            self._reserved = set()
            self.pending = self.strategy.ask(self.config.batch_size, self._claim)
            if not self.pending:
                raise SearchError(f"strategy {self.config.strategy} proposed nothing")
        room = None if budget.evaluations is None else budget.evaluations - self.evaluations
        chunk, keys, fresh = [], [], []
        seen: set[str] = set()
        for proposal in self.pending:
            key = self._key(proposal.assignment, len(self.records) + len(chunk))
            is_new = key not in self.first_by_key and key not in seen
            if is_new and room is not None and len(fresh) >= room:
                break
            chunk.append(proposal)
            keys.append(key)
            if is_new:
                fresh.append(len(chunk) - 1)
                seen.add(key)
        results = runner.evaluate([self._candidate(chunk[i].assignment) for i in fresh]) if fresh else []
        if len(results) != len(fresh):
            raise SearchError(f"runner {runner.describe()} returned {len(results)} results for {len(fresh)}")
        by_position = dict(zip(fresh, results))
        if self.evaluations == 0 and results and all(r.error for r in results):
            raise SearchError("every evaluation of the first batch failed; the first error: "
                              + str(results[0].error))
        new = []
        for i, (proposal, key) in enumerate(zip(chunk, keys)):
            first = self.first_by_key.get(key)
            if first is None:
                record = Record(len(self.records), proposal, key, by_position[i])
                self.first_by_key[key] = record.index
                self.evaluations += 1
                self.duplicate_streak = 0
                if record.score is not None and (self._best is None or record.rank() > self._best.rank()):
                    self._best = record
            else:
                record = Record(len(self.records), proposal, key, self.records[first].evaluation, first)
                self.duplicate_streak += 1
            self.records.append(record)
            self.strategy.tell(proposal, record)
            new.append(record)
        self.pending = self.pending[len(chunk):]
        if not self.pending:
            self._candidates = {}
        return new

    def restore_history(self, records: list[Record], pending: list[Proposal]) -> None:
        """Adopt a checkpoint's records and pending proposals (and what follows from them)."""
        self.records, self.pending = records, pending
        self.first_by_key, self._best = {}, None
        for r in records:
            self.first_by_key.setdefault(r.key, r.index)
            if r.duplicate_of is None and r.score is not None and (
                    self._best is None or r.rank() > self._best.rank()):
                self._best = r

    def _candidate(self, assignment: Mapping[str, Any]) -> Candidate:
        text = self.space.encode(assignment)
        c = self._candidates.get(text)
        if c is None:
            c = self._candidates[text] = Candidate(self.space, assignment)
        return c

    def _key(self, assignment: Mapping[str, Any], index: int) -> str:
        return self._candidate(assignment).key(self.config.dedupe, index)

    def _claim(self, assignment: Mapping[str, Any]) -> bool:
        key = self._key(assignment, -1 - len(self._reserved))
        if key in self.first_by_key or key in self._reserved:
            return False
        self._reserved.add(key)
        return True

    # ---- results ---------------------------------------------------------------------------

    def best(self) -> Record | None:
        """The best evaluation so far: feasible first, then score (the first of equals)."""
        return self._best

    # ---- checkpoints -----------------------------------------------------------------------

    def save(self, directory: str | Path) -> Path:
        from archir.search.checkpoint import save_checkpoint

        return save_checkpoint(self, Path(directory))

    @classmethod
    def resume(cls, directory: str | Path, config: SearchConfig | None = None) -> Search:
        """The search saved in ``directory``; ``config``, when given, must be the one it was run with."""
        from archir.search.checkpoint import load_checkpoint

        return load_checkpoint(cls, Path(directory), config)


class SearchResult:
    """The records of a finished (or stopped) search, with its best and its Pareto front."""

    def __init__(self, search: Search):
        self.config = search.config
        self.space = search.space
        self.records = list(search.records)
        self.evaluations = search.evaluations
        self.elapsed_s = search.elapsed_s
        self.stop_reason = search.stop_reason
        self.best = search.best()

    @property
    def evaluated(self) -> list[Record]:
        """First evaluations (no duplicates) that succeeded."""
        return [r for r in self.records if r.duplicate_of is None and r.score is not None]

    def top(self, k: int) -> list[Record]:
        return sorted(self.evaluated, key=Record.rank, reverse=True)[:k]

    def failures(self) -> list[Record]:
        return [r for r in self.records if r.duplicate_of is None and r.score is None]

    def pareto(self, feasible_only: bool = True) -> list[Record]:
        """The non-dominated records over (goal, latency, params), feasible ones by default."""
        axes = pareto_axes(self.config.objective)
        pool = [r for r in self.evaluated if r.feasible or not feasible_only]
        points = [[r.metrics[a.metric] for a in axes] for r in pool]
        return [pool[i] for i in pareto_front(points, axes)]

    def best_so_far(self) -> list[float | None]:
        """The best feasible score after each evaluation (the budget's axis)."""
        out: list[float | None] = []
        best: float | None = None
        for r in self.records:
            if r.duplicate_of is not None:
                continue
            if r.score is not None and r.feasible and (best is None or r.score > best):
                best = r.score
            out.append(best)
        return out


def run_search(config: SearchConfig, budget: Budget, runner: Runner | None = None,
               **kw: Any) -> SearchResult:
    return Search(config).run(budget, runner, **kw)
