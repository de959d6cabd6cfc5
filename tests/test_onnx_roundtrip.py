"""IR → ONNX → IR: ops with a one-to-one ONNX form come back as the same architecture
(structurally equal, same printed names) with the same weights."""

from __future__ import annotations

import numpy as np
import pytest

import archir
from archir import GraphBuilder, Module, TensorType

R = np.random.default_rng(3)


def rnd(*shape):
    return (R.standard_normal(shape) * 0.3).astype(np.float32)


def cnn() -> Module:
    b = GraphBuilder("main")
    x = b.arg(TensorType("f32", ("N", 3, 32, 32)), "image")
    y = b.conv2d(x, out_channels=8, kernel=3, stride=2, padding=1, name="stem",
                 weights={"weight": rnd(8, 3, 3, 3), "bias": rnd(8)})
    y = b.batch_norm(y, eps=1e-3, weights={"weight": rnd(8), "bias": rnd(8), "running_mean": rnd(8),
                                           "running_var": np.abs(rnd(8)) + 0.5})
    y = b.relu6(y)
    z = b.conv2d(y, out_channels=8, kernel=3, padding=(1, 0, 2, 1), groups=8, bias=False,
                 weights={"weight": rnd(8, 1, 3, 3)}, name="dw")
    z = b.hardswish(b.avg_pool2d(b.max_pool2d(z, kernel=2, stride=1), kernel=2, ceil_mode=True))
    y = b.lrn(b.concat(b.global_avg_pool(z), b.global_max_pool(y), axis=1), size=5)
    y = b.dropout(b.flatten(y), p=0.1)
    b.ret(b.softmax(b.linear(y, out_features=10, weights={"weight": rnd(10, 16), "bias": rnd(10)},
                             name="head")))
    return Module([b.graph])


def transformer() -> Module:
    b = GraphBuilder("main")
    x = b.arg(TensorType("f32", ("B", 6, 16)), "tokens")
    h = b.layer_norm(x, weights={"weight": rnd(16), "bias": rnd(16)})
    q = b.linear(h, out_features=16, weights={"weight": rnd(16, 16), "bias": rnd(16)}, name="q")
    kv = b.linear(h, out_features=8, bias=False, weights={"weight": rnd(8, 16)}, name="kv")
    a = b.attention(q, kv, kv, num_heads=4, num_kv_heads=2, causal=True)
    y = b.add(x, b.gelu(b.linear(a, out_features=16, weights={"weight": rnd(16, 16), "bias": rnd(16)})))
    b.ret(b.reduce_mean(y, axes=(1,)), b.sigmoid(b.matmul(y, b.transpose(y, perm=(0, 2, 1)))))
    return Module([b.graph])


@pytest.mark.parametrize("build, opset", [(cnn, 18), (transformer, 23)], ids=["cnn", "transformer"])
def test_ir_onnx_ir_is_the_same_architecture(build, opset):
    module = build()
    back = archir.from_onnx(archir.to_onnx(module, opset=opset))
    assert archir.structurally_equal(back, module)
    strip = [line.split(" loc(")[0] for line in archir.to_text(back).splitlines()]
    assert strip == archir.to_text(module).splitlines()
    for op, orig in zip(back.main.ops, module.main.ops):
        for key, w in (orig.weights or {}).items():
            np.testing.assert_array_equal(op.weights[key], w)
