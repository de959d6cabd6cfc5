"""Structural identity: a hash that ignores names, locations, op order and weights.

Each value hashes to its op's kind, attributes, kernel attributes and operand hashes (a
Merkle DAG), so two topological orders of one architecture hash alike and a searcher can
dedupe candidates. The graph's hash also covers the multiset of its live ops, so two
identical convs of one input differ from one conv used twice.
"""

from __future__ import annotations

import hashlib

from archir.attrs import format_value
from archir.ir import Graph, Module, Value
from archir.ops.structure import choice_cell
from archir.types import ParamRef, SymbolRef


def _digest(*parts: object) -> bytes:
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).digest()


class _Hasher:
    def __init__(self, module: Module):
        self.module = module
        self.graphs: dict[str, bytes] = {}

    def attr(self, v: object) -> object:
        if isinstance(v, SymbolRef) and v.name in self.module.graphs:
            return self.graph(self.module.graphs[v.name])
        if isinstance(v, ParamRef) and v.name in self.module.params:
            return ("param", tuple(self.attr(c) for c in self.module.params[v.name].domain))
        return format_value(v)

    def graph(self, g: Graph) -> bytes:
        if g.name in self.graphs:
            return self.graphs[g.name]
        self.graphs[g.name] = b"recursive"
        h: dict[Value, bytes] = {a: _digest("arg", i, str(a.type)) for i, a in enumerate(g.args)}
        keys = {}
        for op in g.ops:
            operands = [h.get(v, b"?") for v in op.operands]
            if op.opdef.commutative:
                operands.sort()
            kernel = sorted(op.kernel.attrs.items()) if op.kernel else None
            attrs = tuple((k, self.attr(v)) for k, v in op.attrs.items())
            if op.name == "choice" and op.attrs["variant"] and isinstance(op.attrs["of"], ParamRef):
                # a variant site runs other cells than the domain names: hash those
                picks = self.module.params[op.attrs["of"].name].domain
                attrs = (("of", tuple(self.attr(SymbolRef(choice_cell(p, op.attrs["variant"])))
                                      for p in picks)),)
            key = keys[op] = _digest(op.name, attrs, operands, repr(kernel))
            for r in op.results:
                h[r] = _digest(key, r.index, str(r.type))
        live = sorted(keys[op] for op in _live_ops(g))
        outputs = tuple(h.get(v) for v in g.outputs)
        digest = _digest(tuple(str(a.type) for a in g.args), outputs, tuple(live))
        self.graphs[g.name] = digest
        return digest


def _live_ops(g: Graph) -> list:
    """Ops whose results reach the graph's outputs."""
    needed = set(g.outputs)
    live = []
    for op in reversed(g.ops):
        if any(r in needed for r in op.results):
            live.append(op)
            needed.update(op.operands)
    return live


def structural_hash(module: Module) -> str:
    """Hex digest of the architecture reachable from the main graph's outputs."""
    return _Hasher(module).graph(module.main).hex()


def structurally_equal(a: Module, b: Module) -> bool:
    return structural_hash(a) == structural_hash(b)
