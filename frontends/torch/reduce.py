"""Reductions, softmax and vector norms."""

from __future__ import annotations

import math

from archir.frontends.torch.table import converts
from archir.types import DType


def _axes(dim, rank: int) -> tuple[int, ...]:
    if dim is None:
        return ()
    dims = dim if isinstance(dim, (list, tuple)) else [dim]
    return tuple(sorted(d % rank for d in dims)) if rank else ()


def _reduce(kind: str, dim_key: str = "dim"):
    def convert(cx, a):
        dtype = cx.type_of(cx.node).dtype
        x = cx.em.cast(cx.value(a["self"]), dtype)
        axes = _axes(a.get(dim_key), x.type.rank)
        return cx.em.op(kind, x, axes=axes, keepdims=bool(a.get("keepdim", False)))

    return convert


converts("aten.mean.dim", "aten.mean.default")(_reduce("reduce_mean"))
converts("aten.sum.dim_IntList", "aten.sum.default")(_reduce("reduce_sum"))
converts("aten.amax.default")(_reduce("reduce_max"))
converts("aten.amin.default")(_reduce("reduce_min"))
converts("aten.prod.dim_int", "aten.prod.default")(_reduce("reduce_prod"))


def _with_index(kind: str):
    def convert(cx, a):
        x = cx.value(a["self"])
        values = cx.em.op(f"reduce_{kind}", x, axes=_axes(a["dim"], x.type.rank),
                          keepdims=bool(a["keepdim"]))
        return (values, cx.em.op(f"arg{kind}", x, axis=int(a["dim"]), keepdims=bool(a["keepdim"]))
                if kind == "max" else None)

    return convert


converts("aten.max.dim")(_with_index("max"))
converts("aten.min.dim")(_with_index("min"))


@converts("aten.argmax.default", check=lambda cx, a: None if a["dim"] is not None
          else "argmax over the flattened tensor")
def argmax(cx, a):
    return cx.em.op("argmax", cx.value(a["self"]), axis=int(a["dim"]), keepdims=bool(a["keepdim"]))


def _softmax(kind: str):
    def convert(cx, a):
        dtype = cx.type_of(cx.node).dtype
        x = cx.em.cast(cx.value(a["self"]), dtype)
        return cx.em.op(kind, x, axis=int(a["dim"]))

    return convert


converts("aten.softmax.int", "aten._softmax.default", "aten._safe_softmax.default")(_softmax("softmax"))
converts("aten.log_softmax.int", "aten._log_softmax.default")(_softmax("log_softmax"))


def _norm_check(cx, a):
    order = a.get("ord", a.get("p", 2))
    if order is None:
        order = 2
    return None if float(order) in (1.0, 2.0, math.inf) else f"vector norm of order {order}"


@converts("aten.linalg_vector_norm.default", "aten.norm.ScalarOpt_dim", check=_norm_check)
def vector_norm(cx, a):
    em = cx.em
    dtype = cx.type_of(cx.node).dtype
    x = em.cast(cx.value(a["self"]), dtype if dtype.is_float else DType.F32)
    order = a.get("ord", a.get("p", 2))
    order = 2.0 if order is None else float(order)
    axes = _axes(a["dim"], x.type.rank)
    keep = bool(a["keepdim"])
    if order == 2.0:
        return em.op("sqrt", em.op("reduce_sum", em.op("mul", x, x), axes=axes, keepdims=keep))
    kind = "reduce_sum" if order == 1.0 else "reduce_max"
    return em.op(kind, em.op("abs", x), axes=axes, keepdims=keep)
