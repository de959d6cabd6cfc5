"""attention: ONNX's Attention op from opset 23, else a MatMul/Softmax decomposition.

Heads are packed in the last dim (the IR's layout); kv head h // (num_heads/num_kv_heads)
serves query head h; the window/causal mask is built from the run-time sequence lengths.
"""

from __future__ import annotations

import math

import numpy as np
from onnx import helper

from archir.backends.onnx.context import Emitter
from archir.backends.onnx.dtypes import numpy_dtype
from archir.backends.onnx.registry import emitter
from archir.ir import Operation
from archir.types import TensorType


def seq_len(em: Emitter, x: str, t: TensorType) -> tuple[str, int | None]:
    """A scalar int64 tensor with the sequence length (dim 1) of ``x``, and its static value."""
    n = t.shape[1]
    if isinstance(n, int):
        return em.const(np.array(n, np.int64), hint="len"), n
    return em.one("Squeeze", [em.one("Shape", [x], start=1, end=2), em.ints([0])]), None


def positions(em: Emitter, x: str, t: TensorType, dtype: np.dtype) -> str:
    """The positions 0..S-1 of ``x``'s sequence (dim 1) as a float vector."""
    n, static = seq_len(em, x, t)
    if static is not None:
        return em.const(np.arange(static, dtype=dtype), hint="positions")
    zero, one = em.const(np.array(0, np.int64), hint="zero"), em.const(np.array(1, np.int64), hint="one")
    return em.one("Cast", [em.one("Range", [zero, n, one])], to=helper.np_dtype_to_tensor_dtype(dtype))


def _mask(em: Emitter, op: Operation, ins: list[str], causal: bool) -> str | None:
    """Additive (S, T) mask: -inf where the window or causality hides a key, else 0."""
    q, k = op.operands[0].type, op.operands[1].type
    window = op.attrs["window"]
    if not causal and not window:
        return None
    dtype = numpy_dtype(q.dtype)
    if isinstance(q.shape[1], int) and isinstance(k.shape[1], int):
        diff = np.arange(k.shape[1])[None, :] - np.arange(q.shape[1])[:, None]
        hidden = np.zeros(diff.shape, bool)
    else:
        rows = em.one("Unsqueeze", [positions(em, ins[0], q, np.dtype(np.int64)), em.ints([1])])
        cols = em.one("Unsqueeze", [positions(em, ins[1], k, np.dtype(np.int64)), em.ints([0])])
        diff = em.one("Sub", [cols, rows])
        hidden = None
    if hidden is not None:  # static: one constant
        if causal:
            hidden |= diff > 0
        if window:
            hidden |= np.abs(diff) >= window
        return em.const(np.where(hidden, -np.inf, 0).astype(dtype), hint="mask")
    parts = []
    if causal:
        parts.append(em.one("Greater", [diff, em.const(np.array(0, np.int64), hint="zero")]))
    if window:
        far = em.one("Abs", [diff])
        parts.append(em.one("Not", [em.one("Less", [far, em.const(np.array(window, np.int64), hint="w")])]))
    hide = parts[0] if len(parts) == 1 else em.one("Or", parts)
    return em.one("Where", [hide, em.const(np.array(-np.inf, dtype), hint="ninf"),
                            em.const(np.array(0, dtype), hint="zero_f")])


@emitter("attention")
def attention(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    a = op.attrs
    q, v = op.operands[0].type, op.operands[2].type
    hq, hkv = a["num_heads"], a["num_kv_heads"]
    d, dv = q.shape[2] // hq, v.shape[2] // hkv
    scale = a["scale"] or 1.0 / math.sqrt(d)
    causal_only = a["causal"] and not a["window"] and len(ins) == 3
    mask = _mask(em, op, ins, a["causal"] and not (causal_only and em.opset >= 23))
    if len(ins) == 4:
        mask = em.one("Add", [mask, ins[3]]) if mask else ins[3]
    if em.opset >= 23:
        return em.node("Attention", [*ins[:3], *([mask] if mask else [])], em.outs(op)[:1],
                       q_num_heads=hq, kv_num_heads=hkv, scale=a["scale"] or None,  # default 1/√d
                       is_causal=1 if causal_only else None)
    qh = em.one("Transpose", [em.one("Reshape", [ins[0], em.ints([0, 0, hq, d])])], perm=[0, 2, 1, 3])
    kh = em.one("Transpose", [em.one("Reshape", [ins[1], em.ints([0, 0, hkv, d])])], perm=[0, 2, 3, 1])
    vh = em.one("Transpose", [em.one("Reshape", [ins[2], em.ints([0, 0, hkv, dv])])], perm=[0, 2, 1, 3])
    if hkv != hq:  # repeat each kv head num_heads/num_kv_heads times, adjacent (repeat_interleave)
        g = hq // hkv
        kh = _repeat_heads(em, kh, g, [0, hq, d, -1])
        vh = _repeat_heads(em, vh, g, [0, hq, -1, dv])
    scores = em.one("Mul", [em.one("MatMul", [qh, kh]), em.scalar(scale, q)])
    if mask:
        scores = em.one("Add", [scores, mask])
    out = em.one("MatMul", [em.one("Softmax", [scores], axis=-1), vh])
    merged = em.one("Transpose", [out], perm=[0, 2, 1, 3])
    return em.node("Reshape", [merged, em.ints([0, 0, hq * dv])], em.outs(op))


def _repeat_heads(em: Emitter, x: str, g: int, shape: list[int]) -> str:
    wide = em.one("Expand", [em.one("Unsqueeze", [x, em.ints([2])]), em.ints([1, 1, g, 1, 1])])
    return em.one("Reshape", [wide, em.ints(shape)])
