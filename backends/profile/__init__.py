"""Profiling: time kernels and whole models on real runtimes, store the measurements in SQLite
(resumable) and train a target's latency predictor from them. The campaign that lowers a
corpus and drives all of this is ``archir.search.profile_campaign``."""

from archir.backends.profile.profiler import Profiler, ProfileStats, Task
from archir.backends.profile.runtimes import OrtRuntime, Runtime, TorchRuntime, runtime_for
from archir.backends.profile.store import MeasurementStore, Row, StoreError
from archir.backends.profile.timing import Timing, TimingPolicy, time_runs

__all__ = [
    "MeasurementStore", "OrtRuntime", "ProfileStats", "Profiler", "Row", "Runtime", "StoreError", "Task",
    "Timing", "TimingPolicy", "TorchRuntime", "runtime_for", "time_runs",
]
