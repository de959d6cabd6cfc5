"""Small graph edits the delegate rewrites are written with (on a graph the pass owns)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from archir.ir import Graph, Operation, Value
from archir.opdef import OPS


def make_op(kind: str, operands: Sequence[Value], attrs: Mapping[str, Any], *, like: Operation | None = None,
            weights: Mapping[str, np.ndarray] | None = None, hints: Sequence[str | None] = ()) -> Operation:
    """A new op with normalised attributes and inferred result types."""
    opdef = OPS[kind]
    attrs = opdef.normalize_attrs(attrs)
    types = opdef.infer(tuple(v.type for v in operands), attrs)
    return Operation(opdef, operands, attrs, types, loc=like.loc if like else None,
                     kernel=like.kernel if like else None, weights=weights, name_hints=hints)


def replace_uses(g: Graph, old: Value, new: Value) -> None:
    for op in g.ops:
        if any(v is old for v in op.operands):
            op.operands = tuple(new if v is old else v for v in op.operands)
    g.outputs = [new if v is old else v for v in g.outputs]


def remove_dead(g: Graph) -> None:
    """Drop ops none of whose results is used (rewrites leave folded producers behind)."""
    while True:
        used = {v for op in g.ops for v in op.operands} | set(g.outputs)
        keep = [op for op in g.ops if any(r in used for r in op.results)]
        if len(keep) == len(g.ops):
            return
        g.ops = keep


def insert_before(g: Graph, anchor: Operation, new_ops: Sequence[Operation]) -> None:
    at = next(i for i, op in enumerate(g.ops) if op is anchor)
    g.ops[at:at] = list(new_ops)


def substitute(g: Graph, old: Operation, new: Operation) -> None:
    """Put ``new`` where ``old`` was and route old's uses to new's results."""
    at = next(i for i, op in enumerate(g.ops) if op is old)
    g.ops[at] = new
    for a, b in zip(old.results, new.results):
        b.name_hint = b.name_hint or a.name_hint
        replace_uses(g, a, b)


def with_attrs(op: Operation, weights: Mapping[str, np.ndarray] | None = None, **changes: Any) -> Operation:
    attrs = {**op.attrs, **changes}
    return make_op(op.name, op.operands, attrs, like=op,
                   weights=weights if weights is not None else op.weights,
                   hints=[r.name_hint for r in op.results])
