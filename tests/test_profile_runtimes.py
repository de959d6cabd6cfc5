"""Runtimes run emitted kernels and models; what cannot be measured here says so."""

import pytest

from archir import GraphBuilder, Module, TensorType
from archir.backends.profile.runtimes import (
    OrtRuntime,
    RuntimeError_,
    TorchRuntime,
    random_input,
    runtime_for,
)
from archir.backends.profile.timing import TimingPolicy, time_runs

QUICK = TimingPolicy(warmup_runs=1, warmup_s=0.0, min_repeats=3, max_repeats=6, batch=3, budget_s=0.1)


def small() -> Module:
    b = GraphBuilder("main")
    x = b.arg(TensorType("f32", (1, 4, 8, 8)), "x")
    y = b.relu(b.conv2d(x, out_channels=8, kernel=3, padding=1))
    b.ret(b.flatten(b.global_avg_pool(y)))
    return Module([b.graph])


@pytest.mark.parametrize("runtime", [OrtRuntime(), OrtRuntime(threads=2, opt_level="all"), TorchRuntime()],
                         ids=["ort", "ort-2-threads", "torch"])
def test_runtimes_run_a_module(runtime):
    run = runtime.prepare(small())
    run()
    t = time_runs(run, QUICK, runtime.clock)
    assert t.count >= 3 and t.median_us > 0
    fp = runtime.fingerprint()
    assert fp.runtime == runtime.name and fp.threads == runtime.threads


def test_clock_follows_threads():
    assert OrtRuntime().clock == "thread" and OrtRuntime(threads=4).clock == "wall"
    assert TorchRuntime("cuda").clock == "wall"
    with pytest.raises(ValueError):
        OrtRuntime(opt_level="max")


def test_runtime_for_targets():
    assert isinstance(runtime_for("ort-cpu"), OrtRuntime)
    assert runtime_for("ort-cpu").fingerprint().settings == "opt=extended"
    assert isinstance(runtime_for("torch-cpu"), TorchRuntime)
    with pytest.raises(RuntimeError_, match="cannot be profiled here"):
        runtime_for("tflite-cpu")


def test_symbolic_inputs_are_refused():
    import numpy as np

    with pytest.raises(RuntimeError_, match="symbolic"):
        random_input(TensorType("f32", ("N", 3)), np.random.default_rng(0))
    assert random_input(TensorType("i64", (2, 3)), np.random.default_rng(0)).sum() == 0


def test_cuda_runtime():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError_, match="no CUDA device"):
            TorchRuntime("cuda").prepare(small())
        return
    run = TorchRuntime("cuda").prepare(small())
    t = time_runs(run, QUICK, "wall")
    assert t.median_us > 0 and TorchRuntime("cuda").fingerprint().gpu
