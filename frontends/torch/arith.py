"""Binary arithmetic, comparisons and selection, with PyTorch's type promotion made explicit
(the IR's binary ops take operands of one dtype)."""

from __future__ import annotations

from typing import Any

import torch

from archir.frontends.torch.dtypes import ir_dtype
from archir.frontends.torch.nodes import fake
from archir.frontends.torch.table import converts
from archir.ir import Value
from archir.types import DType


def _pair(cx, x: Any, y: Any, dtype: DType) -> tuple[Value, Value]:
    return (cx.em.cast(cx.value(x, like=dtype), dtype), cx.em.cast(cx.value(y, like=dtype), dtype))


def _promoted(x: Any, y: Any) -> DType:
    """The dtype torch computes ``x <op> y`` in (for comparisons, whose result is bool)."""
    dtype = torch.result_type(fake(x), fake(y))
    return ir_dtype(dtype) or DType.F32


def _arith(kind: str, reverse: bool = False):
    def convert(cx, a):
        dtype = cx.type_of(cx.node).dtype
        x, y = _pair(cx, a["self"], a["other"], dtype)
        alpha = a.get("alpha", 1)
        if alpha is not None and alpha != 1:
            y = cx.em.op("mul", y, cx.em.scalar(alpha, dtype))
        return cx.em.op(kind, *((y, x) if reverse else (x, y)))

    return convert


for _name, _kind in (("add", "add"), ("sub", "sub"), ("mul", "mul"), ("maximum", "maximum"),
                     ("minimum", "minimum")):
    converts(f"aten.{_name}.Tensor", f"aten.{_name}.Scalar", f"aten.{_name}_.Tensor",
             f"aten.{_name}_.Scalar", f"aten.{_name}.default")(_arith(_kind))
converts("aten.rsub.Scalar", "aten.rsub.Tensor")(_arith("sub", reverse=True))


def _div_check(cx, a):
    mode = a.get("rounding_mode")
    return None if mode in (None, "floor") else f"rounding_mode={mode!r}"


@converts("aten.div.Tensor", "aten.div.Scalar", "aten.div_.Tensor", "aten.div_.Scalar",
          "aten.div.Tensor_mode", "aten.div.Scalar_mode", "aten.true_divide.Tensor",
          check=_div_check)
def div(cx, a):
    dtype = cx.type_of(cx.node).dtype
    if a.get("rounding_mode") == "floor":
        # floor division is computed in floating point and rounded down
        x, y = _pair(cx, a["self"], a["other"], DType.F32 if not dtype.is_float else dtype)
        return cx.em.cast(cx.em.op("floor", cx.em.op("div", x, y)), dtype)
    x, y = _pair(cx, a["self"], a["other"], dtype)
    return cx.em.op("div", x, y)


@converts("aten.pow.Tensor_Scalar", "aten.pow.Tensor_Tensor", "aten.pow_.Scalar")
def pow_(cx, a):
    dtype = cx.type_of(cx.node).dtype
    x, y = _pair(cx, a["self"], a["exponent"], dtype)
    return cx.em.op("pow", x, y)


@converts("aten.pow.Scalar")
def pow_scalar(cx, a):
    dtype = cx.type_of(cx.node).dtype
    x, y = _pair(cx, a["self"], a["exponent"], dtype)
    return cx.em.op("pow", x, y)


def _not(cx, x: Value) -> Value:
    return cx.em.op("equal", x, cx.em.scalar(0.0, DType.BOOL))


def _compare(kind: str, negate: bool = False):
    def convert(cx, a):
        dtype = _promoted(a["self"], a["other"])
        x, y = _pair(cx, a["self"], a["other"], dtype)
        out = cx.em.op(kind, x, y)
        return _not(cx, out) if negate else out

    return convert


for _name, _kind, _negate in (("eq", "equal", False), ("ne", "equal", True), ("lt", "less", False),
                              ("gt", "greater", False), ("le", "greater", True),
                              ("ge", "less", True)):
    converts(f"aten.{_name}.Tensor", f"aten.{_name}.Scalar")(_compare(_kind, _negate))


@converts("aten.logical_not.default", "aten.bitwise_not.default",
          check=lambda cx, a: None if cx.type_of(a["self"]).dtype == DType.BOOL
          else "only on bool tensors")
def logical_not(cx, a):
    return _not(cx, cx.value(a["self"]))


@converts("aten.where.self", "aten.where.ScalarSelf", "aten.where.ScalarOther", "aten.where.Scalar")
def where(cx, a):
    dtype = cx.type_of(cx.node).dtype
    cond = cx.em.cast(cx.value(a["condition"], like=DType.BOOL), DType.BOOL)
    x, y = _pair(cx, a["self"], a["other"], dtype)
    return cx.em.op("where", cond, x, y)


@converts("aten.masked_fill.Scalar", "aten.masked_fill.Tensor", "aten.masked_fill_.Scalar",
          "aten.masked_fill_.Tensor")
def masked_fill(cx, a):
    dtype = cx.type_of(cx.node).dtype
    x = cx.em.cast(cx.value(a["self"]), dtype)
    fill = cx.em.cast(cx.value(a["value"], like=dtype), dtype)
    return cx.em.op("where", cx.value(a["mask"]), fill, x)


@converts("aten.floor_divide.default", "aten.floor_divide.Scalar")
def floor_divide(cx, a):
    return div(cx, {**a, "rounding_mode": "floor"})
