"""rotary and alibi, decomposed (the IR's definitions are in their op docs)."""

from __future__ import annotations

import math

import numpy as np

from archir.backends.onnx.attention import positions
from archir.backends.onnx.context import Emitter
from archir.backends.onnx.dtypes import numpy_dtype
from archir.backends.onnx.registry import emitter
from archir.ir import Operation


@emitter("rotary")
def rotary(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    x = op.operands[0].type
    a = op.attrs
    heads = a["num_heads"]
    width = x.shape[2]
    d = width // heads
    dtype = numpy_dtype(x.dtype)
    inv_freq = em.const((a["base"] ** (-np.arange(0, d, 2) / d)).astype(dtype), hint="inv_freq")
    pos = em.one("Unsqueeze", [positions(em, ins[0], x, dtype), em.ints([1])])
    angles = em.one("Mul", [pos, inv_freq])  # (S, d/2)
    if a["interleaved"]:  # pairs (2i, 2i+1): work on (B, S, H, d/2, 2)
        table = [0, 0, heads, d // 2, 2]
        xs = em.one("Reshape", [ins[0], em.ints(table)])
        cos = em.one("Reshape", [em.one("Cos", [angles]), em.ints([0, 1, d // 2, 1])])
        sin = em.one("Reshape", [em.one("Sin", [angles]), em.ints([0, 1, d // 2, 1])])
        first, second = em.node("Split", [xs, em.ints([1, 1])], 2, axis=-1)
    else:  # halves (i, i + d/2): work on (B, S, H, d)
        xs = em.one("Reshape", [ins[0], em.ints([0, 0, heads, d])])
        cos = em.one("Reshape", [em.one("Cos", [angles]), em.ints([0, 1, d // 2])])
        sin = em.one("Reshape", [em.one("Sin", [angles]), em.ints([0, 1, d // 2])])
        first, second = em.node("Split", [xs, em.ints([d // 2, d // 2])], 2, axis=-1)
    out_first = em.one("Sub", [em.one("Mul", [first, cos]), em.one("Mul", [second, sin])])
    out_second = em.one("Add", [em.one("Mul", [second, cos]), em.one("Mul", [first, sin])])
    joined = em.one("Concat", [out_first, out_second], axis=-1)
    return em.node("Reshape", [joined, em.ints([0, 0, width])], em.outs(op))


def alibi_slopes(heads: int) -> np.ndarray:
    """The ALiBi paper's head slopes."""

    def power_of_two(n: int) -> list[float]:
        start = 2.0 ** (-8.0 / n)
        return [start ** (i + 1) for i in range(n)]

    if math.log2(heads).is_integer():
        return np.array(power_of_two(heads))
    closest = 2 ** math.floor(math.log2(heads))
    return np.array(power_of_two(closest) + power_of_two(2 * closest)[0::2][: heads - closest])


@emitter("alibi")
def alibi(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    x = op.operands[0].type
    heads = op.attrs["num_heads"]
    dtype = numpy_dtype(x.dtype)
    pos = positions(em, ins[0], x, dtype)
    rows = em.one("Unsqueeze", [pos, em.ints([1])])
    cols = em.one("Unsqueeze", [pos, em.ints([0])])
    distance = em.one("Sub", [cols, rows])  # (S, S): j - i
    slopes = em.const(alibi_slopes(heads).astype(dtype).reshape(1, heads, 1, 1), hint="alibi_slopes")
    return em.node("Mul", [em.one("Unsqueeze", [distance, em.ints([0, 1])]), slopes], em.outs(op))
