"""Block insert/remove: identity-shaped residual blocks, so no other op changes.

Remove: ``y = add(x, f(x))`` where x feeds f becomes ``y = x``; f's ops die with it.
Insert: after a block boundary (a residual add, or a BN output in a CNN), add a residual
block: an MBConv (1x1 expand ×3, depthwise 3x3, 1x1 project, ReLU) for images, a pre-norm
GELU MLP for token sequences.
"""

from __future__ import annotations

import random

from archir.builder import GraphBuilder
from archir.ir import Graph, Module, Operation, Value
from archir.passes.cleanup import eliminate_dead_code
from archir.search.mutations.base import GraphMutation, Rejected, replace_uses, splice


def _ancestors(v: Value, limit: int = 2000) -> set[Value]:
    seen, todo = set(), [v]
    while todo and len(seen) < limit:
        w = todo.pop()
        if w in seen:
            continue
        seen.add(w)
        if w.owner is not None:
            todo.extend(w.owner.operands)
    return seen


def _skip_operand(op: Operation) -> Value | None:
    """For ``add(a, b)`` with one operand computed from the other: the skip operand."""
    if op.name != "add" or len({v.type for v in (*op.operands, op.results[0])}) != 1:
        return None
    a, b = op.operands
    if a is b:
        return None
    if a in _ancestors(b):
        return a
    if b in _ancestors(a):
        return b
    return None


def _remove_sites(g: Graph) -> list[int]:
    return [i for i, op in enumerate(g.ops) if op.name == "add" and _skip_operand(op) is not None]


def _remove(module: Module, op: Operation, rng: random.Random) -> str:
    skip = _skip_operand(op)
    g = module.main
    before = len(g.ops)
    replace_uses(g, op.results[0], skip)
    eliminate_dead_code(g)
    if before - len(g.ops) < 2:
        raise Rejected("remove_block: the branch is used elsewhere; nothing would be removed")
    return f"removed a residual block of {before - len(g.ops) - 1} ops"


def _insert_sites(g: Graph) -> list[int]:
    out = []
    for i, op in enumerate(g.ops):
        t = op.results[0].type
        if len(op.results) != 1 or not t.dtype.is_float:
            continue
        spatial = t.shape[2:]
        if (t.rank == 4 and op.name in ("add", "batch_norm") and all(isinstance(d, int) for d in spatial)
                and min(spatial) > 1):
            out.append(i)
        elif t.rank == 3 and op.name == "add":
            out.append(i)
    return out


def _mbconv(b: GraphBuilder, x: Value) -> Value:
    c = x.type.shape[1]
    mid = max(8, (3 * c + 4) // 8 * 8)
    y = b.relu(b.batch_norm(b.conv2d(x, out_channels=mid, kernel=1, bias=False, name="inserted.expand")))
    y = b.relu(b.batch_norm(b.conv2d(y, out_channels=mid, kernel=3, padding=1, groups=mid, bias=False,
                                     name="inserted.dw")))
    y = b.batch_norm(b.conv2d(y, out_channels=c, kernel=1, bias=False, name="inserted.project"))
    return b.add(x, y, name="inserted.residual")


def _mlp(b: GraphBuilder, x: Value) -> Value:
    d = x.type.shape[-1]
    y = b.linear(b.rms_norm(x), out_features=2 * d, name="inserted.up")
    y = b.linear(b.gelu(y), out_features=d, name="inserted.down")
    return b.add(x, y, name="inserted.residual")


def _insert(module: Module, op: Operation, rng: random.Random) -> str:
    g = module.main
    x = op.results[0]
    kind = "mbconv" if x.type.rank == 4 else "mlp"
    out, new_ops = splice(g, op, lambda b: (_mbconv if kind == "mbconv" else _mlp)(b, x))
    replace_uses(g, x, out, skip=new_ops)
    return f"inserted a residual {kind} block ({len(new_ops)} ops)"


remove_block = GraphMutation("remove_block", _remove_sites, _remove)
insert_block = GraphMutation("insert_block", _insert_sites, _insert)
