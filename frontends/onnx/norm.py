"""Normalisations with constant parameters, and LRN."""

from __future__ import annotations

import numpy as np

from archir.frontends.onnx.context import Context, Node
from archir.frontends.onnx.dtypes import to_numpy
from archir.frontends.onnx.registry import converter
from archir.ops._shapes import axis as norm_axis


def _no_extra_outputs(ctx: Context, node: Node, what: str) -> None:
    if any(ctx.used(o) for o in node.outputs[1:]):
        raise ctx.error(node, f"its {what} outputs are used; only inference mode is supported")


def _params(ctx: Context, node: Node, names: dict[str, int], dtype: np.dtype) -> dict[str, np.ndarray]:
    return {key: ctx.need_const(node, i, key).astype(dtype, copy=False)
            for key, i in names.items() if node.input(i)}


@converter("BatchNormalization")
def batch_norm(ctx: Context, node: Node) -> None:
    if node.attr("training_mode", 0) or node.attr("spatial", 1) != 1:
        raise ctx.error(node, "only inference-mode, spatial batch norm is supported")
    _no_extra_outputs(ctx, node, "running statistics")
    x = ctx.value(node.input(0), node)
    w = _params(ctx, node, {"weight": 1, "bias": 2, "running_mean": 3, "running_var": 4},
                to_numpy(x.type.dtype))
    w = {k: v.reshape(-1) for k, v in w.items()}
    ctx.bind(node.outputs[0], ctx.emit(node, "batch_norm", x, weights=w, eps=node.attr("epsilon", 1e-5)))


@converter("InstanceNormalization")
def instance_norm(ctx: Context, node: Node) -> None:
    x = ctx.value(node.input(0), node)
    w = _params(ctx, node, {"weight": 1, "bias": 2}, to_numpy(x.type.dtype))
    ctx.bind(node.outputs[0], ctx.emit(node, "instance_norm", x, weights=w,
                                       eps=node.attr("epsilon", 1e-5)))


@converter("LayerNormalization", since=17)
def layer_norm(ctx: Context, node: Node) -> None:
    _no_extra_outputs(ctx, node, "mean / inverse std")
    x = ctx.value(node.input(0), node)
    ax = norm_axis(node.attr("axis", -1), x.type.rank)
    shape = x.type.shape[ax:]
    if not all(isinstance(d, int) for d in shape):
        raise ctx.error(node, f"normalised dims must be static, got {x.type}")
    w = {k: np.broadcast_to(v, shape).copy()
         for k, v in _params(ctx, node, {"weight": 1, "bias": 2}, to_numpy(x.type.dtype)).items()}
    y = ctx.emit(node, "layer_norm", x, weights=w, axis=ax - x.type.rank,
                 eps=node.attr("epsilon", 1e-5), bias="bias" in w)
    ctx.bind(node.outputs[0], y)


@converter("GroupNormalization", since=21)  # opset 18-20's per-group scale is deprecated
def group_norm(ctx: Context, node: Node) -> None:
    x = ctx.value(node.input(0), node)
    w = _params(ctx, node, {"weight": 1, "bias": 2}, to_numpy(x.type.dtype))
    y = ctx.emit(node, "group_norm", x, weights=w, groups=node.attr("num_groups"),
                 eps=node.attr("epsilon", 1e-5))
    ctx.bind(node.outputs[0], y)


@converter("LRN")
def lrn(ctx: Context, node: Node) -> None:
    size = node.attr("size")
    if size % 2 == 0:
        # ONNX centres an even window one channel later than PyTorch (the IR's definition)
        raise ctx.error(node, f"LRN with an even size ({size}) is not supported")
    x = ctx.value(node.input(0), node)
    y = ctx.emit(node, "lrn", x, size=size, alpha=node.attr("alpha", 1e-4),
                 beta=node.attr("beta", 0.75), k=node.attr("bias", 1.0))
    ctx.bind(node.outputs[0], y)
