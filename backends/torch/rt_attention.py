"""Runtime helpers for attention and positional encodings.

These functions are copied verbatim into generated files (see ``helpers.py``), so they may use
only ``torch``, ``F``, ``math`` and each other, and they document the IR semantics they implement.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, bias: torch.Tensor | None = None, *,
              num_heads: int, num_kv_heads: int, window: int = 0, causal: bool = False,
              scale: float = 0.0) -> torch.Tensor:
    """softmax(q·kᵀ·scale + bias)·v per head, heads packed in the last dim: (B, S, H·D).

    Query head h reads kv head h // (num_heads // num_kv_heads) (GQA; MQA when one kv head).
    causal: query i sees keys j <= i (top-left aligned, as PyTorch). window w > 0: query i sees
    keys with |i - j| < w (with causal: the w most recent keys, itself included).
    """
    s, t = q.shape[1], k.shape[1]
    q = q.unflatten(-1, (num_heads, -1)).transpose(1, 2)
    k = k.unflatten(-1, (num_kv_heads, -1)).transpose(1, 2)
    v = v.unflatten(-1, (num_kv_heads, -1)).transpose(1, 2)
    if num_kv_heads != num_heads:
        k = k.repeat_interleave(num_heads // num_kv_heads, dim=1)
        v = v.repeat_interleave(num_heads // num_kv_heads, dim=1)
    mask = bias
    if window > 0 or (causal and bias is not None):
        # one boolean (S, T) band; SDPA's is_causal cannot be combined with a mask
        i = torch.arange(s, device=q.device)[:, None]
        j = torch.arange(t, device=q.device)[None, :]
        allowed = (i - j).abs() < window if window > 0 else j <= i
        if causal:
            allowed = allowed & (j <= i)
        mask = allowed if bias is None else torch.where(allowed, bias, float("-inf"))
        causal = False
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal, scale=scale or None)
    return out.transpose(1, 2).flatten(2)


def rotary(x: torch.Tensor, *, num_heads: int, base: float = 10000.0,
           interleaved: bool = False) -> torch.Tensor:
    """RoPE within each head of (B, S, H·D): position p turns pair i by p·base^(-2i/D).

    Pairs are (i, i + D/2) (GPT-NeoX/Llama halves) or, interleaved, (2i, 2i + 1) (GPT-J).
    """
    s, d = x.shape[1], x.shape[2] // num_heads
    inv_freq = base ** (-torch.arange(0, d, 2, device=x.device, dtype=torch.float32) / d)
    angles = torch.arange(s, device=x.device, dtype=torch.float32)[:, None, None] * inv_freq
    cos, sin = angles.cos(), angles.sin()  # (S, 1, D/2), broadcast over heads
    h = x.float().unflatten(-1, (num_heads, d))
    if interleaved:
        x1, x2 = h[..., 0::2], h[..., 1::2]
        out = torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1).flatten(-2)
    else:
        x1, x2 = h[..., : d // 2], h[..., d // 2:]
        out = torch.cat((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)
    return out.flatten(2).to(x.dtype)


def alibi(x: torch.Tensor, *, num_heads: int) -> torch.Tensor:
    """ALiBi bias (1, H, S, S) for the sequence of x: bias[0, h, i, j] = slope_h·(j - i).

    Slopes follow the paper: 2^(-8k/H) for k = 1..H when H is a power of two; otherwise those of
    the nearest lower power of two, then every other slope of the next power of two.
    """
    closest = 2 ** math.floor(math.log2(num_heads))
    slopes = [2 ** (-8 * (k + 1) / closest) for k in range(closest)]
    slopes += [2 ** (-8 * (k + 1) / (2 * closest)) for k in range(0, 2 * (num_heads - closest), 2)]
    pos = torch.arange(x.shape[1], device=x.device)
    offset = pos[None, :] - pos[:, None]
    slope = torch.tensor(slopes, device=x.device, dtype=torch.float32)[:, None, None]
    return (slope * offset).unsqueeze(0).to(x.dtype)
