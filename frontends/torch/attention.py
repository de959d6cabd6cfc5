"""F.scaled_dot_product_attention → ``attention`` (nn.MultiheadAttention and torchvision's ViT
reach SDPA too; hand-written attention is raised after conversion, see ``raise_attention``)."""

from __future__ import annotations

import numpy as np

from archir.frontends.torch import layout
from archir.frontends.torch.heads import emit_attention
from archir.frontends.torch.table import converts
from archir.types import DType


def _sdpa_check(cx, a):
    if cx.type_of(a["query"]).rank < 3:
        return "attention on operands of rank < 3"
    return None


@converts("aten.scaled_dot_product_attention.default", check=_sdpa_check)
def sdpa(cx, a):
    em = cx.em
    q, k, v = (cx.value(a[n]) for n in ("query", "key", "value"))
    mask = a["attn_mask"]
    bias = None
    if mask is not None:
        if cx.is_const(mask) and cx.known(mask) and not cx.is_learned(mask):
            bias = cx.const(mask)
            if bias.dtype != np.bool_:
                bias = bias.astype(np.float32)
        else:
            bias = cx.value(mask)
            if bias.type.dtype == DType.BOOL:
                bias = em.op("where", bias, em.scalar(0.0, q.type.dtype),
                             em.scalar(float("-inf"), q.type.dtype))
    out = emit_attention(em, q, k, v, bias=bias, causal=bool(a["is_causal"]), scale=a["scale"])
    if out is None:
        out = _math(cx, q, k, v, bias, bool(a["is_causal"]), a["scale"])
    return out


def _math(cx, q, k, v, bias, causal: bool, scale: float | None):
    """SDPA spelled out, for operands the attention op cannot take (e.g. broadcast batches)."""
    em = cx.em
    dtype = q.type.dtype
    if k.type.shape[-3:-2] != q.type.shape[-3:-2] and q.type.rank >= 4:
        group = q.type.shape[-3] // k.type.shape[-3]
        k, v = (_repeat_heads(em, x, group) for x in (k, v))
    d = q.type.shape[-1]
    scores = em.op("matmul", q, layout.swap(em, k, -1, -2))
    scores = em.op("mul", scores, em.scalar(d ** -0.5 if scale is None else scale, dtype))
    s, t = scores.type.shape[-2:]
    if causal:
        bias = np.where(np.tril(np.ones((s, t), bool)), 0.0, -np.inf).astype(np.float32)
    if isinstance(bias, np.ndarray):
        bias = em.array(bias.astype(np.float32) if bias.dtype != np.bool_
                        else np.where(bias, 0.0, -np.inf).astype(np.float32), dtype)
    if bias is not None:
        scores = em.op("add", scores, bias)
    return em.op("matmul", em.op("softmax", scores, axis=-1), v)


def _repeat_heads(em, x, group: int):
    shape = list(x.type.shape)
    wide = shape[:-2] + [1] + shape[-2:]
    y = layout.reshape(em, x, wide)
    y = em.op("expand", y, shape=wide[:-3] + [group] + wide[-2:])
    return layout.reshape(em, y, shape[:-3] + [shape[-3] * group] + shape[-2:])
