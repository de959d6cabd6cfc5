"""Attention on PyTorch's (..., heads, seq, dim) layout → the IR's packed-heads ``attention``.

torch code (SDPA or hand-written) holds q, k, v as (batch..., H, S, D). The IR's attention
takes (B, S, H·D) operands, so q, k and v are packed (transpose + reshape, which usually
cancels against the head split that produced them) and the result is unpacked the same way.
Grouped heads are read off the operands: a key repeated per query group (repeat_interleave,
Llama's expand + reshape) or broadcast from one head is used once, with ``num_kv_heads`` set.
"""

from __future__ import annotations

from math import isclose, prod

import numpy as np

from archir.frontends.torch import layout, masks
from archir.frontends.torch.emit import Emitter
from archir.ir import Value


def kv_heads(em: Emitter, x: Value) -> tuple[Value, int]:
    """The key/value tensor before any per-group repetition, and its head count."""
    shape = x.type.shape
    src = x.owner
    if src is not None and src.name in layout.RESHAPES:
        e = src.operands[0]
        if e.owner is not None and e.owner.name == "expand":
            u = e.owner.operands[0]
            es, us = e.type.shape, u.type.shape
            if (len(es) == len(shape) + 1 and len(us) == len(es) and us[-3] == 1
                    and us[:-3] == es[:-3] and es[:-4] == shape[:-3]
                    and es[-4] * es[-3] == shape[-3] and us[-2:] == es[-2:] == shape[-2:]):
                return layout.reshape(em, u, (*shape[:-3], es[-4], *shape[-2:])), es[-4]
    if src is not None and src.name == "expand":
        u = src.operands[0]
        us = u.type.shape
        if len(us) == len(shape) and us[-3] == 1 and us[:-3] == shape[:-3] and us[-2:] == shape[-2:]:
            return u, 1
    return x, shape[-3]


def _bias_value(em: Emitter, bias: Value | np.ndarray, q: Value, batch: tuple, s: int, t: int
                ) -> Value:
    """The bias as a (B|1, H|1, S|1, T|1) operand for packed attention."""
    heads_axis = q.type.rank >= 4
    if isinstance(bias, np.ndarray):
        b = bias.reshape((1,) * (q.type.rank - bias.ndim) + bias.shape)
        if not heads_axis:
            b = b[:, None]
        lead = b.shape[:-3]
        if any(d != 1 for d in lead):
            b = np.broadcast_to(b, (*batch, *b.shape[-3:]))
        b = b.reshape(((prod(batch) if any(d != 1 for d in lead) else 1), *b.shape[-3:]))
        return em.array(np.ascontiguousarray(b), q.type.dtype)
    shape = (1,) * (q.type.rank - bias.type.rank) + tuple(bias.type.shape)
    if not heads_axis:
        shape = shape[:1] + (1,) + shape[1:]
    lead = shape[:-3]
    if any(d != 1 for d in lead):
        full = (*batch, *shape[-3:])
        bias = layout.reshape(em, bias, shape)
        if tuple(bias.type.shape) != full:
            bias = em.op("expand", bias, shape=full)
        return layout.reshape(em, bias, (prod(batch), *shape[-3:]))
    return layout.reshape(em, bias, (1, *shape[-3:]))


def emit_attention(em: Emitter, q: Value, k: Value, v: Value, *,
                   bias: Value | np.ndarray | None = None, causal: bool = False,
                   scale: float | None = None, q_factor: np.ndarray | None = None,
                   heads: int | None = None) -> Value | None:
    """softmax(q·kᵀ·scale + bias)·v as one ``attention`` op, in and out in torch's layout;
    None when the operands do not fit it (batch dims that differ, heads that do not divide).

    ``heads`` splits the batch of rank-3 (B·H, S, D) operands (nn.MultiheadAttention's
    explicit path) back into B and H.
    """
    rank = q.type.rank
    if rank < 3 or k.type.rank != rank or v.type.rank != rank:
        return None
    if rank == 3 and heads and heads > 1 and q.type.shape[0] % heads == 0 and (
            k.type.shape[0] == v.type.shape[0] == q.type.shape[0]):
        split = [layout.reshape(em, x, (x.type.shape[0] // heads, heads, *x.type.shape[1:]))
                 for x in (q, k, v)]
        if isinstance(bias, np.ndarray) and bias.ndim == 3 and bias.shape[0] > 1:
            bias = bias.reshape(bias.shape[0] // heads, heads, *bias.shape[1:])
        elif isinstance(bias, Value):
            return None
        if q_factor is not None:  # constant over (S, T): one value per batch·head entry
            f = masks.compress(q_factor)
            f = np.broadcast_to(f.reshape((1,) * (3 - f.ndim) + f.shape)[..., :1, :1],
                                (q.type.shape[0], 1, 1))
            q_factor = f.reshape(-1, heads, 1, 1)
        out = emit_attention(em, *split, bias=bias, causal=causal, scale=scale, q_factor=q_factor)
        return None if out is None else layout.reshape(em, out, (q.type.shape[0], *out.type.shape[2:]))
    if rank == 3:  # (X, S, D): one head per batch entry
        (kb, hk), (vb, hv) = (k, 1), (v, 1)
        heads, batch = 1, q.type.shape[:1]
    else:
        (kb, hk), (vb, hv) = kv_heads(em, k), kv_heads(em, v)
        heads, batch = q.type.shape[-3], q.type.shape[:-3]
    kv_batch = kb.type.shape[:-3] if rank > 3 else kb.type.shape[:1]
    if (kv_batch != batch or vb.type.shape[:-2] != kb.type.shape[:-2] or hk != hv
            or heads % hk or q.type.shape[-1] != kb.type.shape[-1]
            or kb.type.shape[-2] != vb.type.shape[-2]):
        return None
    s, t, d = q.type.shape[-2], kb.type.shape[-2], q.type.shape[-1]
    window = 0
    if isinstance(bias, np.ndarray):
        bias = masks.compress(masks.additive(bias))
        replaceable, is_causal, window = masks.classify(bias, s, t)
        if replaceable:
            bias, causal = None, causal or is_causal
    if q_factor is not None:
        q = em.op("mul", q, em.array(masks.compress(q_factor.astype(np.float32)), q.type.dtype))
    operands = [_pack(em, x, batch) for x in (q, kb, vb)]
    if bias is not None:
        operands.append(_bias_value(em, bias, q, batch, s, t))
    if scale is None or isclose(scale, d ** -0.5, rel_tol=1e-6):
        scale = 0.0
    out = em.op("attention", *operands, num_heads=heads, num_kv_heads=hk, causal=causal,
                window=window, scale=float(scale))
    return _unpack(em, out, batch, heads) if rank > 3 else out


def _pack(em: Emitter, x: Value, batch: tuple) -> Value:
    """(*batch, H, S, D) → (prod(batch), S, H·D)."""
    if x.type.rank == 3:
        return x
    rank = x.type.rank
    h, s, d = x.type.shape[-3:]
    x = layout.transpose(em, x, [*range(rank - 3), rank - 2, rank - 3, rank - 1])
    return layout.reshape(em, x, (prod(batch), s, h * d))


def _unpack(em: Emitter, out: Value, batch: tuple, heads: int) -> Value:
    _, s, width = out.type.shape
    y = layout.reshape(em, out, (*batch, s, heads, width // heads))
    rank = y.type.rank
    return layout.transpose(em, y, [*range(rank - 3), rank - 2, rank - 3, rank - 1])
