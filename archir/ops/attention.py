"""Attention and positional encodings.

Heads are packed in the last dimension: q is (B, S, Hq·D), k is (B, T, Hkv·D), v is
(B, T, Hkv·Dv). That keeps the q/k/v projections plain ``linear`` ops whose widths follow
``num_heads`` and ``num_kv_heads``, so MHA → GQA → MQA is an attribute change plus a width
change, which is what a searcher mutates.
"""

from __future__ import annotations

from archir.attrs import BOOL, FLOAT, INT, Attr
from archir.opdef import InferError, declare
from archir.ops._shapes import broadcast, static
from archir.types import TensorType


def _heads(a) -> tuple[int, int]:
    hq, hkv = a["num_heads"], a["num_kv_heads"]
    if hq < 1 or hkv < 1 or hq % hkv:
        raise InferError(f"num_kv_heads={hkv} must divide num_heads={hq} (MHA, GQA or MQA)")
    return hq, hkv


def _attention_infer(ins, a):
    q, k, v = ins[:3]
    hq, hkv = _heads(a)
    if not q.rank == k.rank == v.rank == 3:
        raise InferError(f"attention takes (batch, seq, heads·dim) operands, got {q}, {k}, {v}")
    if k.shape[:2] != v.shape[:2] or q.shape[0] != k.shape[0]:
        raise InferError(f"batch/sequence of q, k, v do not match: {q}, {k}, {v}")
    width = static(q.shape[2], "query width")
    if width % hq:
        raise InferError(f"query width {width} is not divisible by num_heads={hq}")
    head_dim = width // hq
    if k.shape[2] != hkv * head_dim:
        raise InferError(f"key width {k.shape[2]} != num_kv_heads·head_dim = {hkv}·{head_dim}")
    v_width = static(v.shape[2], "value width")
    if v_width % hkv:
        raise InferError(f"value width {v_width} is not divisible by num_kv_heads={hkv}")
    if a["window"] < 0:
        raise InferError("window must be >= 0 (0: attend to the whole sequence)")
    if len(ins) == 4:
        bias = ins[3]
        if bias.rank > 4:
            raise InferError(f"attention bias must broadcast to (B, H, S, T), got {bias}")
        broadcast(bias, TensorType(q.dtype, (q.shape[0], hq, q.shape[1], k.shape[1])))
    return (q.with_shape((q.shape[0], q.shape[1], hq * (v_width // hkv))),)


declare(
    "attention", "q k v bias?", _attention_infer, family="attention",
    attrs={
        "num_heads": Attr(INT),
        "num_kv_heads": Attr(INT, doc="== num_heads: MHA; 1: MQA; in between: GQA"),
        "window": Attr(INT, 0, doc="local attention span in tokens; 0 attends everywhere"),
        "causal": Attr(BOOL, False),
        "scale": Attr(FLOAT, 0.0, doc="score scale; 0 means 1/sqrt(head_dim)"),
    },
    doc="softmax(q·kᵀ·scale + bias)·v per head; query head h reads kv head "
        "h // (num_heads/num_kv_heads) (PyTorch's enable_gqa). Query i sees key j iff "
        "|i - j| < window (when window > 0) and, when causal, j <= i (top-left aligned as "
        "PyTorch's is_causal).",
)


def _rotary_infer(ins, a):
    (x,) = ins
    if x.rank != 3 or a["num_heads"] < 1:
        raise InferError(f"rotary needs (B, S, heads·dim) and num_heads >= 1, got {x}")
    width = static(x.shape[-1], "width")
    if width % a["num_heads"] or (width // a["num_heads"]) % 2:
        raise InferError(f"rotary needs (B, S, heads·dim) with an even head dim, got {x}")
    return (x,)


declare(
    "rotary", "x", _rotary_infer, family="position",
    attrs={"num_heads": Attr(INT), "base": Attr(FLOAT, 10000.0),
           "interleaved": Attr(BOOL, False, doc="rotate (even, odd) pairs, else halves")},
    doc="rotary position embedding (RoPE) within each head of width d: position p = 0..S-1, "
        "angle p·base^(-2i/d) for i < d/2; pairs (i, i + d/2) (halves, HF LLaMA's "
        "rotate_half) or (2i, 2i+1) when interleaved map (a, b) to (a·cos - b·sin, b·cos + a·sin)",
)


def _alibi_infer(ins, a):
    (x,) = ins
    if x.rank != 3 or a["num_heads"] < 1:
        raise InferError(f"alibi takes (B, S, width) and num_heads >= 1, got {x}")
    return (x.with_shape((1, a["num_heads"], x.shape[1], x.shape[1])),)


declare(
    "alibi", "x", _alibi_infer, family="position", attrs={"num_heads": Attr(INT)},
    doc="ALiBi attention bias (1, H, S, S) for the sequence of x, bias[h, i, j] = m_h·(j - i) "
        "with the paper's slopes m_h = 2^(-8(h+1)/H) (H a power of two; otherwise those of the "
        "nearest lower power n, then every other slope of 2n); feed it to attention",
)
