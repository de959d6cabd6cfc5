"""Elementwise binary and variadic ops (numpy broadcasting on both sides) and Where."""

from __future__ import annotations

import numpy as np

from archir.frontends.onnx.context import Context, Node
from archir.frontends.onnx.registry import converter
from archir.ir import Value

_BINARY = {
    "Add": "add", "Sub": "sub", "Mul": "mul", "Pow": "pow",
    "Equal": "equal", "Less": "less", "Greater": "greater",
}
_VARIADIC = {"Sum": "add", "Max": "maximum", "Min": "minimum"}


def operands(ctx: Context, node: Node) -> list[Value]:
    """Input values; a constant takes the dtype of the first non-constant operand (Pow may
    raise f32 to an i64 power in ONNX, the IR wants one dtype)."""
    live = next((ctx.value(n, node) for n in node.inputs if n and ctx.const(n) is None), None)
    out = []
    for name in node.inputs:
        c = ctx.const(name)
        if c is not None and live is not None and node.op_type == "Pow" and name == node.input(1):
            out.append(ctx.materialize(c, name, like=live))
        else:
            out.append(ctx.value(name, node))
    return out


def _binary(kind: str):
    def convert(ctx: Context, node: Node) -> None:
        a, b = operands(ctx, node)
        ctx.bind(node.outputs[0], ctx.emit(node, kind, a, b))

    return convert


def _variadic(kind: str):
    def convert(ctx: Context, node: Node) -> None:
        values = operands(ctx, node)
        y = values[0]
        for i, v in enumerate(values[1:]):
            y = ctx.emit(node, kind, y, v, named=i == len(values) - 2)
        ctx.bind(node.outputs[0], y)

    return convert


for _onnx, _ir in _BINARY.items():
    converter(_onnx)(_binary(_ir))
for _onnx, _ir in _VARIADIC.items():
    converter(_onnx)(_variadic(_ir))


@converter("Div")
def div(ctx: Context, node: Node) -> None:
    a, b = operands(ctx, node)
    if a.type.dtype.is_float:
        ctx.bind(node.outputs[0], ctx.emit(node, "div", a, b))
        return
    # ONNX truncates integer quotients, the IR floors them: sign(a)·sign(b)·(|a| // |b|)
    sign = ctx.emit(node, "mul", ctx.emit(node, "sign", a, named=False),
                    ctx.emit(node, "sign", b, named=False), named=False)
    quotient = ctx.emit(node, "div", ctx.emit(node, "abs", a, named=False),
                        ctx.emit(node, "abs", b, named=False), named=False)
    ctx.bind(node.outputs[0], ctx.emit(node, "mul", sign, quotient))


@converter("Mean")
def mean(ctx: Context, node: Node) -> None:
    values = operands(ctx, node)
    y = values[0]
    for v in values[1:]:
        y = ctx.emit(node, "add", y, v, named=False)
    n = ctx.materialize(np.array(len(values)), like=y)
    ctx.bind(node.outputs[0], ctx.emit(node, "div", y, n))


@converter("Where")
def where(ctx: Context, node: Node) -> None:
    cond, a, b = operands(ctx, node)
    ctx.bind(node.outputs[0], ctx.emit(node, "where", cond, a, b))
