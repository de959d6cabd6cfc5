"""Printed names of ops, for messages and reports that must match what ``to_text`` shows."""

from __future__ import annotations

from archir.ir import Graph, Module, Operation
from archir.printer import Namer


def graph_op_names(g: Graph) -> dict[Operation, str]:
    """``%name`` of each op's first result, exactly as the printer names it."""
    name = Namer()
    for a in g.args:
        name(a)
    out = {}
    for op in g.ops:
        for r in op.results:
            name(r)
        out[op] = "%" + name(op.results[0]) if op.results else f"<{op.name}>"
    return out


def op_names(module: Module) -> dict[Operation, str]:
    out: dict[Operation, str] = {}
    for g in module.graphs.values():
        out.update(graph_op_names(g))
    return out


def describe(op: Operation, names: dict[Operation, str]) -> str:
    """``%fc = linear`` plus where it came from, for error messages."""
    loc = f" (from {op.loc})" if op.loc else ""
    return f"{names.get(op, '?')} = {op.name}{loc}"
