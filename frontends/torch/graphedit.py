"""Small graph edits for the raising rewrites: reading constants, splicing ops, cleaning up."""

from __future__ import annotations

import numpy as np

from archir.builder import GraphBuilder
from archir.frontends.torch.dtypes import numpy_dtype
from archir.ir import Graph, Operation, Value


def const_value(v: Value) -> np.ndarray | None:
    """The value of a ``constant`` or weighted stored ``parameter`` op's result, else None (a
    trainable parameter is learned: its value is not a constant to fold)."""
    op = v.owner
    if op is None:
        return None
    if op.name == "constant":
        return np.full(v.type.shape, op.attrs["value"], dtype=numpy_dtype(op.attrs["dtype"]))
    if (op.name == "parameter" and op.weights and "value" in op.weights
            and not op.attrs.get("trainable", True)):
        return op.weights["value"]
    return None


class Splicer:
    """Collects replacements: new ops to insert before an op, and values to substitute.

    Everything is applied at once by ``apply``, so matching can keep reading the original
    graph while replacements accumulate.
    """

    def __init__(self, g: Graph):
        self.g = g
        self.before: dict[Operation, list[Operation]] = {}
        self.subst: dict[Value, Value] = {}

    def scratch(self) -> GraphBuilder:
        return GraphBuilder("scratch")

    def insert(self, anchor: Operation, scratch: GraphBuilder, old: Value, new: Value) -> None:
        self.before.setdefault(anchor, []).extend(scratch.graph.ops)
        self.subst[old] = new

    def apply(self) -> bool:
        if not self.subst:
            return False
        ops: list[Operation] = []
        for op in self.g.ops:
            ops.extend(self.before.get(op, ()))
            ops.append(op)

        def resolve(v: Value) -> Value:
            while v in self.subst:
                v = self.subst[v]
            return v

        for op in ops:
            op.operands = tuple(resolve(v) for v in op.operands)
        self.g.ops = ops
        self.g.outputs = [resolve(v) for v in self.g.outputs]
        return True


def single_use(users: dict, v: Value) -> bool:
    return len(users.get(v, ())) == 1

