"""Pools. Adaptive pools use PyTorch's windows [floor(i·n/m), ceil((i+1)·n/m)), one spatial
axis at a time (a mean or max over a rectangle is one over rows of row results)."""

from __future__ import annotations

from archir.backends.onnx.context import EmitError, Emitter
from archir.backends.onnx.conv import window
from archir.backends.onnx.registry import emitter
from archir.ir import Operation


@emitter("max_pool2d")
def max_pool(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    return em.node("MaxPool", ins, em.outs(op), ceil_mode=int(op.attrs["ceil_mode"]), **window(op))


@emitter("avg_pool2d")
def avg_pool(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    attrs = window(op)
    del attrs["dilations"]  # AveragePool has dilations only from opset 19
    return em.node("AveragePool", ins, em.outs(op), ceil_mode=int(op.attrs["ceil_mode"]),
                   count_include_pad=int(op.attrs["count_include_pad"]), **attrs)


@emitter("global_avg_pool", "global_max_pool")
def global_pool(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    kind = "GlobalAveragePool" if op.name == "global_avg_pool" else "GlobalMaxPool"
    return em.node(kind, ins, em.outs(op))


@emitter("adaptive_avg_pool2d", "adaptive_max_pool2d")
def adaptive_pool(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    avg = op.name == "adaptive_avg_pool2d"
    x = op.operands[0].type
    y = ins[0]
    for axis, m in zip((2, 3), op.attrs["output_size"]):
        n = x.shape[axis]
        if not isinstance(n, int):
            raise EmitError(f"adaptive pooling of symbolic dim {n}")
        if n == m:
            continue
        if n % m == 0:
            k = [n // m, 1] if axis == 2 else [1, n // m]
            y = em.one("AveragePool" if avg else "MaxPool", [y], kernel_shape=k, strides=k)
            continue
        reduce = "ReduceMean" if avg else "ReduceMax"
        parts = []
        for i in range(m):
            start, end = (i * n) // m, -(-((i + 1) * n) // m)
            piece = em.one("Slice", [y, em.ints([start]), em.ints([end]), em.ints([axis])])
            parts.append(em.one(reduce, [piece, em.ints([axis])], keepdims=1))
        y = em.one("Concat", parts, axis=axis)
    return em.node("Identity", [y], em.outs(op))
