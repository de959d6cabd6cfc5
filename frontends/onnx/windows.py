"""Sliding-window attributes shared by Conv and the pools: auto_pad and pads → IR padding."""

from __future__ import annotations

from collections.abc import Sequence

from archir.frontends.onnx.context import Context, Node
from archir.types import TensorType


def padding(ctx: Context, node: Node, x: TensorType, kernel: Sequence[int], strides: Sequence[int],
            dilations: Sequence[int]) -> tuple[int, ...]:
    """IR padding: one value per spatial dim when symmetric, else begins then ends."""
    n = len(kernel)
    auto = node.attr("auto_pad", "NOTSET")
    if auto in ("NOTSET", ""):
        pads = tuple(node.attr("pads", [0] * 2 * n))
        if len(pads) != 2 * n:
            raise ctx.error(node, f"pads has {len(pads)} values, expected {2 * n}")
    elif auto == "VALID":
        pads = (0,) * 2 * n
    elif auto in ("SAME_UPPER", "SAME_LOWER"):
        begins, ends = [], []
        for i in range(n):
            size = x.shape[2 + i]
            if not isinstance(size, int):
                raise ctx.error(node, f"auto_pad={auto} needs static spatial dims, got {x}")
            out = -(-size // strides[i])
            total = max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - size)
            small, big = total // 2, total - total // 2
            begins.append(small if auto == "SAME_UPPER" else big)
            ends.append(big if auto == "SAME_UPPER" else small)
        pads = (*begins, *ends)
    else:
        raise ctx.error(node, f"unknown auto_pad {auto!r}")
    return pads[:n] if pads[:n] == pads[n:] else pads


def window_attrs(ctx: Context, node: Node, x: TensorType, kernel: Sequence[int]) -> dict:
    n = len(kernel)
    strides = tuple(node.attr("strides", [1] * n))
    dilations = tuple(node.attr("dilations", [1] * n))
    return {"stride": strides, "dilation": dilations,
            "padding": padding(ctx, node, x, kernel, strides, dilations)}
