"""Data-movement ops: reshape, transpose, concat, split, slice and friends."""

from __future__ import annotations

from archir.attrs import DIMS, INT, Attr, ints
from archir.opdef import InferError, declare
from archir.ops._shapes import axis, broadcast, dim_axis, numel, static
from archir.types import DType, TensorType


def _reshape_infer(ins, a):
    (x,) = ins
    target = list(a["shape"])
    if target.count(-1) > 1 or any(isinstance(d, int) and d < -1 for d in target):
        raise InferError(f"bad reshape target {target}: at most one -1, other dims >= 0")
    n_in, syms_in = numel(x.shape)
    n_out, syms_out = numel(d for d in target if d != -1)
    if syms_in != syms_out:
        raise InferError(f"reshape {list(x.shape)} -> {target} must keep symbols {syms_in}")
    if -1 in target:
        if n_out == 0 or n_in % n_out:
            raise InferError(f"cannot reshape {list(x.shape)} into {target}")
        target[target.index(-1)] = n_in // n_out
    elif n_in != n_out:
        raise InferError(f"cannot reshape {list(x.shape)} ({n_in} elements) into {target}")
    return (x.with_shape(target),)


declare("reshape", "x", _reshape_infer, family="data", attrs={"shape": Attr(DIMS)},
        doc="shape may hold one -1 (inferred) and symbols, which must match the input's")


def _flatten_infer(ins, a):
    (x,) = ins
    start, end = axis(a["start"], x.rank), axis(a["end"], x.rank)
    if start > end:
        raise InferError(f"flatten start {start} after end {end}")
    n, syms = numel(x.shape[start:end + 1])
    if syms and (len(syms) > 1 or n != 1):
        raise InferError(f"cannot flatten symbolic dims {list(x.shape[start:end + 1])}")
    merged = syms[0] if syms else n
    return (x.with_shape((*x.shape[:start], merged, *x.shape[end + 1:])),)


declare("flatten", "x", _flatten_infer, family="data",
        attrs={"start": Attr(INT, 1), "end": Attr(INT, -1)})


def _transpose_infer(ins, a):
    (x,) = ins
    perm = a["perm"]
    if sorted(perm) != list(range(x.rank)):
        raise InferError(f"perm {list(perm)} is not a permutation of {x.rank} axes")
    return (x.with_shape([x.shape[p] for p in perm]),)


declare("transpose", "x", _transpose_infer, family="data", attrs={"perm": Attr(ints())})


def _concat_infer(ins, a):
    if not ins:
        raise InferError("concat needs at least one input")
    first = ins[0]
    ax = dim_axis(a["axis"], first.rank)
    total = 0
    for t in ins:
        rest = [d for i, d in enumerate(t.shape) if i != ax]
        if t.rank != first.rank or t.dtype != first.dtype or rest != [
            d for i, d in enumerate(first.shape) if i != ax
        ]:
            raise InferError(f"concat on axis {ax}: {first} and {t} do not fit")
        total += static(t.shape[ax], "concatenated dim")
    return (first.with_shape((*first.shape[:ax], total, *first.shape[ax + 1:])),)


declare("concat", "inputs*", _concat_infer, family="data", attrs={"axis": Attr(INT)})


def _split_infer(ins, a):
    (x,) = ins
    ax = dim_axis(a["axis"], x.rank)
    if sum(a["sizes"]) != static(x.shape[ax], "split dim") or min(a["sizes"], default=0) < 1:
        raise InferError(f"split sizes {list(a['sizes'])} do not add up to dim {x.shape[ax]}")
    return tuple(x.with_shape((*x.shape[:ax], s, *x.shape[ax + 1:])) for s in a["sizes"])


declare("split", "x", _split_infer, family="data",
        attrs={"axis": Attr(INT), "sizes": Attr(ints())}, doc="one result per size")


def _slice_infer(ins, a):
    (x,) = ins
    axes, starts, ends = a["axes"], a["starts"], a["ends"]
    steps = a["steps"] or (1,) * len(axes)
    if not len(axes) == len(starts) == len(ends) == len(steps):
        raise InferError("axes, starts, ends and steps must have one entry per sliced axis")
    shape = list(x.shape)
    for ax, start, end, step in zip(axes, starts, ends, steps):
        ax = dim_axis(ax, x.rank)
        size = static(x.shape[ax], "sliced dim")
        if step == 0:
            raise InferError("slice step 0")
        shape[ax] = len(range(size)[slice(start, end, step)])
    return (x.with_shape(shape),)


declare("slice", "x", _slice_infer, family="data",
        attrs={"axes": Attr(ints()), "starts": Attr(ints()), "ends": Attr(ints()),
               "steps": Attr(ints(), ())},
        doc="Python slicing semantics per axis (negative and out-of-range bounds clamp)")


def _squeeze_infer(ins, a):
    (x,) = ins
    axes = {dim_axis(i, x.rank) for i in a["axes"]}
    if any(x.shape[i] != 1 for i in axes):
        raise InferError(f"squeeze axes {list(a['axes'])} of {x} are not all 1")
    return (x.with_shape([d for i, d in enumerate(x.shape) if i not in axes]),)


def _unsqueeze_infer(ins, a):
    (x,) = ins
    rank = x.rank + len(a["axes"])
    axes = sorted(axis(i, rank) for i in a["axes"])
    shape = list(x.shape)
    for i in axes:
        shape.insert(i, 1)
    return (x.with_shape(shape),)


declare("squeeze", "x", _squeeze_infer, family="data", attrs={"axes": Attr(ints())})
declare("unsqueeze", "x", _unsqueeze_infer, family="data", attrs={"axes": Attr(ints())})


def _expand_infer(ins, a):
    (x,) = ins
    return (x.with_shape(broadcast(x, TensorType(x.dtype, a["shape"]))),)


declare("expand", "x", _expand_infer, family="data", attrs={"shape": Attr(DIMS)},
        doc="broadcast to shape")


def _shuffle_infer(ins, a):
    (x,) = ins
    if x.rank != 4 or a["groups"] < 1 or static(x.shape[1], "channels") % a["groups"]:
        raise InferError(f"channel_shuffle groups={a['groups']} must divide channels of {x}")
    return (x,)


declare("channel_shuffle", "x", _shuffle_infer, family="data", attrs={"groups": Attr(INT)})


def _gather_infer(ins, a):
    x, idx = ins
    if idx.dtype not in (DType.I64, DType.I32):
        raise InferError(f"gather indices must be i64 or i32, got {idx.dtype}")
    ax = dim_axis(a["axis"], x.rank)
    return (x.with_shape((*x.shape[:ax], *idx.shape, *x.shape[ax + 1:])),)


declare("gather", "x indices", _gather_infer, family="data", attrs={"axis": Attr(INT, 0)})


def _roll_infer(ins, a):
    (x,) = ins
    if len(a["shifts"]) != len(a["axes"]):
        raise InferError("roll needs one shift per axis")
    for ax in a["axes"]:
        axis(ax, x.rank)
    return (x,)


declare("roll", "x", _roll_infer, family="data",
        attrs={"shifts": Attr(ints()), "axes": Attr(ints())},
        doc="cyclic shift along axes (Swin's shifted windows)")
