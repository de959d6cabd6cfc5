"""The timing harness: warm up, then repeat until the median is stable or the budget is spent.

On a shared machine wall-clock samples are bimodal: a run either has the core or waits behind
other processes, and the median of wall time measures the load, not the kernel. A runtime
that computes on the calling thread (onnxruntime and PyTorch with one intra-op thread) is
therefore timed by that thread's CPU time, which does not advance while the thread is
descheduled; wall time is recorded beside it. Multi-threaded and GPU runtimes use wall time
(the GPU runner synchronises before returning).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Clock = Literal["thread", "wall"]


@dataclass(frozen=True)
class TimingPolicy:
    warmup_runs: int = 2
    warmup_s: float = 0.01  # keep warming up until this much time has passed (caches, allocator)
    min_repeats: int = 10
    max_repeats: int = 300
    batch: int = 10  # samples between stability checks
    rel_tol: float = 0.02  # the median moved less than this over the last two batches: stable
    budget_s: float = 1.0  # wall-clock cap per measurement (warm-up included)
    min_sample_us: float = 40.0  # runs per sample are grouped so that a sample lasts this long

    def __post_init__(self) -> None:
        if self.min_repeats < 3 or self.max_repeats < self.min_repeats or self.batch < 1:
            raise ValueError("need 3 <= min_repeats <= max_repeats and batch >= 1")


@dataclass(frozen=True)
class Timing:
    """One measurement, in microseconds per run of the clock named by ``clock``."""

    median_us: float
    q1_us: float
    q3_us: float
    mad_us: float  # median absolute deviation
    min_us: float
    count: int  # samples taken (each of ``inner`` runs)
    inner: int
    wall_median_us: float
    stable: bool
    clock: str

    @property
    def iqr_us(self) -> float:
        return self.q3_us - self.q1_us

    @property
    def rel_spread(self) -> float:
        return self.iqr_us / self.median_us if self.median_us > 0 else 0.0


def _quartiles(xs: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(xs, n=4, method="inclusive") if len(xs) > 1 else [xs[0]] * 3
    return q[0], q[1], q[2]


def summarize(samples: list[float], wall: list[float], inner: int, stable: bool, clock: str) -> Timing:
    q1, med, q3 = _quartiles(samples)
    mad = statistics.median(abs(x - med) for x in samples)
    return Timing(med, q1, q3, mad, min(samples), len(samples), inner, statistics.median(wall), stable,
                  clock)


def time_runs(run: Callable[[], object], policy: TimingPolicy = TimingPolicy(),
              clock: Clock = "thread") -> Timing:
    """Time ``run`` (one inference) under ``policy``."""
    cpu = time.thread_time_ns if clock == "thread" else time.perf_counter_ns
    wall = time.perf_counter_ns
    start = wall()
    deadline = start + int(policy.budget_s * 1e9)
    runs, first = 0, 0
    while runs < policy.warmup_runs or wall() - start < policy.warmup_s * 1e9:
        t0 = wall()
        run()
        first = wall() - t0
        runs += 1
        if wall() > deadline:
            break
    inner = max(1, int(policy.min_sample_us * 1e3 // max(first, 1)))
    samples: list[float] = []
    walls: list[float] = []
    medians: list[float] = []
    stable = False
    while len(samples) < policy.max_repeats:
        for _ in range(policy.batch):
            w0, c0 = wall(), cpu()
            for _ in range(inner):
                run()
            c1, w1 = cpu(), wall()
            samples.append((c1 - c0) / 1e3 / inner)
            walls.append((w1 - w0) / 1e3 / inner)
            if w1 > deadline and len(samples) >= 3:
                break
        medians.append(statistics.median(samples))
        if len(samples) >= policy.min_repeats and len(medians) >= 3:
            m = medians[-1]
            if all(abs(x - m) <= policy.rel_tol * m for x in medians[-3:-1]):
                stable = True
                break
        if wall() > deadline and len(samples) >= 3:
            break
    return summarize(samples, walls, inner, stable, clock)
