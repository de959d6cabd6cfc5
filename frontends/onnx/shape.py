"""Data movement: Reshape, Flatten, Transpose, Concat, (Un)Squeeze, Split, Slice, Gather,
Expand, Pad and ConstantOfShape."""

from __future__ import annotations

import numpy as np
from onnx import numpy_helper

from archir.frontends.onnx.context import Context, Node
from archir.frontends.onnx.dtypes import from_numpy
from archir.frontends.onnx.registry import converter
from archir.ops._shapes import axis as norm_axis
from archir.ops._shapes import numel
from archir.types import Dim


def _target_shape(ctx: Context, node: Node, i: int) -> list[Dim] | None:
    """A shape input's constant value, or None to use the inferred output shape."""
    c = ctx.const(node.input(i))
    return None if c is None else [v if isinstance(v, str) else int(v) for v in c.reshape(-1)]


def _inferred(ctx: Context, node: Node) -> tuple[Dim, ...]:
    shape = ctx.inferred(node.outputs[0])
    if shape is None:
        raise ctx.error(node, f"input '{node.input(1)}' is not constant and ONNX shape inference "
                              "cannot tell the output shape")
    return shape


@converter("Reshape", since=5)
def reshape(ctx: Context, node: Node) -> None:
    x = ctx.value(node.input(0), node)
    target = _target_shape(ctx, node, 1)
    if target is None:
        target = list(_inferred(ctx, node))
    elif not node.attr("allowzero", 0):
        target = [x.type.shape[i] if d == 0 else d for i, d in enumerate(target)]
    target = _resolve_minus_one(ctx, node, x.type.shape, target)
    ctx.bind(node.outputs[0], ctx.emit(node, "reshape", x, shape=tuple(target)))


def _resolve_minus_one(ctx: Context, node: Node, shape, target: list[Dim]) -> list[Dim]:
    """A -1 that stands for a symbolic dim (batch N) becomes that symbol, as the IR keeps
    symbols through a reshape."""
    if -1 not in target:
        return target
    n_in, syms_in = numel(shape)
    n_out, syms_out = numel([d for d in target if d != -1])
    missing = [s for s in syms_in if s not in syms_out]
    if not missing:
        return target
    if len(missing) == 1 and n_out and n_in == n_out:
        return [missing[0] if d == -1 else d for d in target]
    raise ctx.error(node, f"cannot express reshape {list(shape)} -> {target} with symbolic dims")


@converter("Flatten")
def flatten(ctx: Context, node: Node) -> None:
    x = ctx.value(node.input(0), node)
    rank = x.type.rank
    a = node.attr("axis", 1)
    a = a + rank if a < 0 else a
    y = x
    if a == 0 or a == rank:
        if rank > 1:
            y = ctx.emit(node, "flatten", y, start=0, end=-1, named=False)
        y = ctx.emit(node, "unsqueeze", y, axes=(0 if a == 0 else 1,))
    else:
        if a > 1:
            y = ctx.emit(node, "flatten", y, start=0, end=a - 1, named=rank - a == 1)
        if rank - a > 1:
            y = ctx.emit(node, "flatten", y, start=1, end=-1)
    ctx.bind(node.outputs[0], y)


@converter("Transpose")
def transpose(ctx: Context, node: Node) -> None:
    x = ctx.value(node.input(0), node)
    perm = tuple(node.attr("perm", range(x.type.rank - 1, -1, -1)))
    ctx.bind(node.outputs[0], ctx.emit(node, "transpose", x, perm=perm))


@converter("Concat")
def concat(ctx: Context, node: Node) -> None:
    values = [ctx.value(n, node) for n in node.inputs if n]
    ctx.bind(node.outputs[0], ctx.emit(node, "concat", *values, axis=node.attr("axis")))


def _squeeze_like(kind: str, axes_as_input: bool):
    def convert(ctx: Context, node: Node) -> None:
        x = ctx.value(node.input(0), node)
        axes = ctx.ints(node, 1, "axes") if axes_as_input else node.attr("axes")
        if axes is None and kind == "squeeze":
            if not x.type.is_static:
                raise ctx.error(node, f"Squeeze without axes on symbolic dims is ambiguous: {x.type}")
            axes = [i for i, d in enumerate(x.type.shape) if d == 1]
        if axes is None:
            raise ctx.error(node, "Unsqueeze needs axes")
        y = ctx.emit(node, kind, x, axes=tuple(axes)) if axes else x
        ctx.bind(node.outputs[0], y)

    return convert


for _onnx, _ir in {"Squeeze": "squeeze", "Unsqueeze": "unsqueeze"}.items():
    converter(_onnx)(_squeeze_like(_ir, axes_as_input=False))
    converter(_onnx, since=13)(_squeeze_like(_ir, axes_as_input=True))


def _split(ctx: Context, node: Node, sizes: list[int] | None) -> None:
    x = ctx.value(node.input(0), node)
    ax = norm_axis(node.attr("axis", 0), x.type.rank)
    dim = x.type.shape[ax]
    n = len(node.outputs)
    if sizes is None:
        if not isinstance(dim, int):
            raise ctx.error(node, f"splitting symbolic dim {dim} needs explicit sizes")
        n = node.attr("num_outputs", n)
        chunk = -(-dim // n)
        sizes = [chunk] * (n - 1) + [dim - chunk * (n - 1)]
    results = ctx.emit(node, "split", x, axis=ax, sizes=tuple(sizes))
    results = results if isinstance(results, tuple) else (results,)
    for name, v in zip(node.outputs, results):
        ctx.bind(name, v)


@converter("Split", since=2)
def split_attr(ctx: Context, node: Node) -> None:
    _split(ctx, node, node.attr("split"))


@converter("Split", since=13)
def split_input(ctx: Context, node: Node) -> None:
    _split(ctx, node, ctx.ints(node, 1, "split"))


def _slice(ctx: Context, node: Node, starts, ends, axes, steps) -> None:
    x = ctx.value(node.input(0), node)
    axes = axes if axes is not None else list(range(len(starts)))
    steps = steps if steps is not None else [1] * len(starts)
    out_starts, out_ends = [], []
    for ax, start, end, step in zip(axes, starts, ends, steps):
        dim = x.type.shape[norm_axis(ax, x.type.rank)]
        if not isinstance(dim, int):
            raise ctx.error(node, f"slicing symbolic dim {dim} is not supported")
        s, e = onnx_bounds(dim, start, end, step)
        out_starts.append(s)
        out_ends.append(e)
    y = ctx.emit(node, "slice", x, axes=tuple(axes), starts=tuple(out_starts), ends=tuple(out_ends),
                 steps=tuple(steps) if any(s != 1 for s in steps) else ())
    ctx.bind(node.outputs[0], y)


def onnx_bounds(dim: int, start: int, end: int, step: int) -> tuple[int, int]:
    """ONNX's clamped bounds, written so that Python slicing (the IR's rule) agrees."""
    if step == 0:
        raise ValueError("slice step 0")
    start += dim if start < 0 else 0
    end += dim if end < 0 else 0
    if step > 0:
        return min(max(start, 0), dim), min(max(end, 0), dim)
    start, end = min(max(start, 0), dim - 1), min(max(end, -1), dim - 1)
    # Python reads a stop of -1 as the last element; -dim-1 means "before the first"
    return start, (-dim - 1 if end == -1 else end)


@converter("Slice")
def slice_attrs(ctx: Context, node: Node) -> None:
    _slice(ctx, node, node.attr("starts"), node.attr("ends"), node.attr("axes"), None)


@converter("Slice", since=10)
def slice_inputs(ctx: Context, node: Node) -> None:
    _slice(ctx, node, ctx.ints(node, 1, "starts"), ctx.ints(node, 2, "ends"),
           ctx.ints(node, 3, "axes"), ctx.ints(node, 4, "steps"))


@converter("Gather")
def gather(ctx: Context, node: Node) -> None:
    data, idx = ctx.const(node.input(0)), ctx.const(node.input(1))
    ax = node.attr("axis", 0)
    if data is not None and data.ndim == 2 and ax == 0:  # a lookup table: an embedding
        ids = ctx.value(node.input(1), node)
        y = ctx.emit(node, "embedding", ids, num_embeddings=data.shape[0], embedding_dim=data.shape[1],
                     dtype=from_numpy(data.dtype, node.loc), weights={"weight": data})
        ctx.bind(node.outputs[0], y)
        return
    x = ctx.value(node.input(0), node)
    ax = norm_axis(ax, x.type.rank)
    dim = x.type.shape[ax]
    if idx is not None and isinstance(dim, int):
        idx = np.where(idx < 0, idx + dim, idx)
        step = _progression(idx)
        if step is not None:  # a run of indices is a slice (one index: a slice, then squeeze)
            first, end = int(idx.reshape(-1)[0]), int(idx.reshape(-1)[-1]) + step
            y = ctx.emit(node, "slice", x, axes=(ax,), starts=(first,), ends=(end if end >= 0 else -dim - 1,),
                         steps=(step,) if step != 1 else (), named=idx.ndim == 1)
            if idx.ndim == 0:
                y = ctx.emit(node, "squeeze", y, axes=(ax,))
            ctx.bind(node.outputs[0], y)
            return
    y = ctx.emit(node, "gather", x, ctx.value(node.input(1), node), axis=ax)
    ctx.bind(node.outputs[0], y)


def _progression(idx: np.ndarray) -> int | None:
    """The step of a scalar or 1-D arithmetic run of indices (nonzero), else None."""
    if idx.ndim == 0:
        return 1
    if idx.ndim != 1 or idx.size == 0:
        return None
    if idx.size == 1:
        return 1
    steps = np.diff(idx)
    return int(steps[0]) if steps[0] != 0 and (steps == steps[0]).all() else None


@converter("Expand", since=8)
def expand(ctx: Context, node: Node) -> None:
    x = ctx.value(node.input(0), node)
    target = _target_shape(ctx, node, 1)
    if target is None:
        target = list(_inferred(ctx, node))
    # ONNX broadcasts both ways: a 1 in the target keeps x's dim (even a symbolic one)
    rank = max(len(target), x.type.rank)
    xs = (1,) * (rank - x.type.rank) + tuple(x.type.shape)
    ts = [1] * (rank - len(target)) + list(target)
    shape = tuple(xd if td == 1 else td for xd, td in zip(xs, ts))
    y = x if shape == tuple(x.type.shape) else ctx.emit(node, "expand", x, shape=shape)
    ctx.bind(node.outputs[0], y)


def _pad(ctx: Context, node: Node, pads: list[int], value: float, axes: list[int] | None) -> None:
    x = ctx.value(node.input(0), node)
    mode = node.attr("mode", "constant")
    if mode not in ("constant", "reflect", "edge"):
        raise ctx.error(node, f"pad mode {mode!r} is not in the IR")
    if axes is not None:
        full = [0] * 2 * x.type.rank
        for i, ax in enumerate(axes):
            ax = norm_axis(ax, x.type.rank)
            full[ax], full[x.type.rank + ax] = pads[i], pads[len(axes) + i]
        pads = full
    y = ctx.emit(node, "pad", x, pads=tuple(pads), mode=mode, value=float(value))
    ctx.bind(node.outputs[0], y)


@converter("Pad", since=2)
def pad_attrs(ctx: Context, node: Node) -> None:
    _pad(ctx, node, node.attr("pads"), node.attr("value", 0.0), None)


@converter("Pad", since=11)
def pad_inputs(ctx: Context, node: Node) -> None:
    value = ctx.scalar(node, 2, "constant_value", 0.0)
    _pad(ctx, node, ctx.ints(node, 1, "pads"), value, ctx.ints(node, 3, "axes"))


@converter("ConstantOfShape", since=9)
def constant_of_shape(ctx: Context, node: Node) -> None:
    # reached when the shape is symbolic (else the node folds) or unknown (then inferred)
    target = _target_shape(ctx, node, 0)
    shape = tuple(target) if target is not None else _inferred(ctx, node)
    t = node.attr("value")
    value = numpy_helper.to_array(t).reshape(-1) if t is not None else np.zeros(1, np.float32)
    y = ctx.emit(node, "constant", value=float(value[0]), dtype=from_numpy(value.dtype, node.loc),
                 shape=shape)
    ctx.bind(node.outputs[0], y)
