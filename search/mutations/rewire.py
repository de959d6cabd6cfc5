"""Rewiring: a sum (a cell node, a residual add) takes one of its inputs from another earlier
tensor of the same type: the graph-level form of "change a node's inputs" in NB201/DARTS
cells. Defined-before keeps the graph acyclic; ops left without users are dropped."""

from __future__ import annotations

import random

from archir.ir import Graph, Module, Operation
from archir.search.mutations.base import GraphMutation, Rejected

WINDOW = 60
"""How many ops back a new input may come from: rewiring stays local (within a few cells)."""


def _sites(g: Graph) -> list[int]:
    return [i for i, op in enumerate(g.ops) if op.name == "add"]


def _rewrite(module: Module, op: Operation, rng: random.Random) -> str:
    g = module.main
    at = g.ops.index(op)
    slot = rng.randrange(len(op.operands))
    old = op.operands[slot]
    earlier = [r for o in g.ops[max(0, at - WINDOW):at] for r in o.results]
    if at <= WINDOW:
        earlier += g.args
    candidates = [v for v in earlier if v.type == old.type and v not in op.operands]
    if not candidates:
        raise Rejected("rewire: no other earlier tensor of the same type")
    new = rng.choice(candidates)
    op.operands = tuple(new if i == slot else v for i, v in enumerate(op.operands))
    source = f"op #{g.ops.index(new.owner)}" if new.owner is not None else "a graph input"
    return f"add #{at}: input {slot} now comes from {source}"


rewire = GraphMutation("rewire", _sites, _rewrite)
