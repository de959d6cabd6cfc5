"""Reductions (axes as an attribute before opset 18, ReduceSum's before 13) and ArgMax."""

from __future__ import annotations

from archir.frontends.onnx.context import Context, Node
from archir.frontends.onnx.registry import converter

_REDUCE = {"ReduceMean": "reduce_mean", "ReduceSum": "reduce_sum", "ReduceMax": "reduce_max",
           "ReduceMin": "reduce_min", "ReduceProd": "reduce_prod"}


def _reduce(kind: str, axes_as_input: bool):
    def convert(ctx: Context, node: Node) -> None:
        x = ctx.value(node.input(0), node)
        axes = ctx.ints(node, 1, "axes") if axes_as_input else node.attr("axes")
        if not axes and node.attr("noop_with_empty_axes", 0):
            ctx.bind(node.outputs[0], x)
            return
        keep = bool(node.attr("keepdims", 1))
        ctx.bind(node.outputs[0], ctx.emit(node, kind, x, axes=tuple(axes or ()), keepdims=keep))

    return convert


for _onnx, _ir in _REDUCE.items():
    converter(_onnx)(_reduce(_ir, axes_as_input=False))
    converter(_onnx, since=13 if _onnx == "ReduceSum" else 18)(_reduce(_ir, axes_as_input=True))


@converter("ArgMax")
def argmax(ctx: Context, node: Node) -> None:
    if node.attr("select_last_index", 0):
        raise ctx.error(node, "select_last_index=1 is not supported")
    x = ctx.value(node.input(0), node)
    y = ctx.emit(node, "argmax", x, axis=node.attr("axis", 0), keepdims=bool(node.attr("keepdims", 1)))
    ctx.bind(node.outputs[0], y)
