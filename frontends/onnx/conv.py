"""Conv and ConvTranspose: constant weights become the conv op's own weights."""

from __future__ import annotations

import numpy as np

from archir.frontends.onnx.context import Context, Node
from archir.frontends.onnx.dtypes import to_numpy
from archir.frontends.onnx.registry import converter
from archir.frontends.onnx.windows import window_attrs


def _conv_weights(ctx: Context, node: Node, dtype: np.dtype) -> dict[str, np.ndarray]:
    weights = {"weight": ctx.need_const(node, 1, "the weight").astype(dtype, copy=False)}
    if node.input(2):
        weights["bias"] = ctx.need_const(node, 2, "the bias").astype(dtype, copy=False).reshape(-1)
    return weights


@converter("Conv")
def conv(ctx: Context, node: Node) -> None:
    x = ctx.value(node.input(0), node)
    weights = _conv_weights(ctx, node, to_numpy(x.type.dtype))
    w = weights["weight"]
    rank = w.ndim - 2
    if rank not in (1, 2):
        raise ctx.error(node, f"{rank}-D convolution is not in the IR (conv1d and conv2d are)")
    kernel = tuple(node.attr("kernel_shape", w.shape[2:]))
    if kernel != w.shape[2:]:
        raise ctx.error(node, f"kernel_shape {list(kernel)} disagrees with the weight {list(w.shape)}")
    attrs = window_attrs(ctx, node, x.type, kernel)
    y = ctx.emit(node, f"conv{rank}d", x, weights=weights, out_channels=w.shape[0], kernel=kernel,
                 groups=node.attr("group", 1), bias="bias" in weights, **attrs)
    ctx.bind(node.outputs[0], y)


@converter("ConvTranspose")
def conv_transpose(ctx: Context, node: Node) -> None:
    x = ctx.value(node.input(0), node)
    weights = _conv_weights(ctx, node, to_numpy(x.type.dtype))
    w = weights["weight"]
    if w.ndim != 4:
        raise ctx.error(node, f"only 2-D transposed convolution is in the IR, weight is {list(w.shape)}")
    kernel = tuple(node.attr("kernel_shape", w.shape[2:]))
    groups = node.attr("group", 1)
    strides = tuple(node.attr("strides", [1, 1]))
    dilations = tuple(node.attr("dilations", [1, 1]))
    out_pad = list(node.attr("output_padding", [0, 0]))
    pads = _transpose_pads(ctx, node, x.type.shape[2:], kernel, strides, dilations, out_pad)
    y = ctx.emit(node, "conv_transpose2d", x, weights=weights, out_channels=w.shape[1] * groups,
                 kernel=kernel, stride=strides, dilation=dilations, groups=groups,
                 padding=pads[:2] if pads[:2] == pads[2:] else pads, output_padding=tuple(out_pad),
                 bias="bias" in weights)
    ctx.bind(node.outputs[0], y)


def _transpose_pads(ctx, node, spatial, kernel, strides, dilations, out_pad) -> tuple[int, ...]:
    auto = node.attr("auto_pad", "NOTSET")
    target = node.attr("output_shape")
    if target is None and auto in ("NOTSET", "", "VALID"):
        return tuple(node.attr("pads", [0] * 4)) if auto != "VALID" else (0,) * 4
    if not all(isinstance(d, int) for d in spatial):
        raise ctx.error(node, "output_shape / auto_pad need static spatial dims")
    target = list(target)[-2:] if target is not None else [d * s for d, s in zip(spatial, strides)]
    begins, ends = [], []
    for i in range(2):
        full = strides[i] * (spatial[i] - 1) + out_pad[i] + (kernel[i] - 1) * dilations[i] + 1
        total = full - target[i]
        if total < 0:  # the rest comes from output_padding, as ONNX specifies
            out_pad[i] -= total
            total = 0
        small, big = total // 2, total - total // 2
        lower = auto != "SAME_UPPER"  # the spec's rule, also when output_shape is given
        begins.append(big if lower else small)
        ends.append(small if lower else big)
    return (*begins, *ends)
