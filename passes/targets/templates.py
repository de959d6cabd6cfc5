"""Multi-op kernel templates matched before pair rules (nn-Meter's ``fusion_lib``).

Squeeze-excitation: ``mul(x, gate(x))`` where the gate is a pooled, 1x1-conv/linear,
activated path from x back to a global average pool of x; nn-Meter profiles it as one ``se``
kernel. Triples: a three-class rule (``conv_bn_relu``) fuses a single-use chain of its classes.
"""

from __future__ import annotations

from archir.ir import Operation, Value
from archir.passes.targets.fusion import runtime_operands, uses
from archir.passes.targets.opclass import op_class
from archir.passes.targets.partition import Partition

_GATE_OPS = frozenset({
    "sigmoid", "hardsigmoid", "conv2d", "linear", "relu", "relu6", "silu", "hardswish",
    "reshape", "flatten", "squeeze", "unsqueeze",
})
_POOLS = frozenset({"global_avg_pool", "adaptive_avg_pool2d", "reduce_mean"})


def _gate_path(p: Partition, gate: Value, x: Value) -> list[Operation] | None:
    """Ops from a global pool of x to gate, each used once, or None."""
    path: list[Operation] = []
    v = gate
    while v.owner is not None and uses(p, v) == 1:
        op = v.owner
        ins = runtime_operands(op)
        if op.name in _POOLS and op_class(op) in ("gap", "reduce") and ins and ins[0] is x:
            return [op, *reversed(path)]
        if op.name not in _GATE_OPS or len(ins) != 1:
            return None
        path.append(op)
        v = ins[0]
    return None


def match_se(p: Partition, labels: dict[int, str]) -> None:
    for op in p.graph.ops:
        if op.name != "mul" or len(runtime_operands(op)) != 2:
            continue
        a, b = runtime_operands(op)
        for x, gate in ((a, b), (b, a)):
            path = _gate_path(p, gate, x)
            if path:
                if p.merge_all([*path, op]):
                    labels[p.group(op)] = "se"
                break


def match_triples(p: Partition, triples: frozenset[tuple[str, str, str]], labels: dict[int, str]) -> None:
    for first in p.graph.ops:
        for a, b, c in sorted(triples):
            chain = [first]
            for want in (b, c):
                v = chain[-1].results[0] if len(chain[-1].results) == 1 else None
                users = p.consumers(v) if v is not None and uses(p, v) == 1 else []
                if not users or op_class(users[0][0]) != want:
                    break
                chain.append(users[0][0])
            gids = {p.group(o) for o in chain}
            if len(chain) == 3 and op_class(first) == a and len(gids) == 3 and not gids & set(labels):
                p.merge_all(chain)
                break


def match_gap_reshape(p: Partition) -> None:
    """nn-Meter's ``gap`` template: a global average pool and the reshape that flattens it."""
    for op in p.graph.ops:
        if op_class(op) != "gap" or len(op.results) != 1 or uses(p, op.results[0]) != 1:
            continue
        (user, _), = p.consumers(op.results[0])
        if op_class(user) == "reshape" and p.group(user) != p.group(op):
            p.merge_all([op, user])
