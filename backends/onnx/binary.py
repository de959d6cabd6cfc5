"""Elementwise binary ops, where, softmax."""

from __future__ import annotations

from archir.backends.onnx.context import Emitter
from archir.backends.onnx.registry import emitter
from archir.ir import Operation

_BINARY = {
    "add": "Add", "sub": "Sub", "mul": "Mul", "pow": "Pow", "maximum": "Max",
    "minimum": "Min", "equal": "Equal", "less": "Less", "greater": "Greater", "where": "Where",
}


def _binary(op_type: str):
    def emit(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
        return em.node(op_type, ins, em.outs(op))

    return emit


for _ir, _onnx in _BINARY.items():
    emitter(_ir)(_binary(_onnx))


@emitter("div")
def div(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    if op.results[0].type.dtype.is_float:
        return em.node("Div", ins, em.outs(op))
    # the IR floors integer quotients (PyTorch's //), ONNX Div truncates: a - a mod b (Python's
    # mod, sign of b) is a multiple of b, so dividing it is exact
    a, b = ins
    exact = em.one("Sub", [a, em.one("Mod", [a, b], fmod=0)])
    return em.node("Div", [exact, b], em.outs(op))


@emitter("softmax", "log_softmax")
def softmax(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    kind = "Softmax" if op.name == "softmax" else "LogSoftmax"
    return em.node(kind, ins, em.outs(op), axis=op.attrs["axis"])
