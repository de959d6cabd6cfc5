"""Activations and other one-input elementwise ops; eval-mode dropout is the identity."""

from __future__ import annotations

import math
from typing import Any

from archir.frontends.torch.table import converts

# torch name → IR op, for ops that map one to one (their in-place forms too)
_SAME = {
    "relu": "relu", "sigmoid": "sigmoid", "tanh": "tanh", "silu": "silu", "hardswish": "hardswish",
    "hardsigmoid": "hardsigmoid", "mish": "mish", "exp": "exp", "log": "log", "sqrt": "sqrt",
    "rsqrt": "rsqrt", "neg": "neg", "abs": "abs", "erf": "erf", "sin": "sin", "cos": "cos",
    "reciprocal": "reciprocal", "floor": "floor", "ceil": "ceil", "sign": "sign", "relu6": "relu6",
}


def _unary(kind: str):
    def convert(cx, a: dict[str, Any]):
        x = cx.value(a["self"])
        return cx.em.op(kind, cx.em.cast(x, cx.type_of(cx.node).dtype))

    return convert


for _torch, _ir in _SAME.items():
    converts(f"aten.{_torch}.default", f"aten.{_torch}_.default")(_unary(_ir))


@converts("aten.gelu.default", "aten.gelu_.default")
def gelu(cx, a):
    return cx.em.op("gelu", cx.value(a["self"]), approximate=a["approximate"])


@converts("aten.leaky_relu.default", "aten.leaky_relu_.default")
def leaky_relu(cx, a):
    return cx.em.op("leaky_relu", cx.value(a["self"]), alpha=float(a["negative_slope"]))


def _elu_check(cx, a):
    if float(a["scale"]) != 1.0 or float(a["input_scale"]) != 1.0:
        return "only scale = input_scale = 1 (plain ELU) is supported"
    return None


@converts("aten.elu.default", "aten.elu_.default", check=_elu_check)
def elu(cx, a):
    return cx.em.op("elu", cx.value(a["self"]), alpha=float(a["alpha"]))


def _softplus_check(cx, a):
    # the IR's softplus is log(1 + exp(x)); torch switches to x above threshold/beta, which
    # agrees to float32 precision for the default threshold only
    if float(a["beta"]) != 1.0 or float(a["threshold"]) < 20.0:
        return "only beta = 1 and threshold >= 20 are supported"
    return None


@converts("aten.softplus.default", check=_softplus_check)
def softplus(cx, a):
    return cx.em.op("softplus", cx.value(a["self"]))


@converts("aten.hardtanh.default", "aten.hardtanh_.default")
def hardtanh(cx, a):
    lo, hi = float(a["min_val"]), float(a["max_val"])
    x = cx.value(a["self"])
    if (lo, hi) == (0.0, 6.0):
        return cx.em.op("relu6", x)
    return cx.em.op("clip", x, min=lo, max=hi)


def _clamp_bounds(cx, a) -> tuple[float, float]:
    lo, hi = a.get("min"), a.get("max")
    return (-math.inf if lo is None else float(lo)), (math.inf if hi is None else float(hi))


def _scalar_bounds(cx, a):
    for key in ("min", "max"):
        if a.get(key) is not None and not isinstance(a[key], (int, float)):
            return "tensor bounds are lowered by aten.clamp.Tensor"
    return None


@converts("aten.clamp.default", "aten.clamp_.default", check=_scalar_bounds)
def clamp(cx, a):
    lo, hi = _clamp_bounds(cx, a)
    x = cx.value(a["self"])
    if (lo, hi) == (0.0, 6.0):
        return cx.em.op("relu6", x)
    if (lo, hi) == (0.0, math.inf):
        return cx.em.op("relu", x)
    return cx.em.op("clip", x, min=lo, max=hi)


@converts("aten.clamp_min.default", "aten.clamp_min_.default")
def clamp_min(cx, a):
    return clamp(cx, {"self": a["self"], "min": a["min"], "max": None})


@converts("aten.clamp_max.default", "aten.clamp_max_.default")
def clamp_max(cx, a):
    return clamp(cx, {"self": a["self"], "min": None, "max": a["max"]})


@converts("aten.clamp.Tensor")
def clamp_tensor(cx, a):
    x = cx.value(a["self"])
    dtype = cx.type_of(cx.node).dtype
    x = cx.em.cast(x, dtype)
    if a.get("min") is not None:
        x = cx.em.op("maximum", x, cx.em.cast(cx.value(a["min"], like=x), dtype))
    if a.get("max") is not None:
        x = cx.em.op("minimum", x, cx.em.cast(cx.value(a["max"], like=x), dtype))
    return x


@converts("aten.prelu.default", check=lambda cx, a: None if cx.is_const(a["weight"])
          else "the slope is computed from the inputs")
def prelu(cx, a):
    slope = cx.weight(a["weight"])
    count = cx.type_of(a["weight"]).numel()
    return cx.em.op("prelu", cx.value(a["self"]), num_parameters=count,
                    weights=None if slope is None else {"weight": slope.reshape(count)})


def _eval_only(cx, a):
    return "dropout in training mode" if a.get("train") else None


@converts("aten.dropout.default", "aten.dropout_.default", "aten.feature_dropout.default",
          "aten.feature_dropout_.default", "aten.alpha_dropout.default",
          "aten.feature_alpha_dropout.default", check=_eval_only)
def dropout(cx, a):
    # lowered in eval mode, where dropout passes its input through
    return cx.value(next(iter(a.values())))
