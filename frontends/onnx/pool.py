"""MaxPool, AveragePool and the global pools (2-D, as the IR's pool ops are)."""

from __future__ import annotations

from archir.frontends.onnx.context import Context, Node
from archir.frontends.onnx.registry import converter
from archir.frontends.onnx.windows import window_attrs


def _pool_attrs(ctx: Context, node: Node, x) -> dict:
    kernel = tuple(node.attr("kernel_shape"))
    if len(kernel) != 2 or x.type.rank != 4:
        raise ctx.error(node, f"only 2-D pooling is in the IR, got kernel {list(kernel)} on {x.type}")
    attrs = window_attrs(ctx, node, x.type, kernel)
    attrs.update(kernel=kernel, ceil_mode=bool(node.attr("ceil_mode", 0)))
    return attrs


@converter("MaxPool")
def max_pool(ctx: Context, node: Node) -> None:
    if len(node.outputs) > 1 and ctx.used(node.outputs[1]):
        raise ctx.error(node, "the Indices output is not supported")
    x = ctx.value(node.input(0), node)
    ctx.bind(node.outputs[0], ctx.emit(node, "max_pool2d", x, **_pool_attrs(ctx, node, x)))


@converter("AveragePool")
def avg_pool(ctx: Context, node: Node) -> None:
    x = ctx.value(node.input(0), node)
    attrs = _pool_attrs(ctx, node, x)
    if attrs.pop("dilation") != (1, 1):
        raise ctx.error(node, "dilated average pooling is not in the IR")
    y = ctx.emit(node, "avg_pool2d", x, count_include_pad=bool(node.attr("count_include_pad", 0)), **attrs)
    ctx.bind(node.outputs[0], y)


@converter("GlobalAveragePool", "GlobalMaxPool")
def global_pool(ctx: Context, node: Node) -> None:
    kind = "global_avg_pool" if node.op_type == "GlobalAveragePool" else "global_max_pool"
    ctx.bind(node.outputs[0], ctx.emit(node, kind, ctx.value(node.input(0), node)))
