"""The GPU delegate's rewrites preserve what the graph computes (weights folded exactly),
checked by running the module before and after on onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest

import archir
from archir import GraphBuilder, Module, TensorType
from archir.passes.targets import gpu_rewrites

RNG = np.random.default_rng(0)


def w(*shape, positive=False):
    a = RNG.standard_normal(shape).astype(np.float32)
    return np.abs(a) + 0.5 if positive else a


def conv(b, x, cin, cout, k=3, groups=1, bias=True, **kw):
    weights = {"weight": w(cout, cin // groups, k, k)}
    if bias:
        weights["bias"] = w(cout)
    return b.conv2d(x, out_channels=cout, kernel=k, groups=groups, bias=bias, weights=weights, **kw)


def bn(b, x, c):
    return b.batch_norm(x, weights={"weight": w(c), "bias": w(c), "running_mean": w(c),
                                    "running_var": w(c, positive=True)})


def run(m: Module, x: np.ndarray) -> list[np.ndarray]:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(archir.to_onnx(m).SerializeToString(), so, providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})


CASES = {
    "pad-into-conv": lambda b, x: conv(b, b.pad(x, pads=(0, 0, 1, 2, 0, 0, 1, 0)), 8, 8),
    "conv-bn": lambda b, x: b.relu(bn(b, conv(b, x, 8, 8, bias=False, padding=1), 8)),
    "conv-mul-add": lambda b, x: b.add(b.mul(conv(b, x, 8, 8, k=1), b.parameter(
        shape=(8, 1, 1), weights={"value": w(8, 1, 1)})), b.constant(value=0.25)),
    "bias-added": lambda b, x: conv(b, x, 8, 4, k=1, bias=False),
    "global-pool-to-mean": lambda b, x: b.flatten(b.global_avg_pool(b.relu(x))),
    "grouped-conv-split": lambda b, x: conv(b, x, 8, 12, groups=4, padding=1),
    "zero-concat-to-pad": lambda b, x: b.concat(x, b.constant(value=0.0, shape=(1, 4, 6, 6)), axis=1),
    "pad-into-avg-pool": lambda b, x: b.avg_pool2d(b.pad(x, pads=(0, 0, 1, 1, 0, 0, 1, 1)), kernel=3),
    "pad-into-max-pool-after-relu": lambda b, x: b.max_pool2d(
        b.pad(b.relu(x), pads=(0, 0, 1, 1, 0, 0, 1, 1)), kernel=3, stride=2),
    "noops": lambda b, x: b.relu(b.dropout(b.identity(b.reshape(x, shape=(1, 8, 6, 6))))),
}
GONE = {"pad-into-conv": "pad", "conv-bn": "batch_norm", "conv-mul-add": "mul", "global-pool-to-mean":
        "global_avg_pool", "zero-concat-to-pad": "concat", "pad-into-avg-pool": "pad",
        "pad-into-max-pool-after-relu": "pad", "noops": "dropout"}


@pytest.mark.parametrize("case", sorted(CASES))
def test_rewrite_preserves_results(case):
    b = GraphBuilder("main")
    x = b.arg(TensorType("f32", (1, 8, 6, 6)), "x")
    b.ret(CASES[case](b, x))
    before = Module([b.graph])
    after = gpu_rewrites(before, "adreno640")
    archir.verify(after)
    kinds = [op.name for op in after.main.ops]
    if case in GONE:
        assert GONE[case] not in kinds, kinds
    if case == "grouped-conv-split":  # 2 in-channels per group: not native, split into 4 convs
        assert kinds.count("conv2d") == 4 and "split" in kinds and "concat" in kinds
    assert all(op.attrs["bias"] for op in after.main.ops if op.name == "conv2d")
    data = RNG.standard_normal((1, 8, 6, 6)).astype(np.float32)
    for got, want in zip(run(after, data), run(before, data)):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_max_pool_keeps_a_pad_of_possibly_negative_values():
    b = GraphBuilder("main")
    x = b.arg(TensorType("f32", (1, 8, 6, 6)), "x")
    b.ret(b.max_pool2d(b.pad(x, pads=(0, 0, 1, 1, 0, 0, 1, 1)), kernel=3))
    assert "pad" in [op.name for op in gpu_rewrites(Module([b.graph]), "adreno640").main.ops]


def test_native_grouped_conv_is_kept():
    b = GraphBuilder("main")
    x = b.arg(TensorType("f32", (1, 16, 6, 6)), "x")
    b.ret(b.conv2d(x, out_channels=16, kernel=3, groups=2))
    assert [op.name for op in gpu_rewrites(Module([b.graph]), "mali-g76").main.ops] == ["conv2d"]


def test_rewrites_are_gpu_only():
    from archir.passes.targets import TargetPassError

    b = GraphBuilder("main")
    b.ret(b.relu(b.arg(TensorType("f32", (1, 4)), "x")))
    with pytest.raises(TargetPassError, match="TFLite GPU"):
        gpu_rewrites(Module([b.graph]), "ort-cpu")
