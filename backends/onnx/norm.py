"""Normalisations. group_norm and rms_norm are decomposed (ONNX's GroupNormalization changed
its scale shape at opset 21; RMSNormalization needs opset 23); an even-size lrn too, as ONNX
centres its window differently from PyTorch."""

from __future__ import annotations

import numpy as np

from archir.backends.onnx.context import Emitter
from archir.backends.onnx.dtypes import numpy_dtype
from archir.backends.onnx.registry import emitter
from archir.ir import Operation
from archir.ops._shapes import axis as norm_axis


def _affine(em: Emitter, op: Operation, y: str, channel_axis: int | None, outs: list[str]) -> list[str]:
    """y · weight + bias, with per-channel weights reshaped to broadcast at ``channel_axis``."""
    x = op.operands[0].type
    keys = [k for k in ("weight", "bias") if k in (op.opdef.params(tuple(v.type for v in op.operands),
                                                                   op.attrs) or {})]
    for i, key in enumerate(keys):
        w = em.weight(op, key)
        if channel_axis is not None:
            w = em.one("Reshape", [w, em.ints([-1] + [1] * (x.rank - 2))])
        last = i == len(keys) - 1
        y = em.node("Mul" if key == "weight" else "Add", [y, w], outs if last else 1)[0]
    return [y] if keys else em.node("Identity", [y], outs)


@emitter("batch_norm")
def batch_norm(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    params = [em.weight(op, k) for k in ("weight", "bias", "running_mean", "running_var")]
    return em.node("BatchNormalization", [ins[0], *params], em.outs(op), epsilon=op.attrs["eps"])


@emitter("layer_norm")
def layer_norm(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    x = op.operands[0].type
    a = op.attrs
    ax = norm_axis(a["axis"], x.rank)
    if a["affine"]:
        scale = em.weight(op, "weight")
    else:
        scale = em.const(np.ones(x.shape[ax:], numpy_dtype(x.dtype)), hint="ones")
    bias = [em.weight(op, "bias")] if a["affine"] and a["bias"] else []
    return em.node("LayerNormalization", [ins[0], scale, *bias], em.outs(op), axis=ax, epsilon=a["eps"])


@emitter("rms_norm")
def rms_norm(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    x = op.operands[0].type
    ax = norm_axis(op.attrs["axis"], x.rank)
    square = em.one("Mul", [ins[0], ins[0]])
    mean = em.one("ReduceMean", [square, em.ints(range(ax, x.rank))], keepdims=1)
    root = em.one("Sqrt", [em.one("Add", [mean, em.scalar(op.attrs["eps"], x)])])
    y = em.one("Div", [ins[0], root])
    if not op.attrs["affine"]:
        return em.node("Identity", [y], em.outs(op))
    return em.node("Mul", [y, em.weight(op, "weight")], em.outs(op))


@emitter("instance_norm")
def instance_norm(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    x = op.operands[0].type
    if op.attrs["affine"]:
        scale, bias = em.weight(op, "weight"), em.weight(op, "bias")
    else:
        dtype = numpy_dtype(x.dtype)
        scale = em.const(np.ones(x.shape[1], dtype), hint="ones")
        bias = em.const(np.zeros(x.shape[1], dtype), hint="zeros")
    return em.node("InstanceNormalization", [ins[0], scale, bias], em.outs(op), epsilon=op.attrs["eps"])


@emitter("group_norm")
def group_norm(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    # (N, C, ...) → (N, G, -1), instance-normalise each group, restore the shape, then affine
    x = op.operands[0].type
    g = op.attrs["groups"]
    dtype = numpy_dtype(x.dtype)
    grouped = em.one("Reshape", [ins[0], em.ints([0, g, -1])])
    normed = em.one("InstanceNormalization", [grouped, em.const(np.ones(g, dtype), hint="ones"),
                                              em.const(np.zeros(g, dtype), hint="zeros")],
                    epsilon=op.attrs["eps"])
    y = em.one("Reshape", [normed, em.one("Shape", [ins[0]])])
    return _affine(em, op, y, 1 if op.attrs["affine"] else None, em.outs(op))


@emitter("lrn")
def lrn(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    a = op.attrs
    size = a["size"]
    if size % 2:
        return em.node("LRN", ins, em.outs(op), size=size, alpha=a["alpha"], beta=a["beta"], bias=a["k"])
    # PyTorch's window c - size//2 .. c + (size-1)//2: average x² over it with a pool on
    # (N, 1, C, rest), zero padded as LocalResponseNorm does
    x = op.operands[0].type
    sq = em.one("Mul", [ins[0], ins[0]])
    flat = em.one("Reshape", [sq, em.ints([0, 1, x.shape[1] if isinstance(x.shape[1], int) else 0, -1])])
    avg = em.one("AveragePool", [flat], kernel_shape=[size, 1], pads=[size // 2, 0, (size - 1) // 2, 0],
                 count_include_pad=1)
    avg = em.one("Reshape", [avg, em.one("Shape", [ins[0]])])
    scaled = em.one("Add", [em.one("Mul", [avg, em.scalar(a["alpha"], x)]), em.scalar(a["k"], x)])
    div = em.one("Pow", [scaled, em.scalar(a["beta"], x)])
    return em.node("Div", [ins[0], div], em.outs(op))
