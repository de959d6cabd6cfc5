"""Resize and Upsample: output sizes from constant sizes/scales; the IR's nearest rounds
down (PyTorch's rule), so another nearest_mode is accepted only where it picks the same pixels."""

from __future__ import annotations

import math

import numpy as np

from archir.frontends.onnx.context import Context, Node
from archir.frontends.onnx.registry import converter

_COORDS = ("asymmetric", "half_pixel", "pytorch_half_pixel", "align_corners")


def _sizes(ctx: Context, node: Node, shape, scales, sizes) -> tuple:
    spatial = shape[2:]
    if sizes is not None:
        sizes = list(sizes)
        if len(sizes) == len(shape):
            if any(isinstance(d, int) and s != d for s, d in zip(sizes[:2], shape[:2])):
                raise ctx.error(node, "resizing the batch or channel dim is not supported")
            sizes = sizes[2:]
        return tuple(sizes)
    if scales is None:
        inferred = ctx.inferred(node.outputs[0])
        if inferred is None:
            raise ctx.error(node, "needs constant scales or sizes")
        return tuple(inferred[2:])
    scales = list(scales)
    if len(scales) == len(shape):
        if scales[:2] != [1.0, 1.0]:
            raise ctx.error(node, f"scales {scales} resize the batch or channel dim")
        scales = scales[2:]
    if not all(isinstance(d, int) for d in spatial):
        raise ctx.error(node, f"scales on symbolic spatial dims {list(spatial)}")
    return tuple(int(math.floor(d * s)) for d, s in zip(spatial, scales))


def _nearest_matches_floor(sizes_in, sizes_out, coords: str, mode: str) -> bool:
    """Whether ``mode`` picks the same source pixels as floor for these sizes."""
    for n_in, n_out in zip(sizes_in, sizes_out):
        x = np.arange(n_out, dtype=np.float64)
        scale = n_out / n_in
        if coords == "asymmetric":
            src = x / scale
        elif coords == "align_corners":
            src = x * (n_in - 1) / max(n_out - 1, 1)
        else:
            src = (x + 0.5) / scale - 0.5
        rounded = {"round_prefer_floor": np.ceil(src - 0.5), "round_prefer_ceil": np.floor(src + 0.5),
                   "ceil": np.ceil(src)}[mode]
        if not np.array_equal(np.clip(rounded, 0, n_in - 1), np.clip(np.floor(src), 0, n_in - 1)):
            return False
    return True


def _resize(ctx: Context, node: Node, scales, sizes, coords: str) -> None:
    x = ctx.value(node.input(0), node)
    mode = node.attr("mode", "nearest")
    if mode not in ("nearest", "linear", "cubic"):
        raise ctx.error(node, f"mode {mode!r} is not in the IR")
    if coords not in _COORDS:
        raise ctx.error(node, f"coordinate_transformation_mode {coords!r} is not in the IR")
    if node.attr("antialias", 0) or node.attr("exclude_outside", 0):
        raise ctx.error(node, "antialias / exclude_outside are not supported")
    if mode == "cubic" and node.attr("cubic_coeff_a", -0.75) != -0.75:
        raise ctx.error(node, "cubic_coeff_a other than -0.75 (PyTorch's) is not supported")
    if node.attr("axes") is not None or node.attr("keep_aspect_ratio_policy", "stretch") != "stretch":
        raise ctx.error(node, "axes / keep_aspect_ratio_policy are not supported")
    size = _sizes(ctx, node, x.type.shape, scales, sizes)
    nearest_mode = node.attr("nearest_mode", "round_prefer_floor") if ctx.opset >= 11 else "floor"
    if mode == "nearest" and nearest_mode != "floor":
        if not (x.type.is_static and all(isinstance(d, int) for d in size)) or \
                not _nearest_matches_floor(x.type.shape[2:], size, coords, nearest_mode):
            raise ctx.error(node, f"nearest_mode {nearest_mode!r} picks other pixels than the IR's "
                                  "floor rounding for these sizes")
    y = ctx.emit(node, "resize", x, size=size, mode=mode, coordinates=coords)
    ctx.bind(node.outputs[0], y)


def _floats(ctx: Context, node: Node, i: int) -> list[float] | None:
    c = ctx.const(node.input(i)) if node.input(i) else None
    if node.input(i) and c is None:
        return None
    return None if c is None or c.size == 0 else [float(v) for v in c.reshape(-1)]


@converter("Upsample", since=9)
def upsample(ctx: Context, node: Node) -> None:
    _resize(ctx, node, _floats(ctx, node, 1), None, "asymmetric")


@converter("Resize", since=10)
def resize_10(ctx: Context, node: Node) -> None:
    _resize(ctx, node, _floats(ctx, node, 1), None, "asymmetric")


@converter("Resize", since=11)
def resize_11(ctx: Context, node: Node) -> None:
    sizes = ctx.ints(node, 3, "sizes") if node.input(3) else None
    coords = node.attr("coordinate_transformation_mode", "half_pixel")
    _resize(ctx, node, _floats(ctx, node, 2), sizes, coords)
