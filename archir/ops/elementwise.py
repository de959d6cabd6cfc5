"""Elementwise unary and binary ops, softmax and reductions."""

from __future__ import annotations

from archir.attrs import BOOL, DTYPE, FLOAT, INT, Attr, ints, one_of
from archir.opdef import InferError, declare
from archir.ops._shapes import axis, broadcast
from archir.types import DType


def _same(ins, a):
    return (ins[0],)


_UNARY = {
    "relu": {}, "relu6": {}, "sigmoid": {}, "tanh": {}, "silu": {}, "hardswish": {},
    "hardsigmoid": {}, "mish": {}, "softplus": {}, "exp": {}, "log": {}, "sqrt": {},
    "rsqrt": {}, "neg": {}, "abs": {}, "erf": {}, "sin": {}, "cos": {}, "reciprocal": {},
    "floor": {}, "ceil": {}, "sign": {}, "identity": {},
    "gelu": {"approximate": Attr(one_of("none", "tanh"), "none")},
    "leaky_relu": {"alpha": Attr(FLOAT, 0.01)},
    "elu": {"alpha": Attr(FLOAT, 1.0)},
    "clip": {"min": Attr(FLOAT, float("-inf")), "max": Attr(FLOAT, float("inf"))},
    "dropout": {"p": Attr(FLOAT, 0.5)},
}
for _name, _attrs in _UNARY.items():
    declare(_name, "x", _same, family="unary", attrs=_attrs)

declare("prelu", "x", _same, family="unary", attrs={"num_parameters": Attr(INT, 1)},
        params=lambda ins, a: {"weight": (a["num_parameters"],)},
        doc="per-channel (axis 1) or single learned negative slope")
declare("cast", "x", lambda ins, a: (ins[0].with_dtype(a["dtype"]),), family="unary",
        attrs={"dtype": Attr(DTYPE)})


def _binary(result_dtype: DType | None = None):
    def infer(ins, a):
        x, y = ins
        if x.dtype != y.dtype:
            raise InferError(f"operands differ in dtype: {x.dtype} and {y.dtype}")
        return (x.with_shape(broadcast(x, y)).with_dtype(result_dtype or x.dtype),)

    return infer


for _name in ("add", "mul", "maximum", "minimum"):
    declare(_name, "a b", _binary(), family="binary", commutative=True)
for _name in ("sub", "div", "pow"):
    # integer division keeps the dtype and rounds toward -inf (PyTorch's //; ONNX Div truncates)
    declare(_name, "a b", _binary(), family="binary",
            doc="a / b; integer operands round toward -inf (PyTorch's //)" if _name == "div" else "")
for _name in ("equal", "less", "greater"):
    declare(_name, "a b", _binary(DType.BOOL), family="binary")


def _where_infer(ins, a):
    cond, x, y = ins
    if cond.dtype != DType.BOOL or x.dtype != y.dtype:
        raise InferError(f"where needs a bool condition and equal dtypes, got {cond}, {x}, {y}")
    return (x.with_shape(broadcast(cond, x, y)),)


declare("where", "cond a b", _where_infer, family="binary")


def _softmax_infer(ins, a):
    axis(a["axis"], ins[0].rank)
    return (ins[0],)


declare("softmax", "x", _softmax_infer, family="softmax", attrs={"axis": Attr(INT, -1)})
declare("log_softmax", "x", _softmax_infer, family="softmax", attrs={"axis": Attr(INT, -1)})


def _reduce_infer(ins, a):
    (x,) = ins
    axes = {axis(i, x.rank) for i in a["axes"]} if a["axes"] else set(range(x.rank))
    if len(axes) != len(a["axes"] or axes):
        raise InferError(f"repeated axis in {list(a['axes'])}")
    shape = [1 if i in axes else d for i, d in enumerate(x.shape) if a["keepdims"] or i not in axes]
    return (x.with_shape(shape),)


for _name in ("reduce_mean", "reduce_sum", "reduce_max", "reduce_min", "reduce_prod"):
    declare(_name, "x", _reduce_infer, family="reduce",
            attrs={"axes": Attr(ints(), ()), "keepdims": Attr(BOOL, False)},
            doc="reduce over axes (all axes when empty)")


def _argmax_infer(ins, a):
    (x,) = ins
    ax = axis(a["axis"], x.rank)
    shape = [1 if i == ax else d for i, d in enumerate(x.shape) if a["keepdims"] or i != ax]
    return (x.with_shape(shape).with_dtype(DType.I64),)


declare("argmax", "x", _argmax_infer, family="reduce",
        attrs={"axis": Attr(INT, -1), "keepdims": Attr(BOOL, False)})
