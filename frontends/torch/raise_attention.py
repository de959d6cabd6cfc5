"""Hand-written attention → the ``attention`` op.

Matches  matmul(q, kᵀ) → [scale, bias, mask, reshape]* → softmax(-1) → [dropout] → matmul(·, v)
on the lowered IR, where every step between the two products is a reshape or an elementwise
op with a constant: a scalar scale (mul/div), an additive bias (add/sub), a fill with a
very negative value (masked_fill/where), or a per-head factor that is folded into q (Swin V2's
logit scale). The steps are replayed on numpy to get one scale and one bias; the bias then
becomes causal/window attributes where it is a plain mask (see ``masks``). A factor on q
(``q * scale`` before the product) joins the scale. An additive bias or a per-head factor may
also be computed from learned parameters without reading the inputs (Swin's and MaxViT's
relative position bias gathered from its table, Swin V2's clamped logit scale): such a bias
is added to the constant part as IR ops and becomes the attention's bias operand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from archir.frontends.torch import layout, masks
from archir.frontends.torch.emit import Emitter
from archir.frontends.torch.graphedit import Splicer, const_value, single_use
from archir.frontends.torch.heads import emit_attention
from archir.ir import Graph, Operation, Value

_PASS_THROUGH = ("identity", "dropout")


@dataclass
class _Scores:
    """How the scores reaching softmax derive from q·kᵀ."""

    scale: float = 1.0
    bias: np.ndarray | None = None
    factor: np.ndarray | None = None  # per-head factor on the scores, moved onto q
    # input-independent but not constant (computed from learned parameters): additive terms,
    # each with the scores' shape where it was added, and per-head factors
    terms: list[tuple[Value, tuple]] = field(default_factory=list)
    factors: list[Value] = field(default_factory=list)


def raise_attention(g: Graph, heads: dict[str, int] | None = None) -> int:
    """Raise every match in ``g``; ``heads`` maps module paths (the ops' name hints) to head
    counts, for attention whose heads are folded into the batch (B·H, S, D)."""
    users = g.users()
    splice = Splicer(g)
    fixed = _input_free(g)
    count = 0
    for op in g.ops:
        if op.name == "matmul" and _raise_one(op, users, splice, heads or {}, fixed):
            count += 1
    splice.apply()
    return count


def _input_free(g: Graph) -> set[Value]:
    """The values that do not depend on the graph's inputs (constants, parameters and what is
    computed from them alone)."""
    free: set[Value] = set()
    for op in g.ops:
        if all(v in free for v in op.operands):
            free.update(op.results)
    return free


def _raise_one(second: Operation, users: dict, splice: Splicer, heads: dict[str, int],
               fixed: set[Value]) -> bool:
    probs, v = second.operands
    sm = probs.owner
    while sm is not None and sm.name in _PASS_THROUGH and single_use(users, sm.result):
        sm = sm.operands[0].owner
    if sm is None or sm.name != "softmax" or not single_use(users, sm.result):
        return False
    if sm.attrs["axis"] % sm.result.type.rank != sm.result.type.rank - 1:
        return False
    chain: list[tuple[Operation, Value]] = []
    x = sm.operands[0]
    while x.owner is not None and x.owner.name != "matmul":
        if not single_use(users, x):
            return False
        op = x.owner
        x = _chain_input(op, fixed)
        if x is None:
            return False
        chain.append((op, x))
    first = x.owner
    if first is None or not single_use(users, x) or first.result.type.rank < 3:
        return False
    scores = _replay(first.result, list(reversed(chain)))
    if scores is None:
        return False
    q, kt = first.operands
    q, q_scale = _strip_scale(q, users)
    scratch = splice.scratch()
    em = Emitter(scratch, loc=sm.loc, name=sm.results[0].name_hint)
    k, k_scale = _strip_scale(_untranspose(em, kt), users)
    for f in scores.factors:
        q = em.op("mul", q, f)
        if q.type != first.operands[0].type:
            return False
    bias = _bias(em, scores, tuple(first.result.type.shape), q.type.dtype)
    out = emit_attention(em, q, k, v, bias=bias, scale=scores.scale * q_scale * k_scale,
                         q_factor=scores.factor, heads=heads.get(sm.results[0].name_hint or ""))
    if out is None or out.type != second.result.type:
        return False
    splice.insert(second, scratch, second.result, out)
    return True


def _bias(em: Emitter, scores: _Scores, base: tuple, dtype) -> Value | np.ndarray | None:
    """The additive bias: the constant part as it is, or the input-independent terms added up
    as ops, at the scores' shape or broadcasting to it (plus the constant part)."""
    if not scores.terms:
        return scores.bias
    total = None
    for v, at in scores.terms:
        if at != base:
            v = layout.reshape(em, v, (1,) * (len(at) - v.type.rank) + tuple(v.type.shape))
            if tuple(v.type.shape) != at:
                v = em.op("expand", v, shape=at)
            v = layout.reshape(em, v, base)
        total = v if total is None else em.op("add", total, v)
    if scores.bias is not None:
        total = em.op("add", total, em.array(scores.bias.astype(np.float32), dtype))
    return total


def _chain_input(op: Operation, fixed: set[Value]) -> Value | None:
    """The operand of a chain step that carries the scores (the other one is constant, or at
    least does not depend on the inputs)."""
    if op.name in layout.RESHAPES:
        return op.operands[0]
    if op.name in ("add", "mul"):
        a, b = op.operands
        if b in fixed:
            return a
        return b if a in fixed else None
    if op.name in ("sub", "div"):
        return op.operands[0] if op.operands[1] in fixed else None
    if op.name == "where":
        cond, a, b = op.operands
        if const_value(cond) is None:
            return None
        if const_value(a) is not None:
            return b
        return a if const_value(b) is not None else None
    return None


def _replay(start: Value, steps: list[tuple[Operation, Value]]) -> _Scores | None:
    """Apply the chain to symbolic scores: returns scale, bias and per-head factor."""
    base = tuple(start.type.shape)
    shape = base
    out = _Scores()
    for op, scores in steps:
        if op.name in layout.RESHAPES:
            new = tuple(op.result.type.shape)
            if out.bias is not None:
                out.bias = np.broadcast_to(out.bias, shape).reshape(new)
            shape = new
            continue
        consts = [const_value(v) for v in op.operands]
        if op.name in ("add", "sub", "mul", "div"):
            other = op.operands[1] if op.operands[0] is scores else op.operands[0]
            if const_value(other) is None:  # input-independent, computed from learned values
                if not _learned_step(out, op.name, other, shape, base):
                    return None
                continue
        if out.terms and op.name != "add":
            return None  # the learned terms are not replayed through later steps
        if op.name in ("mul", "div"):
            c = masks.compress(next(c for c in consts if c is not None).astype(np.float64))
            c = 1.0 / c if op.name == "div" else c
            if c.size == 1:
                out.scale *= float(c.reshape(()))
                if out.bias is not None:
                    out.bias = out.bias * float(c.reshape(()))
            elif shape == base and out.bias is None and _per_head(c, shape):
                out.factor = c if out.factor is None else out.factor * c
            else:
                return None
        elif op.name in ("add", "sub"):
            c = next(c for c in consts if c is not None).astype(np.float64)
            c = -c if op.name == "sub" else c
            out.bias = c if out.bias is None else out.bias + c
        elif op.name == "where":
            cond, a, b = consts
            fill = a if a is not None else b
            if fill.size != 1 or float(fill.reshape(())) > masks.MASKED:
                return None
            current = np.zeros(()) if out.bias is None else out.bias
            # where(mask, fill, scores) masks where True; where(mask, scores, fill) where False
            out.bias = np.where(cond, float(fill.reshape(())), current) if a is not None else \
                np.where(cond, current, float(fill.reshape(())))
        else:
            return None
        if out.bias is not None and np.broadcast_shapes(out.bias.shape, shape) != shape:
            return None
    if shape != base:
        return None
    if out.bias is not None:
        out.bias = masks.compress(np.broadcast_to(out.bias, base).astype(np.float32))
    return out


def _learned_step(out: _Scores, name: str, v: Value, shape: tuple, base: tuple) -> bool:
    """Record scores + v (an additive term) or scores · v (a per-head factor, at the scores'
    own shape, before any bias); False for any other use."""
    vshape = tuple(v.type.shape)
    try:
        fits = np.broadcast_shapes(vshape, shape) == shape
    except ValueError:
        return False
    if not fits or not all(isinstance(d, int) for d in vshape):
        return False
    if name == "add":
        out.terms.append((v, shape))
        return True
    if (name == "mul" and shape == base and out.bias is None and not out.terms
            and all(d == 1 for d in ((1, 1) + vshape)[-2:])):
        out.factors.append(v)
        return True
    return False


def _per_head(c: np.ndarray, shape: tuple) -> bool:
    """A factor that broadcasts to the scores and is constant over the (S, T) dims."""
    if np.broadcast_shapes(c.shape, shape) != shape:
        return False
    full = np.broadcast_to(c, shape)
    return bool(np.all(full == full[..., :1, :1]))


def _strip_scale(q: Value, users: dict) -> tuple[Value, float]:
    """q·s (or k·s) used only by the product: fold the scalar s into the attention scale."""
    scale = 1.0
    while q.owner is not None and q.owner.name in ("mul", "div") and single_use(users, q):
        a, b = q.owner.operands
        c = const_value(b)
        if q.owner.name == "mul" and c is None:
            a, c = b, const_value(a)
        if c is None or c.size != 1:
            break
        value = float(c.reshape(()))
        scale *= 1.0 / value if q.owner.name == "div" else value
        q = a
    return q, scale


def _untranspose(em: Emitter, kt: Value) -> Value:
    """k from kᵀ (the product's right operand, transposed over its last two dims)."""
    return layout.swap(em, kt, -1, -2)
