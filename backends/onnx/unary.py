"""Elementwise unary ops; the ones ONNX lacks (silu, rsqrt, gelu before opset 20) are
decomposed."""

from __future__ import annotations

import math

from archir.backends.onnx.context import Emitter
from archir.backends.onnx.dtypes import ONNX_TYPE
from archir.backends.onnx.registry import emitter
from archir.ir import Operation

_PLAIN = {
    "relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "hardswish": "HardSwish", "mish": "Mish",
    "softplus": "Softplus", "exp": "Exp", "log": "Log", "sqrt": "Sqrt", "neg": "Neg", "abs": "Abs",
    "erf": "Erf", "sin": "Sin", "cos": "Cos", "reciprocal": "Reciprocal", "floor": "Floor",
    "ceil": "Ceil", "sign": "Sign", "identity": "Identity",
}


def _plain(op_type: str):
    def emit(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
        return em.node(op_type, ins, em.outs(op))

    return emit


for _ir, _onnx in _PLAIN.items():
    emitter(_ir)(_plain(_onnx))


@emitter("relu6", "clip")
def clip(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    t = op.operands[0].type
    lo, hi = (0.0, 6.0) if op.name == "relu6" else (op.attrs["min"], op.attrs["max"])
    bounds = [em.scalar(lo, t) if lo != -math.inf else "", em.scalar(hi, t) if hi != math.inf else ""]
    while bounds and not bounds[-1]:
        bounds.pop()
    return em.node("Clip", [ins[0], *bounds], em.outs(op))


@emitter("dropout")
def dropout(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    # kept as Dropout (an identity at inference) so the architecture survives a round trip
    ratio = em.scalar(op.attrs["p"], op.operands[0].type)
    return em.node("Dropout", [ins[0], ratio], em.outs(op))


@emitter("hardsigmoid")
def hardsigmoid(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    return em.node("HardSigmoid", ins, em.outs(op), alpha=1.0 / 6.0, beta=0.5)


@emitter("silu")
def silu(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    return em.node("Mul", [ins[0], em.one("Sigmoid", ins)], em.outs(op))


@emitter("rsqrt")
def rsqrt(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    return em.node("Reciprocal", [em.one("Sqrt", ins)], em.outs(op))


@emitter("gelu")
def gelu(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    approximate = op.attrs["approximate"]
    if em.opset >= 20:
        return em.node("Gelu", ins, em.outs(op), approximate=approximate)
    t = op.operands[0].type
    x = ins[0]
    if approximate == "tanh":  # 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
        cube = em.one("Mul", [em.one("Mul", [x, x]), x])
        inner = em.one("Add", [x, em.one("Mul", [cube, em.scalar(0.044715, t)])])
        core = em.one("Tanh", [em.one("Mul", [inner, em.scalar(math.sqrt(2 / math.pi), t)])])
    else:  # 0.5·x·(1 + erf(x/√2)); a Div, not a Mul by 1/√2: onnxruntime fuses only this into Gelu
        core = em.one("Erf", [em.one("Div", [x, em.scalar(math.sqrt(2), t)])])
    half = em.one("Mul", [x, em.scalar(0.5, t)])
    return em.node("Mul", [half, em.one("Add", [core, em.scalar(1.0, t)])], em.outs(op))


@emitter("leaky_relu")
def leaky_relu(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    return em.node("LeakyRelu", ins, em.outs(op), alpha=op.attrs["alpha"])


@emitter("elu")
def elu(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    return em.node("Elu", ins, em.outs(op), alpha=op.attrs["alpha"])


@emitter("prelu")
def prelu(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    x = op.operands[0].type
    slope = em.weight(op, "weight")
    if op.attrs["num_parameters"] > 1:  # one slope per channel (axis 1)
        slope = em.one("Reshape", [slope, em.ints([-1] + [1] * (x.rank - 2))])
    return em.node("PRelu", [ins[0], slope], em.outs(op))


@emitter("cast")
def cast(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    return em.node("Cast", ins, em.outs(op), to=ONNX_TYPE[op.attrs["dtype"]])
