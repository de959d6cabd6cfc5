"""Elementwise unary ops, activations with attributes, Dropout, Cast and softmax."""

from __future__ import annotations

import math

import numpy as np

from archir.frontends.onnx.context import Context, Node
from archir.frontends.onnx.dtypes import from_onnx_type
from archir.frontends.onnx.registry import converter
from archir.ops._shapes import axis as norm_axis

# ONNX op → IR op, for ops that map one to one without attributes.
_PLAIN = {
    "Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Exp": "exp", "Log": "log",
    "Sqrt": "sqrt", "Neg": "neg", "Abs": "abs", "Erf": "erf", "Sin": "sin", "Cos": "cos",
    "Reciprocal": "reciprocal", "Floor": "floor", "Ceil": "ceil", "Sign": "sign",
    "Softplus": "softplus",
}
_SINCE = {"HardSwish": 14, "Mish": 18}


def _unary(kind: str):
    def convert(ctx: Context, node: Node) -> None:
        ctx.bind(node.outputs[0], ctx.emit(node, kind, ctx.value(node.input(0), node)))

    return convert


for _onnx, _ir in {**_PLAIN, "HardSwish": "hardswish", "Mish": "mish"}.items():
    converter(_onnx, since=_SINCE.get(_onnx, 1))(_unary(_ir))


@converter("Identity")
def identity(ctx: Context, node: Node) -> None:
    ctx.bind(node.outputs[0], ctx.value(node.input(0), node))


@converter("LeakyRelu")
def leaky_relu(ctx: Context, node: Node) -> None:
    x = ctx.value(node.input(0), node)
    ctx.bind(node.outputs[0], ctx.emit(node, "leaky_relu", x, alpha=node.attr("alpha", 0.01)))


@converter("Elu")
def elu(ctx: Context, node: Node) -> None:
    x = ctx.value(node.input(0), node)
    ctx.bind(node.outputs[0], ctx.emit(node, "elu", x, alpha=node.attr("alpha", 1.0)))


@converter("Selu")
def selu(ctx: Context, node: Node) -> None:
    # selu = gamma · elu(x, alpha)
    x = ctx.value(node.input(0), node)
    y = ctx.emit(node, "elu", x, alpha=node.attr("alpha", 1.67326319217681884765625), named=False)
    gamma = ctx.materialize(np.array(node.attr("gamma", 1.05070102214813232421875)), like=x)
    ctx.bind(node.outputs[0], ctx.emit(node, "mul", y, gamma))


@converter("HardSigmoid")
def hard_sigmoid(ctx: Context, node: Node) -> None:
    x = ctx.value(node.input(0), node)
    alpha, beta = node.attr("alpha", 0.2), node.attr("beta", 0.5)
    if math.isclose(alpha, 1 / 6, rel_tol=1e-6) and beta == 0.5:
        ctx.bind(node.outputs[0], ctx.emit(node, "hardsigmoid", x))
        return
    y = ctx.emit(node, "mul", x, ctx.materialize(np.array(alpha), like=x), named=False)
    y = ctx.emit(node, "add", y, ctx.materialize(np.array(beta), like=x), named=False)
    ctx.bind(node.outputs[0], ctx.emit(node, "clip", y, min=0.0, max=1.0))


@converter("Gelu", since=20)
def gelu(ctx: Context, node: Node) -> None:
    x = ctx.value(node.input(0), node)
    ctx.bind(node.outputs[0], ctx.emit(node, "gelu", x, approximate=node.attr("approximate", "none")))


def _clip(ctx: Context, node: Node, lo: float, hi: float) -> None:
    x = ctx.value(node.input(0), node)
    if lo == 0.0 and hi == 6.0:
        y = ctx.emit(node, "relu6", x)
    else:
        y = ctx.emit(node, "clip", x, min=float(lo), max=float(hi))
    ctx.bind(node.outputs[0], y)


@converter("Clip")
def clip_attrs(ctx: Context, node: Node) -> None:
    _clip(ctx, node, node.attr("min", -math.inf), node.attr("max", math.inf))


@converter("Clip", since=11)
def clip_inputs(ctx: Context, node: Node) -> None:
    lo = ctx.scalar(node, 1, "min", -math.inf)
    hi = ctx.scalar(node, 2, "max", math.inf)
    _clip(ctx, node, lo, hi)


def _dropout(ctx: Context, node: Node, ratio: float) -> None:
    if len(node.outputs) > 1 and ctx.used(node.outputs[1]):
        raise ctx.error(node, "the dropout mask output is not supported")
    x = ctx.value(node.input(0), node)
    ctx.bind(node.outputs[0], ctx.emit(node, "dropout", x, p=float(ratio)))


@converter("Dropout")
def dropout_attrs(ctx: Context, node: Node) -> None:
    _dropout(ctx, node, node.attr("ratio", 0.5))


@converter("Dropout", since=12)
def dropout_inputs(ctx: Context, node: Node) -> None:
    if ctx.scalar(node, 2, "training_mode", 0.0):
        raise ctx.error(node, "training-mode dropout is not supported")
    ratio = ctx.scalar(node, 1, "ratio", 0.5)
    _dropout(ctx, node, ratio)


@converter("Cast")
def cast(ctx: Context, node: Node) -> None:
    x = ctx.value(node.input(0), node)
    dtype = from_onnx_type(node.attr("to"), f"ONNX node {node.loc}")
    y = x if dtype == x.type.dtype else ctx.emit(node, "cast", x, dtype=dtype)
    ctx.bind(node.outputs[0], y)


@converter("PRelu")
def prelu(ctx: Context, node: Node) -> None:
    x = ctx.value(node.input(0), node)
    slope = ctx.need_const(node, 1, "slope")
    aligned = (1,) * (x.type.rank - slope.ndim) + slope.shape
    per_channel = slope.size > 1
    if per_channel and (x.type.rank < 2 or aligned[1] != slope.size):
        raise ctx.error(node, f"slope {list(slope.shape)} is neither one value nor one per channel (axis 1)")
    y = ctx.emit(node, "prelu", x, num_parameters=slope.size, weights={"weight": slope.reshape(-1)})
    ctx.bind(node.outputs[0], y)


def _softmax_2d(kind: str):
    """Opset < 13: the input is flattened to 2-D at ``axis`` and normalised over the rest."""

    def convert(ctx: Context, node: Node) -> None:
        x = ctx.value(node.input(0), node)
        ax = norm_axis(node.attr("axis", 1), x.type.rank)
        rest = x.type.shape[ax:]
        big = [i for i, d in enumerate(rest) if d != 1]
        if len(big) <= 1:  # one axis carries everything: plain softmax over it
            y = ctx.emit(node, kind, x, axis=ax + (big[0] if big else 0) - x.type.rank)
        else:
            flat = ctx.emit(node, "flatten", x, start=ax, end=-1, named=False)
            y = ctx.emit(node, kind, flat, axis=-1, named=False)
            y = ctx.emit(node, "reshape", y, shape=x.type.shape)
        ctx.bind(node.outputs[0], y)

    return convert


def _softmax(kind: str):
    def convert(ctx: Context, node: Node) -> None:
        x = ctx.value(node.input(0), node)
        ax = norm_axis(node.attr("axis", -1), x.type.rank)
        ctx.bind(node.outputs[0], ctx.emit(node, kind, x, axis=ax - x.type.rank))

    return convert


for _onnx, _ir in {"Softmax": "softmax", "LogSoftmax": "log_softmax"}.items():
    converter(_onnx)(_softmax_2d(_ir))
    converter(_onnx, since=13)(_softmax(_ir))
