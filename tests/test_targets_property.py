"""Property: for random DAGs, every target's fusion is a partition into contiguous kernels in a
topological order, and fusion and selection are deterministic."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import archir
from archir import GraphBuilder, Module, TensorType
from archir.passes.targets import compile_for, fuse, kernels, target_names

UNARY = ("relu", "sigmoid", "hardswish", "batch_norm", "relu6", "tanh", "dropout", "identity")


def _op(b, kind, ins, c):
    x = ins[0]
    if kind == "conv":
        return b.conv2d(x, out_channels=c, kernel=3, padding=1)
    if kind == "dwconv":
        return b.conv2d(x, out_channels=c, kernel=3, padding=1, groups=c)
    if kind == "pw":
        return b.conv2d(x, out_channels=c, kernel=1)
    if kind == "add":
        return b.add(x, ins[1])
    if kind == "mul":
        return b.mul(x, ins[1])
    if kind == "concat":
        return b.slice(b.concat(x, ins[1], axis=1), axes=(1,), starts=(0,), ends=(c,))
    if kind == "pool":
        return b.max_pool2d(x, kernel=3, padding=1)
    if kind == "scale":
        return b.mul(x, b.constant(value=0.5))
    if kind == "flat":
        return b.reshape(b.flatten(x), shape=(1, c, 6, 6))
    if kind == "gap_gate":
        return b.mul(x, b.sigmoid(b.conv2d(b.global_avg_pool(x), out_channels=c, kernel=1)))
    return b.op(kind, x)


KINDS = ("conv", "dwconv", "pw", "add", "mul", "concat", "pool", "gap_gate", "scale", "flat", *UNARY)


@st.composite
def graphs(draw):
    c = 8
    b = GraphBuilder("main")
    values = [b.arg(TensorType("f32", (1, c, 6, 6)), "x")]
    for _ in range(draw(st.integers(1, 14))):
        kind = draw(st.sampled_from(KINDS))
        ins = [values[draw(st.integers(0, len(values) - 1))] for _ in range(2)]
        values.append(_op(b, kind, ins, c))
    outs = sorted({len(values) - 1, draw(st.integers(1, len(values) - 1))})
    b.ret(*[values[i] for i in outs])
    return Module([b.graph])


# note10-cpu groups Once-for-All MobileNetV3 units and refuses any other graph (by design)
GENERAL = [t for t in target_names() if t != "note10-cpu"]


@settings(max_examples=40, deadline=None)
@given(graphs(), st.sampled_from(GENERAL))
def test_fusion_is_a_partition_and_selection_is_deterministic(m, target):
    fused = fuse(m, target)
    archir.verify(fused)  # contiguous kernel regions, operands defined before use
    ks = kernels(fused)
    ops = [op for k in ks for op in k.ops]
    assert len(ops) == len(set(ops)) == len(fused.main.ops)  # every op in exactly one kernel
    assert sorted(op.name for op in ops) == sorted(op.name for op in m.main.ops)
    assert archir.to_text(fuse(m, target)) == archir.to_text(fused)
    once, twice = compile_for(m, target), compile_for(m, target)
    archir.verify(once)
    assert archir.to_text(once) == archir.to_text(twice)
    assert all(k.impl for k in kernels(once))
