"""Shape arithmetic over symbolic dims: ``Shape`` of a (N, 3, 224, 224) tensor is the vector
[N, 3, 224, 224] (a numpy object array), and the ops exporters use to pick and assemble
dims (Gather, Slice, Concat, (Un)Squeeze, Cast, Identity) keep it symbolic, so
``x.view(x.size(0), -1)`` reaches Reshape as [N, -1]."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from archir.frontends.onnx.context import Context, Node
from archir.frontends.onnx.shape import onnx_bounds

SymbolicFold = Callable[[Context, Node, list], np.ndarray]


def is_symbolic(a: np.ndarray | None) -> bool:
    return a is not None and a.dtype == object


def concrete(a: np.ndarray) -> np.ndarray:
    """An object array without symbols as int64; symbolic arrays unchanged."""
    if is_symbolic(a) and not any(isinstance(v, str) for v in a.reshape(-1)):
        return a.astype(np.int64)
    return a


def _axes(ctx: Context, node: Node, args: list) -> list[int] | None:
    if ctx.opset >= 13:
        return [int(v) for v in args[1].reshape(-1)] if len(args) > 1 and args[1] is not None else None
    return node.attr("axes")


def _slice(ctx: Context, node: Node, args: list) -> np.ndarray:
    data = args[0]
    if ctx.opset >= 10:
        starts, ends = list(args[1]), list(args[2])
        axes = list(args[3]) if len(args) > 3 and args[3] is not None else list(range(len(starts)))
        steps = list(args[4]) if len(args) > 4 and args[4] is not None else [1] * len(starts)
    else:
        starts, ends = node.attr("starts"), node.attr("ends")
        axes, steps = node.attr("axes", list(range(len(starts)))), [1] * len(starts)
    index = [slice(None)] * data.ndim
    for ax, s, e, st in zip(axes, starts, ends, steps):
        b, f = onnx_bounds(data.shape[ax], int(s), int(e), int(st))
        index[ax] = slice(b, f, int(st))
    return data[tuple(index)]


def _squeeze(ctx: Context, node: Node, args: list) -> np.ndarray:
    axes = _axes(ctx, node, args)
    return np.squeeze(args[0], axis=tuple(axes) if axes is not None else None)


def _unsqueeze(ctx: Context, node: Node, args: list) -> np.ndarray:
    out = args[0]
    rank = out.ndim + len(_axes(ctx, node, args))
    for ax in sorted(a % rank for a in _axes(ctx, node, args)):
        out = np.expand_dims(out, ax)
    return out


FOLDS: dict[str, SymbolicFold] = {
    "Identity": lambda ctx, node, args: args[0],
    "Cast": lambda ctx, node, args: args[0],
    "Gather": lambda ctx, node, args: np.take(args[0], args[1].astype(np.int64), axis=node.attr("axis", 0)),
    "Concat": lambda ctx, node, args: np.concatenate(
        [a.astype(object) for a in args if a is not None], axis=node.attr("axis")),
    "Slice": _slice,
    "Squeeze": _squeeze,
    "Unsqueeze": _unsqueeze,
    "Reshape": lambda ctx, node, args: args[0].reshape([int(v) for v in args[1]]),
}
