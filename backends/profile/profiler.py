"""The profiler: measures a stream of tasks on one runtime into the store, resumably.

A task is a standalone kernel (or op) module, or a whole model. Tasks whose key the store
already holds for this device (measured, or failed before) are skipped, so running the same
command again after a crash or Ctrl-C continues where it stopped. Each measurement is
committed before the next one starts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property

from archir.backends.profile.runtimes import Runtime
from archir.backends.profile.store import MeasurementStore
from archir.backends.profile.timing import Timing, TimingPolicy, time_runs
from archir.builder import GraphBuilder
from archir.ir import Module
from archir.passes.latency.kernel_module import KernelConfig
from archir.printer import to_text
from archir.structural import structural_hash
from archir.types import TensorType

RUN_OVERHEAD = "run-overhead"  # the kind of the model row that times a bare session run


@dataclass(frozen=True)
class Task:
    scope: str  # kernel | op | model
    module: Module
    kind: str  # kernel kind, or the model's family for scope "model"
    label: str  # where it came from (a model name)
    target: str

    @cached_property
    def key(self) -> str:
        return structural_hash(self.module)

    @cached_property
    def text(self) -> str:
        return to_text(self.module)

    @classmethod
    def whole_model(cls, module: Module, family: str, label: str, target: str, repeat: int = 0) -> Task:
        """A whole model; ``repeat`` > 0 names a further pass over the same model (measured
        at another time, so that a burst of load on the machine does not decide its latency)."""
        task = cls("model", module, family, label, target)
        if repeat:
            task.__dict__["key"] = f"{structural_hash(module)}#{repeat}"
        return task

    @classmethod
    def run_overhead(cls, target: str) -> Task:
        """A session that does next to nothing (one relu on one element): what every standalone
        measurement pays per run and a kernel inside a model does not."""
        b = GraphBuilder("main")
        b.ret(b.relu(b.arg(TensorType("f32", (1,)), "x")))
        return cls("model", Module([b.graph]), RUN_OVERHEAD, "run overhead", target)

    @classmethod
    def of_config(cls, cfg: KernelConfig, scope: str, label: str, target: str) -> Task:
        task = cls(scope, cfg.module, cfg.kind, label, target)
        task.__dict__["key"] = cfg.key  # already computed by sampling
        return task


@dataclass
class ProfileStats:
    measured: int = 0
    skipped: int = 0
    failed: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


Progress = Callable[[Task, Timing | None], None]


class Profiler:
    def __init__(self, store: MeasurementStore, runtime: Runtime, policy: TimingPolicy | None = None):
        self.store = store
        self.runtime = runtime
        self.policy = policy or TimingPolicy()
        self.fingerprint = runtime.fingerprint()
        self.device = store.register(self.fingerprint)

    def done(self, scope: str) -> set[str]:
        return self.store.keys(self.device, scope)

    def measure(self, task: Task, policy: TimingPolicy | None = None) -> Timing:
        """Time one task (no store involved)."""
        run = self.runtime.prepare(task.module)
        return time_runs(run, policy or self.policy, self.runtime.clock)

    def run(self, tasks: Iterable[Task], *, deadline: float | None = None, progress: Progress | None = None,
            policy: TimingPolicy | None = None) -> ProfileStats:
        """Measure every task not yet in the store, until ``deadline`` (a ``time.monotonic()``)."""
        stats = ProfileStats()
        start = time.monotonic()
        done: dict[str, set[str]] = {}
        for task in tasks:
            if deadline is not None and time.monotonic() >= deadline:
                break
            seen = done.setdefault(task.scope, self.done(task.scope))
            if task.key in seen:
                stats.skipped += 1
                continue
            seen.add(task.key)
            try:
                timing = self.measure(task, policy)
            except (KeyboardInterrupt, SystemExit, MemoryError):
                raise
            except Exception as e:  # an op the exporter or runtime cannot handle: recorded, not retried
                message = f"{type(e).__name__}: {e}"
                self.store.add_failure(self.device, task.scope, task.key, task.kind, message)
                stats.failed += 1
                stats.errors.append(f"{task.kind} ({task.label}): {message.splitlines()[0][:200]}")
                if progress is not None:
                    progress(task, None)
                continue
            self.store.add(self.device, task.scope, task.key, target=task.target, kind=task.kind,
                           label=task.label, ir=task.text, timing=timing)
            stats.measured += 1
            if progress is not None:
                progress(task, timing)
        stats.seconds = time.monotonic() - start
        return stats
