"""Profiling is resumable: a run killed midway (SIGKILL, or an exception after N kernels) loses
nothing it measured, and a resumed run completes without duplicates or losses."""

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from archir import GraphBuilder, Module, TensorType
from archir.backends.profile.profiler import Profiler, Task
from archir.backends.profile.runtimes import OrtRuntime
from archir.backends.profile.store import MeasurementStore
from archir.backends.profile.timing import TimingPolicy
from archir.passes.latency.kernel_module import kernel_configs
from archir.passes.targets import compile_for

TINY = TimingPolicy(warmup_runs=1, warmup_s=0.0, min_repeats=3, max_repeats=6, batch=3, budget_s=0.05,
                    min_sample_us=0.0)


def tiny_configs(n: int) -> list:
    """``n`` distinct small kernels (conv + relu, then add), compiled for ort-cpu."""
    configs = {}
    width = 4
    while len(configs) < n:
        b = GraphBuilder("main")
        x = b.arg(TensorType("f32", (1, width, 8, 8)), "x")
        y = b.relu(b.conv2d(x, out_channels=width, kernel=3, padding=1))
        b.ret(b.add(y, x))
        for cfg in kernel_configs(compile_for(Module([b.graph]), "ort-cpu")):
            configs.setdefault(cfg.key, cfg)
        width += 1
    return list(configs.values())[:n]


def tasks(n: int) -> list[Task]:
    return [Task.of_config(c, "kernel", "tiny", "ort-cpu") for c in tiny_configs(n)]


def _snapshot(path) -> list[tuple]:
    db = sqlite3.connect(path)
    rows = db.execute("SELECT id, config_key, median_us, created FROM measurements ORDER BY id").fetchall()
    db.close()
    return rows


CHILD = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, {tests!r})
    from test_profile_resume import TINY, tasks
    from archir.backends.profile.profiler import Profiler
    from archir.backends.profile.runtimes import OrtRuntime
    from archir.backends.profile.store import MeasurementStore

    done = [0]
    def progress(task, timing):
        done[0] += 1
        if done[0] == {kill_after}:
            os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, no commit of anything pending
    store = MeasurementStore({db!r})
    Profiler(store, OrtRuntime(), TINY).run(tasks({n}), progress=progress)
""")


def test_sigkilled_run_resumes_without_duplicates_or_losses(tmp_path):
    db = str(tmp_path / "m.sqlite")
    n, kill_after = 8, 3
    code = CHILD.format(tests=os.path.dirname(__file__), kill_after=kill_after, db=db, n=n)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    before = _snapshot(db)
    assert len(before) == kill_after  # each measurement was committed before the next began

    with MeasurementStore(db) as store:
        profiler = Profiler(store, OrtRuntime(), TINY)
        stats = profiler.run(tasks(n))
        assert (stats.measured, stats.skipped) == (n - kill_after, kill_after)
        assert stats.failed == 0
    after = _snapshot(db)
    assert after[:kill_after] == before  # nothing measured before the kill changed or vanished
    keys = [r[1] for r in after]
    assert len(keys) == len(set(keys)) == n
    assert {t.key for t in tasks(n)} == set(keys)


def test_exception_after_n_kernels_then_resume(tmp_path):
    db = tmp_path / "m.sqlite"
    all_tasks = tasks(6)

    class Boom(Exception):
        pass

    seen = []

    def progress(task, timing):
        seen.append(task.key)
        if len(seen) == 2:
            raise Boom

    with MeasurementStore(db) as store:
        with pytest.raises(Boom):
            Profiler(store, OrtRuntime(), TINY).run(all_tasks, progress=progress)
    assert [r[1] for r in _snapshot(db)] == seen
    with MeasurementStore(db) as store:
        stats = Profiler(store, OrtRuntime(), TINY).run(all_tasks)
        assert stats.measured == 4 and stats.skipped == 2
        dev = store.devices()[0].key
        assert store.count(dev, "kernel") == 6
        # running a third time measures nothing
        assert Profiler(store, OrtRuntime(), TINY).run(all_tasks).measured == 0


def test_a_kernel_the_runtime_cannot_run_is_recorded_once(tmp_path):
    b = GraphBuilder("main")
    x = b.arg(TensorType("f32", (1, 4, 8, 8)), "x")
    b.ret(b.relu(x))
    good = tasks(1)[0]
    bad = Task("kernel", Module([b.graph]), "relu", "broken", "ort-cpu")

    class Failing(OrtRuntime):
        def prepare(self, module):
            if module is bad.module:
                raise RuntimeError("cannot run this")
            return super().prepare(module)

    with MeasurementStore(tmp_path / "m.sqlite") as store:
        stats = Profiler(store, Failing(), TINY).run([bad, good])
        assert (stats.measured, stats.failed) == (1, 1)
        assert "cannot run this" in stats.errors[0]
        again = Profiler(store, Failing(), TINY).run([bad, good])
        assert (again.measured, again.failed, again.skipped) == (0, 0, 2)
