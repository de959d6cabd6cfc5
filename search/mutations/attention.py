"""Attention mutations: local window, and (heads, kv heads): MHA <-> GQA <-> MQA.

Changing heads keeps the query width, so the head dim changes; the k and v projections are
resized to kv_heads · head_dim, and the rotary / ALiBi ops on the way follow. The k and v
projections must feed only this attention (through rotary at most), else it is rejected.
"""

from __future__ import annotations

import random

from archir.ir import Graph, Module, Operation, Value
from archir.search.mutations.base import GraphMutation, Rejected, pick_other, set_attrs

WINDOWS = (0, 16, 32, 64, 128)


def _attention_sites(g: Graph) -> list[int]:
    return [i for i, op in enumerate(g.ops) if op.name == "attention"]


def _window(module: Module, op: Operation, rng: random.Random) -> str:
    old = op.attrs["window"]
    new = pick_other(rng, WINDOWS, old)
    set_attrs(op, window=new)
    return f"window {old} -> {new}"


def _projection(g: Graph, v: Value, users) -> tuple[Operation, Operation | None]:
    """The linear producing ``v`` (through one rotary at most) and the rotary, if exclusive."""
    rotary = None
    if v.owner is not None and v.owner.name == "rotary":
        rotary = v.owner
        if len(users.get(v, [])) != 1:
            raise Rejected("change_heads: the rotated k is used elsewhere")
        v = rotary.operands[0]
    op = v.owner
    if op is None or op.name != "linear" or len(users.get(v, [])) != 1:
        raise Rejected("change_heads: k/v is not an exclusive linear projection")
    return op, rotary


def _heads(module: Module, op: Operation, rng: random.Random) -> str:
    g = module.main
    users = g.users()
    q, k, v = op.operands[:3]
    width, hq, hkv = q.type.shape[2], op.attrs["num_heads"], op.attrs["num_kv_heads"]
    if v.type.shape[2] * hq != width * hkv:
        raise Rejected("change_heads: value head dim differs from the query head dim")
    options = [(h, kv) for h in (1, 2, 4, 8, 16) if width % h == 0 and (width // h) % 2 == 0
               for kv in range(1, h + 1) if h % kv == 0]
    h, kv = pick_other(rng, options, (hq, hkv))
    head_dim = width // h
    k_proj, k_rot = _projection(g, k, users)
    v_proj, v_rot = _projection(g, v, users)
    if v_rot is not None:
        raise Rejected("change_heads: rotary on v")
    q_ops = [u for u, _ in users.get(q, []) if u is not op]
    if any(u.name not in ("rotary", "alibi") for u in q_ops):
        raise Rejected("change_heads: the query feeds other ops")
    if q.owner is not None and q.owner.name == "rotary":
        set_attrs(q.owner, num_heads=h)
    for u in q_ops:
        set_attrs(u, num_heads=h)
    if len(op.operands) == 4:
        bias = op.operands[3]
        if bias.owner is None or bias.owner.name != "alibi":
            raise Rejected("change_heads: an attention bias that is not ALiBi has a fixed head count")
        set_attrs(bias.owner, num_heads=h)
    set_attrs(k_proj, out_features=kv * head_dim)
    set_attrs(v_proj, out_features=kv * head_dim)
    if k_rot is not None:
        set_attrs(k_rot, num_heads=kv)
    set_attrs(op, num_heads=h, num_kv_heads=kv)
    return f"heads {hq}/{hkv} -> {h}/{kv}"


change_window = GraphMutation("change_window", _attention_sites, _window)
change_heads = GraphMutation("change_heads", _attention_sites, _heads)
