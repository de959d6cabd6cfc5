"""Constant folding and algebraic identities.

The IR has no shape-computing ops (shapes are static attributes), so the "shape arithmetic"
left to fold is what frontends emit around scalars: ``constant`` ops (a tensor filled with one
value) fed through elementwise math or data movement. Those fold to a single ``constant``;
``x + 0``, ``x - 0``, ``x * 1``, ``x / 1`` and ``x ** 1`` fold to ``x`` when the type is
unchanged. Results are rounded to the result dtype so the folded value is the value the
runtime would have computed.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np

from archir.ir import Operation
from archir.passes.rewrite import Pattern, Rewriter, pattern
from archir.types import DType

_NP_DTYPES = {DType.F64: np.float64, DType.F32: np.float32, DType.F16: np.float16}


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def _softplus(x: float) -> float:
    return x + math.log1p(math.exp(-x)) if x > 0 else math.log1p(math.exp(x))


_UNARY: dict[str, Callable[[float, dict], float]] = {
    "identity": lambda x, a: x,
    "relu": lambda x, a: max(x, 0.0),
    "relu6": lambda x, a: min(max(x, 0.0), 6.0),
    "sigmoid": lambda x, a: _sigmoid(x),
    "tanh": lambda x, a: math.tanh(x),
    "silu": lambda x, a: x * _sigmoid(x),
    "hardsigmoid": lambda x, a: min(max(x / 6.0 + 0.5, 0.0), 1.0),
    "hardswish": lambda x, a: x * min(max(x / 6.0 + 0.5, 0.0), 1.0),
    "softplus": lambda x, a: _softplus(x),
    "mish": lambda x, a: x * math.tanh(_softplus(x)),
    "exp": lambda x, a: math.exp(x),
    "log": lambda x, a: math.log(x),
    "sqrt": lambda x, a: math.sqrt(x),
    "rsqrt": lambda x, a: 1.0 / math.sqrt(x),
    "reciprocal": lambda x, a: 1.0 / x,
    "neg": lambda x, a: -x,
    "abs": lambda x, a: abs(x),
    "erf": lambda x, a: math.erf(x),
    "sin": lambda x, a: math.sin(x),
    "cos": lambda x, a: math.cos(x),
    "floor": lambda x, a: float(math.floor(x)),
    "ceil": lambda x, a: float(math.ceil(x)),
    "sign": lambda x, a: float((x > 0) - (x < 0)),
    "leaky_relu": lambda x, a: x if x >= 0 else a["alpha"] * x,
    "elu": lambda x, a: x if x > 0 else a["alpha"] * math.expm1(x),
    "clip": lambda x, a: min(max(x, a["min"]), a["max"]),
    "gelu": lambda x, a: (0.5 * x * (1 + math.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
                          if a["approximate"] == "tanh" else 0.5 * x * (1 + math.erf(x / math.sqrt(2)))),
    "cast": lambda x, a: x,
}

_BINARY: dict[str, Callable[[float, float], float]] = {
    "add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
    "div": lambda x, y: x / y, "pow": lambda x, y: x**y,
    "maximum": max, "minimum": min,
    "equal": lambda x, y: float(x == y), "less": lambda x, y: float(x < y),
    "greater": lambda x, y: float(x > y),
}

# Ops that only move or repeat elements: a filled tensor stays filled with the same value.
_MOVEMENT = ("reshape", "flatten", "squeeze", "unsqueeze", "expand", "transpose", "slice", "resize",
             "roll", "channel_shuffle", "reduce_max", "reduce_min", "reduce_mean", "max_pool2d",
             "adaptive_avg_pool2d", "adaptive_max_pool2d", "global_avg_pool", "global_max_pool")


def _constant_value(v, rw: Rewriter) -> float | None:
    op = rw.producer(v)
    return op.attrs["value"] if op is not None and op.name == "constant" else None


def _rounded(value: float, dtype: DType) -> float | None:
    """``value`` as the runtime's ``dtype`` holds it, or None when it cannot be held exactly."""
    if dtype == DType.BOOL:
        return 1.0 if value else 0.0
    if not math.isfinite(value) and not dtype.is_float:
        return None
    if dtype in _NP_DTYPES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # overflow to inf is the runtime's answer too
            return float(_NP_DTYPES[dtype](value))
    if dtype.is_float:
        return None  # bf16: no numpy type to round with
    return float(int(value)) if value == int(value) else None


def _replace_by_constant(op: Operation, value: float | None, rw: Rewriter) -> bool:
    out = op.result.type
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    new = rw.create("constant", [], {"value": value, "dtype": out.dtype, "shape": out.shape},
                    before=op, name=op.result.name_hint)
    rw.replace_op(op, [new.result])
    return True


@pattern("fold-unary", *_UNARY)
def fold_unary(op: Operation, rw: Rewriter) -> bool:
    x = _constant_value(op.operands[0], rw)
    if x is None:
        return False
    try:
        value = _UNARY[op.name](x, op.attrs)
    except (ValueError, ZeroDivisionError, OverflowError):
        return False  # leave domain errors to the runtime
    if op.name == "cast" and not op.result.type.dtype.is_float and op.result.type.dtype != DType.BOOL:
        value = float(math.trunc(value)) if math.isfinite(value) else value
    return _replace_by_constant(op, _rounded(value, op.result.type.dtype), rw)


@pattern("fold-binary", *_BINARY)
def fold_binary(op: Operation, rw: Rewriter) -> bool:
    x, y = (_constant_value(v, rw) for v in op.operands)
    if x is not None and y is not None:
        if op.name in ("div", "pow") and not op.result.type.dtype.is_float:
            return False  # integer division and powers follow runtime-specific rules
        try:
            value = _BINARY[op.name](x, y)
        except (ValueError, ZeroDivisionError, OverflowError):
            return False
        return _replace_by_constant(op, _rounded(value, op.result.type.dtype), rw)
    return _identity_operand(op, x, y, rw)


_NEUTRAL = {"add": (0.0, 0.0), "mul": (1.0, 1.0), "sub": (None, 0.0), "div": (None, 1.0), "pow": (None, 1.0)}


def _identity_operand(op: Operation, x: float | None, y: float | None, rw: Rewriter) -> bool:
    """x + 0, 0 + x, x - 0, x * 1, 1 * x, x / 1, x ** 1 -> x (when that keeps the type)."""
    neutral = _NEUTRAL.get(op.name)
    if neutral is None:
        return False
    left, right = neutral
    if right is not None and y == right and op.operands[0].type == op.result.type:
        rw.replace_op(op, [op.operands[0]])
        return True
    if left is not None and x == left and op.operands[1].type == op.result.type:
        rw.replace_op(op, [op.operands[1]])
        return True
    return False


@pattern("fold-data-movement", *_MOVEMENT)
def fold_data_movement(op: Operation, rw: Rewriter) -> bool:
    x = _constant_value(op.operands[0], rw)
    return x is not None and _replace_by_constant(op, x, rw)


@pattern("fold-concat", "concat")
def fold_concat(op: Operation, rw: Rewriter) -> bool:
    values = {_constant_value(v, rw) for v in op.operands}
    if len(values) != 1 or None in values:
        return False
    return _replace_by_constant(op, values.pop(), rw)


@pattern("fold-pad", "pad")
def fold_pad(op: Operation, rw: Rewriter) -> bool:
    x = _constant_value(op.operands[0], rw)
    # reflect/edge padding repeats the value; constant padding must pad with the same value
    same = op.attrs["mode"] != "constant" or op.attrs["value"] == x or all(p <= 0 for p in op.attrs["pads"])
    return x is not None and same and _replace_by_constant(op, x, rw)


FOLD_PATTERNS: tuple[Pattern, ...] = (fold_unary, fold_binary, fold_data_movement, fold_concat, fold_pad)
