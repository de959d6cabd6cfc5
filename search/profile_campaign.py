"""A profiling campaign: sample, measure, refine, train, within one time budget.

1. Lower the corpus models and compile them for the target; their distinct kernels are the
   prior (the shapes real models use), ordered so that every family is covered early.
2. Measure those kernels, primitive kernels (single ops at the corpus's shapes, so that no
   family the target can run is left without a model), then a random neighbour of each corpus
   kernel (widths redrawn).
3. Measure a few whole models end to end, for the between-kernel calibration.
4. Refine (nn-Meter's loop): fit, take the configurations the out-of-fold predictions miss by
   more than ``refine_threshold``, measure neighbours of them, repeat until the budget is spent.
5. Fit on everything and save the predictor.

Every measurement goes to the store as it is taken; a second run of the same campaign skips
what is there and goes on, so Ctrl-C or a crash costs at most one measurement.

It composes the corpus frontend, the latency passes and the profiling backend, so it lives
in the one layer that may import all three.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from archir.backends.profile.profiler import Profiler, Task
from archir.backends.profile.runtimes import runtime_for
from archir.backends.profile.store import MeasurementStore
from archir.backends.profile.timing import Timing, TimingPolicy
from archir.backends.profile.training import parsed, train
from archir.frontends.corpus import CorpusModel, LoweringFailed, load_models
from archir.ir import Module
from archir.passes.latency.kernel_features import kernel_family
from archir.passes.latency.kernel_io import write_predictor
from archir.passes.latency.kernel_module import KernelConfig
from archir.passes.latency.kernel_predictor import KernelPredictor
from archir.passes.latency.kernel_registry import default_path
from archir.passes.latency.sampling import (
    CorpusEntry,
    collect,
    compile_model,
    corpus_shapes,
    perturb,
    primitive_configs,
)

Compiled = tuple[CorpusModel, Module]  # a corpus model and its module compiled for the target


class Reporter(Protocol):
    def phase(self, name: str, total: int | None) -> None: ...

    def step(self, task: Task | None, timing: Timing | None) -> None:
        """One unit done: a measurement (timing None: it failed), or a model lowered (task None)."""

    def log(self, message: str) -> None: ...


class QuietReporter:
    def phase(self, name: str, total: int | None) -> None:
        pass

    def step(self, task: Task | None, timing: Timing | None) -> None:
        pass

    def log(self, message: str) -> None:
        pass


@dataclass(frozen=True)
class CampaignSettings:
    target: str
    db: Path
    models: tuple[str, ...]
    budget_s: float = 900.0
    out: Path | None = None  # predictor directory; the default home for the target when None
    calibration_models: int = 10
    op_share: float = 0.0  # share of the kernel budget spent on single ops (per-op baseline)
    threads: int = 1
    seed: int = 0
    kernel_policy: TimingPolicy = TimingPolicy(budget_s=0.3)
    model_policy: TimingPolicy = TimingPolicy(budget_s=3.0, min_repeats=5, batch=5, min_sample_us=0.0)
    model_passes: int = 2  # each calibration model is measured this many times, spread out
    refine_threshold: float = 0.10
    per_failure: int = 3
    initial_share: float = 0.55  # of the budget, for the corpus kernels and their neighbours
    reserve_s: float = 20.0  # kept back for the final fit
    save: bool = True


@dataclass
class CampaignResult:
    predictor: KernelPredictor
    path: Path | None
    device: str
    kernels: int
    ops: int
    models: int
    failures: list[str] = field(default_factory=list)
    lowering_failures: list[str] = field(default_factory=list)
    rounds: int = 0
    seconds: float = 0.0


def interleave(corpus: dict[str, CorpusEntry], rng: random.Random) -> list[CorpusEntry]:
    """Round-robin over families, most frequent configurations first within each."""
    by_family: dict[str, list[CorpusEntry]] = {}
    for e in corpus.values():
        by_family.setdefault(kernel_family(e.config.ops), []).append(e)
    queues = []
    for fam in sorted(by_family):
        entries = by_family[fam]
        rng.shuffle(entries)
        entries.sort(key=lambda e: -e.count)
        queues.append(entries)
    out = []
    while any(queues):
        for q in queues:
            if q:
                out.append(q.pop(0))
    return out


class Campaign:
    def __init__(self, settings: CampaignSettings, reporter: Reporter | None = None):
        self.s = settings
        self.r = reporter or QuietReporter()
        self.rng = random.Random(settings.seed)
        self.store = MeasurementStore(settings.db)
        self.runtime = runtime_for(settings.target, threads=settings.threads)
        self.profiler = Profiler(self.store, self.runtime, settings.kernel_policy)
        self.configs: dict[str, KernelConfig] = {}
        self.failures: list[str] = []

    # phases ------------------------------------------------------------------------------
    def lower(self) -> tuple[list[CorpusModel], list[str]]:
        cache = self.s.db.parent / (self.s.db.stem + ".models")
        models, failed = [], []
        self.r.phase("lowering models", len(self.s.models))
        for m in load_models(list(self.s.models), cache):
            if isinstance(m, LoweringFailed):
                failed.append(str(m))
                self.r.log(f"skipped {m}")
            else:
                models.append(m)
            self.r.step(None, None)
        return models, failed

    def measure(self, tasks: Iterable[Task], deadline: float, total: int | None, name: str,
                policy: TimingPolicy | None = None) -> int:
        self.r.phase(name, total)
        stats = self.profiler.run(tasks, deadline=deadline, progress=self.r.step, policy=policy)
        self.failures += stats.errors
        return stats.measured

    def kernel_tasks(self, entries: Iterable[CorpusEntry], scope: str) -> Iterator[Task]:
        for e in entries:
            self.configs.setdefault(e.config.key, e.config)
            yield Task.of_config(e.config, scope, sorted(e.labels)[0], self.s.target)

    def neighbours(self, configs: Iterable[KernelConfig], per: int) -> Iterator[Task]:
        for cfg in configs:
            for _ in range(per):
                new = perturb(cfg, self.rng)
                if new is not None and new.key not in self.configs:
                    self.configs[new.key] = new
                    yield Task.of_config(new, "kernel", "perturbed", self.s.target)

    def calibration_models(self, compiled: list[Compiled]) -> list[Compiled]:
        """Up to N models, one family at a time, so the calibration sees every family once."""
        by_family: dict[str, list] = {}
        for item in compiled:
            by_family.setdefault(item[0].family, []).append(item)
        out: list = []
        while len(out) < self.s.calibration_models and any(by_family.values()):
            for fam in sorted(by_family):
                if by_family[fam] and len(out) < self.s.calibration_models:
                    out.append(by_family[fam].pop(self.rng.randrange(len(by_family[fam]))))
        return out

    def fit(self, labels: set[str]) -> tuple[KernelPredictor, dict[str, float]]:
        notes = (f"corpus: {', '.join(self.s.models)}",)
        predictor, errors, _ = train(self.store, self.profiler.device, self.s.target,
                                     calibration_labels=labels, notes=notes)
        return predictor, errors

    # the whole campaign ----------------------------------------------------------------
    def run(self) -> CampaignResult:
        s = self.s
        start = time.monotonic()
        end = start + s.budget_s
        models, lowering_failures = self.lower()
        if not models:
            raise RuntimeError("no corpus model could be lowered: " + "; ".join(lowering_failures))
        compiled = [(m, compile_model(m.module, s.target)) for m in models]
        self.measure([Task.run_overhead(s.target)], end, 1, "run overhead", s.model_policy)
        corpus = collect(((m.name, c) for m, c in compiled), s.target)
        self.r.log(f"{len(corpus)} distinct kernel configurations in {len(models)} models")
        initial_end = start + s.initial_share * s.budget_s
        ordered = interleave(corpus, self.rng)
        self.measure(self.kernel_tasks(ordered, "kernel"), initial_end, len(ordered), "corpus kernels")
        prims = [CorpusEntry(c, 1, {"primitive"}) for c in
                 primitive_configs(s.target, corpus_shapes(corpus), self.rng)]
        self.measure(self.kernel_tasks(prims, "kernel"), initial_end, len(prims), "primitive kernels")
        self.measure(self.neighbours([e.config for e in ordered], 1), initial_end, len(ordered),
                     "neighbour kernels")
        if s.op_share > 0:
            ops = collect(((m.name, c) for m, c in compiled), s.target, ops=True)
            op_end = time.monotonic() + s.op_share * max(0.0, end - time.monotonic())
            self.measure(self.kernel_tasks(interleave(ops, self.rng), "op"), op_end, len(ops), "single ops")
        calib = self.calibration_models(compiled)
        calib_end = time.monotonic() + 0.5 * max(0.0, end - s.reserve_s - time.monotonic())
        tasks = (Task.whole_model(c, m.family, m.name, s.target, k) for k in range(s.model_passes)
                 for m, c in calib)
        self.measure(tasks, calib_end, len(calib) * s.model_passes, "whole models", s.model_policy)
        labels = {m.name for m, _ in calib}
        rounds = 0
        while end - s.reserve_s - time.monotonic() > 10:
            predictor, errors = self.fit(labels)
            worst = self.worst(errors)
            self.r.log(f"round {rounds + 1}: {len(worst)} of {len(errors)} kernels off by more than "
                       f"{s.refine_threshold:.0%} out of fold")
            if not worst:
                break
            cfgs = [self._config(k) for k in worst]
            round_end = time.monotonic() + max(30.0, 0.5 * (end - s.reserve_s - time.monotonic()))
            measured = self.measure(self.neighbours([c for c in cfgs if c is not None], s.per_failure),
                                    min(round_end, end - s.reserve_s), len(worst) * s.per_failure,
                                    f"refinement round {rounds + 1}")
            rounds += 1
            if measured == 0:
                break
        predictor, _ = self.fit(labels)
        path = None
        if s.save:
            path = write_predictor(predictor, s.out or default_path(s.target))
        dev = self.profiler.device
        return CampaignResult(predictor, path, dev, self.store.count(dev, "kernel", s.target),
                              self.store.count(dev, "op", s.target), self.store.count(dev, "model", s.target),
                              self.failures, lowering_failures, rounds, time.monotonic() - start)

    def worst(self, errors: dict[str, float]) -> list[str]:
        """Configurations missed by more than the threshold, by the microseconds they cost.

        A 3 µs reshape off by 30% matters less to a model than a 2 ms conv off by 12%; no family
        takes more than a third of the picks, so cheap kinds cannot starve the rest."""
        latency = {r.key: r.timing.median_us for r in self.store.rows(self.profiler.device, "kernel",
                                                                       self.s.target)}
        bad = [k for k, e in errors.items() if abs(e) > self.s.refine_threshold and k in latency]
        bad.sort(key=lambda k: -abs(errors[k]) * latency[k])
        cap = max(1, len(bad) // 3)
        taken: dict[str, int] = {}
        out = []
        for k in bad:
            cfg = self._config(k)
            if cfg is None:
                continue
            fam = kernel_family(cfg.ops)
            if taken.get(fam, 0) < cap:
                taken[fam] = taken.get(fam, 0) + 1
                out.append(k)
        return out

    def _config(self, key: str) -> KernelConfig | None:
        cfg = self.configs.get(key)
        if cfg is None:  # measured by an earlier (resumed) run: rebuild it from its stored IR
            for row in self.store.rows(self.profiler.device, "kernel", self.s.target):
                if row.key not in self.configs:
                    self.configs[row.key] = KernelConfig(parsed(row), row.kind)
            cfg = self.configs.get(key)
        return cfg
