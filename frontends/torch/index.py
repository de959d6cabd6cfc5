"""Selecting, slicing, joining and splitting tensors."""

from __future__ import annotations

from archir.frontends.torch import layout
from archir.frontends.torch.table import converts
from archir.types import DType


@converts("aten.select.int")
def select(cx, a):
    return layout.select(cx.em, cx.value(a["self"]), int(a["dim"]), int(a["index"]))


def _step_check(cx, a):
    step = a.get("step", 1)
    return None if step is None or int(step) > 0 else "slices with a non-positive step"


@converts("aten.slice.Tensor", check=_step_check)
def slice_(cx, a):
    x = cx.value(a["self"])
    dim = int(a["dim"]) % x.type.rank
    start = 0 if a["start"] is None else int(a["start"])
    end = x.type.shape[dim] if a["end"] is None else int(a["end"])
    return layout.slice_(cx.em, x, dim, start, end, int(a.get("step") or 1))


@converts("aten.narrow.default")
def narrow(cx, a):
    x = cx.value(a["self"])
    dim = int(a["dim"]) % x.type.rank
    start = int(a["start"]) % x.type.shape[dim]
    return layout.slice_(cx.em, x, dim, start, start + int(a["length"]))


def _index_check(cx, a):
    indices = list(a["indices"])
    given = [i for i in indices if i is not None]
    if len(given) != 1:
        return "advanced indexing with several index tensors"
    if cx.type_of(given[0]).dtype not in (DType.I64, DType.I32):
        return "boolean-mask indexing (its result shape depends on the data)"
    return None


@converts("aten.index.Tensor", check=_index_check)
def index(cx, a):
    indices = list(a["indices"])
    axis = next(i for i, idx in enumerate(indices) if idx is not None)
    return cx.em.op("gather", cx.value(a["self"]), cx.value(indices[axis]), axis=axis)


@converts("aten.index_select.default")
def index_select(cx, a):
    x = cx.value(a["self"])
    return cx.em.op("gather", x, cx.value(a["index"]), axis=int(a["dim"]) % x.type.rank)


@converts("aten.cat.default", "aten.concat.default", "aten.concatenate.default")
def cat(cx, a):
    dtype = cx.type_of(cx.node).dtype
    parts = [cx.em.cast(cx.value(t), dtype) for t in a["tensors"]]
    # torch.cat skips empty 1-D tensors (a legacy rule)
    parts = [p for p in parts if not (p.type.rank == 1 and p.type.shape[0] == 0)] or parts[:1]
    if len(parts) == 1:
        return parts[0]
    return cx.em.op("concat", *parts, axis=int(a["dim"]) % parts[0].type.rank)


@converts("aten.stack.default")
def stack(cx, a):
    out = cx.type_of(cx.node)
    dim = int(a["dim"]) % out.rank
    parts = []
    for t in a["tensors"]:
        v = cx.em.cast(cx.value(t), out.dtype)
        shape = list(v.type.shape)
        shape.insert(dim, 1)
        parts.append(layout.reshape(cx.em, v, shape, natural=("unsqueeze", {"axes": (dim,)})))
    return parts[0] if len(parts) == 1 else cx.em.op("concat", *parts, axis=dim)


def _split(cx, x, sizes: list[int], dim: int) -> tuple:
    dim %= x.type.rank
    if len(sizes) == 1:
        return (x,)
    src = x.owner
    if src is not None and src.name == "transpose":
        # slices sink below the transpose (see layout), where they meet head splits
        out, start = [], 0
        for s in sizes:
            out.append(layout.slice_(cx.em, x, dim, start, start + s))
            start += s
        return tuple(out)
    return tuple(cx.em.op("split", x, axis=dim, sizes=tuple(sizes)))


@converts("aten.chunk.default", "aten.split.Tensor", "aten.split_with_sizes.default",
          "aten.tensor_split.sections", "aten.unsafe_split.Tensor")
def split(cx, a):
    x = cx.value(a["self"])
    dim = int(a["dim"]) % x.type.rank
    sizes = [int(v.shape[dim]) for v in cx.out]
    return _split(cx, x, sizes, dim)


@converts("aten.unbind.int")
def unbind(cx, a):
    x = cx.value(a["self"])
    dim = int(a["dim"]) % x.type.rank
    return tuple(layout.select(cx.em, x, dim, i) for i in range(x.type.shape[dim]))


@converts("getitem")
def getitem(cx, a):
    seq = cx.env[a["arg0"]]
    if not isinstance(seq, (tuple, list)):
        raise cx.error(f"{a['arg0'].name} is a single tensor, not a sequence")
    return seq[a["arg1"]]
