"""linear (Gemm for matrices, MatMul + Add otherwise), matmul and embedding."""

from __future__ import annotations

from onnx import TensorProto

from archir.backends.onnx.context import Emitter
from archir.backends.onnx.registry import emitter
from archir.ir import Operation


@emitter("linear")
def linear(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    x = op.operands[0].type
    weight = em.weight(op, "weight")
    bias = [em.weight(op, "bias")] if op.attrs["bias"] else []
    if x.rank == 2:
        return em.node("Gemm", [ins[0], weight, *bias], em.outs(op), transB=1)
    wt = em.one("Transpose", [weight], perm=[1, 0])  # folded by any ONNX optimiser
    if not bias:
        return em.node("MatMul", [ins[0], wt], em.outs(op))
    return em.node("Add", [em.one("MatMul", [ins[0], wt]), bias[0]], em.outs(op))


@emitter("matmul")
def matmul(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    return em.node("MatMul", ins, em.outs(op))


@emitter("embedding")
def embedding(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    ids = ins[0]
    if op.operands[0].type.dtype.value not in ("i64", "i32"):  # Gather takes int32/int64 indices
        ids = em.one("Cast", [ids], to=TensorProto.INT64)
    return em.node("Gather", [em.weight(op, "weight"), ids], em.outs(op), axis=0)
