"""The last clean-up of a lowered graph: re-emit data movement through ``layout`` (raising
put new transposes and reshapes next to old ones, which may now cancel) and drop dead ops."""

from __future__ import annotations

from archir.builder import GraphBuilder
from archir.frontends.torch import layout
from archir.frontends.torch.emit import Emitter
from archir.ir import Graph, Operation, Value
from archir.passes.cleanup import eliminate_dead_code


def refold(g: Graph) -> None:
    scratch = GraphBuilder(g.name)
    em = Emitter(scratch)
    vmap: dict[Value, Value] = {a: a for a in g.args}
    for op in g.ops:
        operands = [vmap[v] for v in op.operands]
        em.loc, em.name = op.loc, op.results[0].name_hint
        out = _refold_one(em, op, operands)
        if out is None:
            new = Operation(op.opdef, operands, op.attrs, [r.type for r in op.results], loc=op.loc,
                            kernel=op.kernel, weights=op.weights,
                            name_hints=[r.name_hint for r in op.results])
            scratch.graph.ops.append(new)
            vmap.update(zip(op.results, new.results))
        else:
            vmap[op.result] = out
    g.ops = scratch.graph.ops
    g.outputs = [vmap[v] for v in g.outputs]
    eliminate_dead_code(g)


def _refold_one(em: Emitter, op: Operation, operands: list[Value]) -> Value | None:
    x = operands[0] if operands else None
    if op.name in layout.RESHAPES:
        natural = None if op.name == "reshape" else (op.name, op.attrs)
        return layout.reshape(em, x, op.result.type.shape, natural=natural)
    if op.name == "transpose":
        return layout.transpose(em, x, op.attrs["perm"])
    if op.name == "slice" and len(op.attrs["axes"]) == 1:
        step = op.attrs["steps"][0] if op.attrs["steps"] else 1
        return layout.slice_(em, x, op.attrs["axes"][0], op.attrs["starts"][0], op.attrs["ends"][0], step)
    return None
