"""Gemm and MatMul. A constant right operand makes a ``linear`` op (weight (out, in)); a
MatMul whose only reader is an Add of a constant bias becomes one ``linear`` with bias."""

from __future__ import annotations

import numpy as np

from archir.frontends.onnx.context import Context, Node, hint
from archir.frontends.onnx.dtypes import to_numpy
from archir.frontends.onnx.registry import converter
from archir.ir import Value


def _as_bias(c: np.ndarray, out: int, rank: int) -> np.ndarray | None:
    """``c`` as a (out,) vector if adding it is adding a per-feature bias, else None."""
    if c.ndim > rank or c.size not in (1, out) or (c.size == out and c.shape[-1] != out):
        return None
    return np.broadcast_to(c.reshape(-1), (out,)).copy()


@converter("Gemm")
def gemm(ctx: Context, node: Node) -> None:
    alpha, beta = node.attr("alpha", 1.0), node.attr("beta", 1.0)
    a = ctx.value(node.input(0), node)
    if node.attr("transA", 0):
        a = ctx.emit(node, "transpose", a, perm=(1, 0), named=False)
    b = ctx.const(node.input(1))
    c = ctx.const(node.input(2))
    trans_b = node.attr("transB", 0)
    dtype = to_numpy(a.type.dtype)
    if b is not None:
        weight = np.ascontiguousarray(b if trans_b else b.T, dtype=dtype)
        if alpha != 1.0:
            weight = weight * dtype.type(alpha)
        bias = _as_bias(beta * c, weight.shape[0], 2) if c is not None else None
        weights = {"weight": weight} if bias is None else {"weight": weight, "bias": bias.astype(dtype)}
        y = ctx.emit(node, "linear", a, weights=weights, out_features=weight.shape[0],
                     bias=bias is not None, named=not node.input(2) or bias is not None)
        if node.input(2) and bias is None:
            y = _add_c(ctx, node, y, beta)
    else:
        bv = ctx.value(node.input(1), node)
        if trans_b:
            bv = ctx.emit(node, "transpose", bv, perm=(1, 0), named=False)
        y = ctx.emit(node, "matmul", a, bv, named=not node.input(2) and alpha == 1.0)
        if alpha != 1.0:
            y = ctx.emit(node, "mul", y, ctx.materialize(np.array(alpha), like=y),
                         named=not node.input(2))
        if node.input(2):
            y = _add_c(ctx, node, y, beta)
    ctx.bind(node.outputs[0], y)


def _add_c(ctx: Context, node: Node, y: Value, beta: float) -> Value:
    c = ctx.const(node.input(2))
    if c is not None:
        cv = ctx.materialize(beta * c, node.input(2), like=y)
    else:
        cv = ctx.value(node.input(2), node)
        if beta != 1.0:
            cv = ctx.emit(node, "mul", cv, ctx.materialize(np.array(beta), like=cv), named=False)
    return ctx.emit(node, "add", y, cv)


@converter("MatMul")
def matmul(ctx: Context, node: Node) -> None:
    a = ctx.value(node.input(0), node)
    b = ctx.const(node.input(1))
    if b is not None and b.ndim in (1, 2) and a.type.rank >= 1:
        ctx.bind(node.outputs[0], _linear(ctx, node, a, b))
        return
    bv = ctx.value(node.input(1), node)
    # numpy semantics for 1-D operands: promote to a matrix, then drop the added dim
    squeeze = []
    if a.type.rank == 1:
        a = ctx.emit(node, "unsqueeze", a, axes=(0,), named=False)
        squeeze.append(-2)
    if bv.type.rank == 1:
        bv = ctx.emit(node, "unsqueeze", bv, axes=(1,), named=False)
        squeeze.append(-1)
    y = ctx.emit(node, "matmul", a, bv, named=not squeeze)
    if squeeze:
        y = ctx.emit(node, "squeeze", y, axes=tuple(squeeze))
    ctx.bind(node.outputs[0], y)


def _linear(ctx: Context, node: Node, x: Value, b: np.ndarray) -> Value:
    dtype = to_numpy(x.type.dtype)
    vector = b.ndim == 1
    weight = np.ascontiguousarray((b[:, None] if vector else b).T, dtype=dtype)
    bias, add = _fused_bias(ctx, node, weight.shape[0], x.type.rank) if not vector else (None, None)
    weights = {"weight": weight} if bias is None else {"weight": weight, "bias": bias.astype(dtype)}
    name_node = add or node
    y = ctx.b.op("linear", x, out_features=weight.shape[0], bias=bias is not None, weights=weights,
                 loc=node.loc, name=None if vector else hint(name_node.outputs[0]))
    if add is not None:
        ctx.skip.add(id(add))
        ctx.bind(add.outputs[0], y)
    if vector:
        y = ctx.emit(node, "squeeze", y, axes=(-1,))
    return y


def _fused_bias(ctx: Context, node: Node, out: int, rank: int) -> tuple[np.ndarray | None, Node | None]:
    """The bias of a following ``Add`` that only adds a constant per-feature vector."""
    y = node.outputs[0]
    readers = ctx.consumers.get(y, [])
    if y in ctx.graph_outputs or len(readers) != 1 or readers[0].op_type != "Add":
        return None, None
    add = readers[0]
    other = add.input(1) if add.input(0) == y else add.input(0)
    c = ctx.const(other)
    if c is None or other == y:
        return None, None
    bias = _as_bias(c, out, rank)
    return (bias, add) if bias is not None else (None, None)
