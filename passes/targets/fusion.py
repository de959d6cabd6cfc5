"""Helpers every fusion rule set shares: free ops, runtime operands, a group's tail and outputs."""

from __future__ import annotations

from archir.ir import Graph, Operation, Value
from archir.passes.targets.anchor import FREE_CLASSES
from archir.passes.targets.opclass import op_class
from archir.passes.targets.partition import Partition


def is_constant(v: Value) -> bool:
    return v.owner is not None and op_class(v.owner) == "constant"


def constant_folded(g: Graph) -> set[Operation]:
    """Ops that are not constants but read only constants (or ops like themselves): a runtime that
    folds constants at load (onnxruntime) never runs them."""
    folded: set[Operation] = set()
    for op in g.ops:
        if op.operands and op_class(op) != "constant" and all(
                v.owner is not None and (op_class(v.owner) == "constant" or v.owner in folded)
                for v in op.operands):
            folded.add(op)
    return folded


def runtime_operands(op: Operation) -> list[Value]:
    """Operands that are computed at run time (constants are weights the kernel reads)."""
    return [v for v in op.operands if not is_constant(v)]


def attach_free_ops(p: Partition) -> None:
    """Constants join their first consumer's group, no-ops their producer's (or consumer's)."""
    for op in p.graph.ops:
        cls = op_class(op)
        if cls not in FREE_CLASSES:
            continue
        if cls == "noop" and op.operands and op.operands[0].owner is not None:
            p.merge(p.group(op.operands[0].owner), p.group(op))
            continue
        users = [u for r in op.results for u, _ in p.consumers(r)]
        if users:
            p.merge(p.group(users[0]), p.group(op))


def tail(p: Partition, gid: int) -> Operation:
    """The group's last op that is not free (its last op when all are free)."""
    ops = p.members(gid)
    return next((op for op in reversed(ops) if op_class(op) not in FREE_CLASSES), ops[-1])


def group_outputs(p: Partition, gid: int) -> list[Value]:
    """Values the group makes that something outside it (or the graph) reads."""
    out = []
    for op in p.members(gid):
        for r in op.results:
            if r in p.outputs or any(p.group(u) != gid for u, _ in p.consumers(r)):
                out.append(r)
    return out


def uses(p: Partition, v: Value) -> int:
    return len(p.consumers(v)) + (1 if v in p.outputs else 0)


def see_through_free(v: Value) -> Value:
    """The value a chain of no-ops forwards (conv -> dropout -> relu links conv and relu)."""
    while v.owner is not None and op_class(v.owner) == "noop" and v.owner.operands:
        v = v.owner.operands[0]
    return v
