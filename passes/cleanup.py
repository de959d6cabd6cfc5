"""Whole-graph clean-ups: dead-code and common-subexpression elimination."""

from __future__ import annotations

from typing import Any

from archir.ir import Graph, Operation, Value


def eliminate_dead_code(g: Graph) -> bool:
    """Drop ops none of whose results reach the graph's outputs (every op is pure)."""
    needed = set(g.outputs)
    live = []
    for op in reversed(g.ops):
        if any(r in needed for r in op.results):
            live.append(op)
            needed.update(op.operands)
    if len(live) == len(g.ops):
        return False
    g.ops = live[::-1]
    return True


def _cse_key(op: Operation, operands: tuple[Value, ...], order: dict[Value, int]) -> Any:
    """What makes two ops compute the same thing, or None when merging them would be wrong.

    An op with learned parameters is a layer of its own even when its attributes and input
    match another's (two identical convs of one input are two convs), unless both carry the
    very same weight arrays. Calls and choices are cell instances, each with its own weights.
    """
    if op.opdef.infer is None:
        return None
    weights: Any = ()
    if op.opdef.params is not None:
        if not op.weights:
            return None
        weights = tuple(sorted((k, id(w)) for k, w in op.weights.items()))
    ids = [order.get(v, -1) for v in operands]
    if -1 in ids:
        return None
    if op.opdef.commutative:
        ids.sort()
    kernel = id(op.kernel) if op.kernel is not None else None
    try:
        attrs = tuple(op.attrs.items())
        hash(attrs)
    except TypeError:
        return None
    return (op.name, attrs, tuple(ids), weights, kernel)


def eliminate_common_subexpressions(g: Graph) -> bool:
    order: dict[Value, int] = {v: i for i, v in enumerate(g.args)}
    subst: dict[Value, Value] = {}
    seen: dict[Any, Operation] = {}
    kept: list[Operation] = []
    for op in g.ops:
        if any(v in subst for v in op.operands):
            op.operands = tuple(subst.get(v, v) for v in op.operands)
        key = _cse_key(op, op.operands, order)
        twin = seen.get(key) if key is not None else None
        if twin is not None and all(a.type == b.type for a, b in zip(twin.results, op.results)):
            for r, t in zip(op.results, twin.results):
                subst[r] = t
                if t.name_hint is None:
                    t.name_hint = r.name_hint
            continue
        if key is not None:
            seen[key] = op
        for r in op.results:
            order[r] = len(order)
        kept.append(op)
    if not subst:
        return False
    g.ops = kept
    g.outputs = [subst.get(v, v) for v in g.outputs]
    return True
