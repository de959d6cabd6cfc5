"""The measurement store, the timing harness and device fingerprints (no timing assertions)."""

import sqlite3
import time

import pytest

from archir.backends.profile.store import MeasurementStore, StoreError
from archir.backends.profile.timing import Timing, TimingPolicy, summarize, time_runs
from archir.passes.latency.device import Fingerprint, cpu_fingerprint, machine_fingerprint


def _fp(**kw) -> Fingerprint:
    base = dict(cpu="Test CPU", isa="avx2", cores=2, runtime="onnxruntime-cpu", runtime_version="1.0",
                threads=1, settings="opt=extended")
    return Fingerprint(**{**base, **kw})


def _timing(median: float = 10.0) -> Timing:
    return summarize([median - 1, median, median + 1], [median] * 3, 1, True, "thread")


def test_store_inserts_once_and_reads_back(tmp_path):
    with MeasurementStore(tmp_path / "m.sqlite") as store:
        dev = store.register(_fp())
        assert store.register(_fp()) == dev  # idempotent
        assert store.add(dev, "kernel", "k1", target="ort-cpu", kind="conv", label="m", ir="text",
                         timing=_timing(10.0))
        # a duplicate key is ignored: the first measurement stands
        assert not store.add(dev, "kernel", "k1", target="ort-cpu", kind="conv", label="m", ir="text",
                             timing=_timing(99.0))
        assert store.add(dev, "model", "k1", target="ort-cpu", kind="resnet", label="r18", ir="t",
                         timing=_timing(5.0))
        rows = store.rows(dev, "kernel")
        assert [(r.key, r.timing.median_us) for r in rows] == [("k1", 10.0)]
        assert rows[0].timing.count == 3 and rows[0].timing.q1_us < rows[0].timing.q3_us
        assert store.count(dev, "model") == 1
        assert store.keys(dev, "kernel") == {"k1"}
        assert store.fingerprint(dev) == _fp()


def test_store_is_wal_and_failures_count_as_done(tmp_path):
    path = tmp_path / "m.sqlite"
    with MeasurementStore(path) as store:
        dev = store.register(_fp())
        store.add_failure(dev, "kernel", "bad", "conv", "EmitError: nope")
        assert store.keys(dev, "kernel") == {"bad"}
        assert store.keys(dev, "kernel", with_failures=False) == set()
        assert store.failures(dev, "kernel")[0][2] == "EmitError: nope"
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_store_rejects_unknown_scope_and_other_schema(tmp_path):
    path = tmp_path / "m.sqlite"
    with MeasurementStore(path) as store:
        dev = store.register(_fp())
        with pytest.raises(StoreError, match="unknown scope"):
            store.add(dev, "layer", "k", target="t", kind="k", label="l", ir="", timing=_timing())
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = '999' WHERE key = 'schema'")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="schema 999"):
        MeasurementStore(path)


def test_devices_are_kept_apart(tmp_path):
    with MeasurementStore(tmp_path / "m.sqlite") as store:
        a = store.register(_fp())
        b = store.register(_fp(runtime_version="2.0"))
        assert a != b
        store.add(a, "kernel", "k", target="t", kind="conv", label="m", ir="", timing=_timing())
        assert store.keys(b, "kernel") == set()
        assert len(store.devices()) == 2


def test_timing_harness_counts_and_orders_statistics():
    calls = []

    def run():
        calls.append(1)
        sum(range(200))

    policy = TimingPolicy(warmup_runs=2, warmup_s=0.0, min_repeats=5, max_repeats=20, batch=5,
                          budget_s=0.5, min_sample_us=0.0)
    t = time_runs(run, policy, "thread")
    assert 5 <= t.count <= 20
    assert len(calls) >= t.count * t.inner + 2
    assert 0 < t.min_us <= t.q1_us <= t.median_us <= t.q3_us
    assert t.mad_us >= 0 and t.wall_median_us > 0 and t.clock == "thread"


def test_timing_groups_fast_runs_and_respects_the_budget():
    policy = TimingPolicy(warmup_runs=1, warmup_s=0.0, min_repeats=3, max_repeats=10_000, batch=10,
                          rel_tol=0.0, budget_s=0.2, min_sample_us=50.0)
    start = time.monotonic()
    t = time_runs(lambda: None, policy, "wall")
    assert t.inner > 1  # a no-op is far shorter than 50 µs: runs are grouped per sample
    assert time.monotonic() - start < 5.0


def test_timing_policy_is_validated():
    with pytest.raises(ValueError):
        TimingPolicy(min_repeats=2)
    with pytest.raises(ValueError):
        TimingPolicy(min_repeats=10, max_repeats=5)


def test_fingerprint_key_and_mismatch():
    a, b = _fp(), _fp(runtime_version="2.0", threads=4)
    assert a.key == _fp().key and a.key != b.key
    assert [d.split(":")[0] for d in a.mismatch(b)] == ["runtime_version"]  # threads: a setting
    assert Fingerprint.from_json(a.to_json()) == a
    with pytest.raises(ValueError, match="unknown fields"):
        Fingerprint.from_json({**a.to_json(), "colour": "red"})


def test_this_machine_has_a_fingerprint():
    fp = machine_fingerprint("onnxruntime-cpu", 1, "opt=extended")
    assert fp.cpu and fp.runtime_version not in ("", "not installed") and fp.cores >= 1
    assert fp == cpu_fingerprint("onnxruntime-cpu", fp.runtime_version, 1, "opt=extended")
    with pytest.raises(ValueError, match="unknown runtime"):
        machine_fingerprint("tvm", 1)


def test_the_bare_run_cost_comes_off_standalone_rows_and_is_not_a_model(tmp_path):
    from archir import to_text
    from archir.backends.profile.profiler import RUN_OVERHEAD, Task
    from archir.backends.profile.training import kernel_rows, model_latencies, run_overhead_us

    bare = Task.run_overhead("ort-cpu")
    with MeasurementStore(tmp_path / "m.sqlite") as store:
        dev = store.register(_fp())
        assert run_overhead_us(store, dev, "ort-cpu") == 0.0  # never measured: nothing comes off
        store.add(dev, "model", bare.key, target="ort-cpu", kind=RUN_OVERHEAD, label=bare.label,
                  ir=to_text(bare.module), timing=_timing(2.5))
        store.add(dev, "kernel", "k", target="ort-cpu", kind="relu", label="m", ir=to_text(bare.module),
                  timing=_timing(10.0))
        store.add(dev, "kernel", "tiny", target="ort-cpu", kind="relu", label="m", ir=to_text(bare.module),
                  timing=_timing(2.0))
        assert run_overhead_us(store, dev, "ort-cpu") == 2.5
        ys = {r.key: r.y_us for r in kernel_rows(store.rows(dev, "kernel", "ort-cpu"), 2.5)}
        assert ys == {"k": 7.5, "tiny": pytest.approx(0.2)}  # never below a tenth of the measurement
        assert model_latencies(store, dev, "ort-cpu") == {}  # the bare run is not a model
