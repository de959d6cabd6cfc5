"""Reductions (axes as an input, opset 18) and argmax."""

from __future__ import annotations

from archir.backends.onnx.context import Emitter
from archir.backends.onnx.registry import emitter
from archir.ir import Operation

_REDUCE = {"reduce_mean": "ReduceMean", "reduce_sum": "ReduceSum", "reduce_max": "ReduceMax",
           "reduce_min": "ReduceMin", "reduce_prod": "ReduceProd"}


def _reduce(op_type: str):
    def emit(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
        axes = [em.ints(op.attrs["axes"])] if op.attrs["axes"] else []  # none: every axis
        return em.node(op_type, [ins[0], *axes], em.outs(op), keepdims=int(op.attrs["keepdims"]))

    return emit


for _ir, _onnx in _REDUCE.items():
    emitter(_ir)(_reduce(_onnx))


@emitter("argmax")
def argmax(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    return em.node("ArgMax", ins, em.outs(op), axis=op.attrs["axis"], keepdims=int(op.attrs["keepdims"]))
