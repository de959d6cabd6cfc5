"""The baselines of benchmarks/latency_accuracy.py: FLOPs regression and the nn-Meter forest."""

import random

import pytest

from archir import GraphBuilder, Module, TensorType
from archir.passes.latency.kernel_baselines import (
    FlopsRegression,
    NnMeterForest,
    nnmeter_features,
    nnmeter_kind,
)
from archir.passes.targets import compile_for


def kernels_of(m: Module) -> list:
    return [ops for _, ops in compile_for(m, "ort-cpu").main.kernels()]


def model(cin: int, cout: int, hw: int, groups: int = 1) -> Module:
    b = GraphBuilder("main")
    x = b.arg(TensorType("f32", (1, cin, hw, hw)), "x")
    y = b.relu(b.conv2d(x, out_channels=cout, kernel=3, padding=1, groups=groups))
    y = b.conv2d(y, out_channels=cout, kernel=3, padding=1, groups=cout)
    y = b.add(y, b.relu(y))
    b.ret(b.linear(b.flatten(b.global_avg_pool(y)), out_features=10))
    return Module([b.graph])


def test_nnmeter_kinds_pool_convs_like_nn_meter_did():
    kinds = [nnmeter_kind(ops) for ops in kernels_of(model(16, 32, 8))]
    assert kinds[:2] == ["conv-bn-relu", "dwconv-bn-relu"]
    assert "fc" in kinds and "global-avgpool" in kinds
    grouped = [nnmeter_kind(ops) for ops in kernels_of(model(16, 32, 8, groups=4))]
    assert grouped[0] == "conv-bn-relu"  # a grouped conv is treated as dense (nn-Meter's defect)
    conv = kernels_of(model(16, 32, 8))[0]
    hw, cin, cout, k, s, _, params = nnmeter_features("conv-bn-relu", conv)
    assert (hw, cin, cout, k, s) == (8, 16, 32, 3, 1) and params == pytest.approx(32 * (9 * 16 + 1) / 1e6)


def test_forest_learns_and_skips_kinds_it_has_no_model_for():
    rng = random.Random(0)
    kernels, ys = [], []
    for _ in range(40):
        for ops in kernels_of(model(8 * rng.randint(1, 8), 8 * rng.randint(1, 8), rng.choice((8, 16, 32)))):
            if nnmeter_kind(ops) == "conv-bn-relu":
                kernels.append(ops)
                ys.append(sum(op.results[0].type.numel() for op in ops) / 100)
    forest = NnMeterForest.fit(kernels, ys)
    assert set(forest.models) == {"conv-bn-relu"}
    probe = kernels_of(model(32, 32, 16))
    conv_only = forest.predict_us([probe[0]])
    assert conv_only > 0
    assert forest.predict_us(probe) == pytest.approx(conv_only)  # the rest counts 0, as in nn-Meter


def test_flops_regression_recovers_a_linear_law():
    flops = [1e6, 5e6, 2e7, 1e8]
    lr = FlopsRegression.fit(flops, [3.0 * f / 1e6 + 40 for f in flops])
    assert lr.a_us_per_mflop == pytest.approx(3.0) and lr.b_us == pytest.approx(40.0)
    assert lr.predict_us(1e7) == pytest.approx(70.0)
