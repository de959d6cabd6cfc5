"""Fusion of the TFLite/LiteRT GPU delegate: elementwise linking (mobile-gpu-rules.md §2).

``MergeElementwiseNodes`` first merges linkable elementwise ops with each other; ``MergeNodes``
then links a linkable consumer into its producer's kernel when the producer's only output is
used once, by the consumer's input slot 0, and the consumer's other inputs already exist.
Linkability is a table of op kinds plus the delegate's shape conditions.
"""

from __future__ import annotations

from dataclasses import dataclass

from archir.ir import Graph, Operation, Value
from archir.passes.targets.fusion import (
    attach_free_ops,
    group_outputs,
    is_constant,
    runtime_operands,
    uses,
)
from archir.passes.targets.partition import Partition
from archir.passes.targets.shapes import bhwc

# §2 IsLinkable: unary ops (ReLU family incl. clip/leaky, PReLU, the listed math ops, CAST).
# batch_norm is the per-channel MUL+ADD the converter emits; hardsigmoid and silu are the
# elementwise chains the converter emits for them (merged by MergeElementwiseNodes).
LINKABLE_UNARY = frozenset({
    "relu", "relu6", "clip", "leaky_relu", "prelu", "elu", "exp", "log", "neg", "rsqrt", "sqrt",
    "abs", "sin", "cos", "sign", "tanh", "sigmoid", "gelu", "hardswish", "hardsigmoid", "silu",
    "cast", "reciprocal", "batch_norm",
})
LINKABLE_BINARY = frozenset({"add", "mul", "sub", "div", "maximum", "minimum", "pow", "equal",
                             "less", "greater"})
ASSOCIATIVE = frozenset({"add", "mul"})  # IsAssociativeLinkableOp: inputs reordered


def slot0(op: Operation, order: dict[Operation, int]) -> Value | None:
    """The runtime input at slot 0, after the delegate's input reorder for ADD/MUL."""
    inputs = runtime_operands(op)
    if not inputs:
        return None
    if op.name in ASSOCIATIVE and len(inputs) == 2 and inputs[0].type == inputs[1].type:
        # the most recently produced input moves to slot 0 (graph arguments are oldest)
        return max(inputs, key=lambda v: order.get(v.owner, -1) if v.owner is not None else -1)
    return inputs[0]


RESHAPES = frozenset({"reshape", "flatten", "squeeze", "unsqueeze"})


def linkable(op: Operation, order: dict[Operation, int]) -> bool:
    if len(op.results) != 1:
        return False
    if op.name in RESHAPES:
        # remove_noop: the delegate works in BHWC, where (1, C, 1, 1) -> (1, C) is no reshape at all
        return bhwc(op.operands[0].type) == bhwc(op.results[0].type)
    if op.name in LINKABLE_UNARY:
        first = runtime_operands(op)
        return not first or first[0].type.shape == op.results[0].type.shape
    if op.name not in LINKABLE_BINARY:
        return False
    first = slot0(op, order)
    if first is None or first.type.shape != op.results[0].type.shape:
        return False  # input 0 must have the output's shape (input 1 may broadcast)
    if op.name == "add":
        other = [v for v in op.operands if v is not first]
        if not other:
            return True
        c0, c1 = bhwc(first.type)[3], bhwc(other[0].type)[3]
        return c0 == c1 or c1 == 1 or is_constant(other[0])
    return True


@dataclass(frozen=True)
class GpuLinking:
    """The delegate's rule set (it is the same on every vendor)."""

    def partition(self, g: Graph) -> Partition:
        p = Partition(g)
        attach_free_ops(p)
        self._merge_elementwise(p)
        self._merge_nodes(p)
        return p

    def _merge_elementwise(self, p: Partition) -> None:
        order = p.index
        for root in p.graph.ops:
            if not linkable(root, order):
                continue
            inputs = runtime_operands(root)
            producers = [v.owner for v in inputs]
            elementwise = [
                e for e, v in zip(producers, inputs)
                if e is not None and linkable(e, order) and len(runtime_operands(e)) == 1
                and uses(p, v) == 1
            ]
            if len(inputs) == 1 and elementwise:  # a chain E -> R
                p.merge(p.group(root), p.group(elementwise[0]))
            elif len(inputs) == 2 and len(elementwise) == 2:  # R(E0(x), E1(x))
                parents = {id(runtime_operands(e)[0]) for e in elementwise}
                if len(parents) == 1:
                    for e in elementwise:
                        p.merge(p.group(root), p.group(e))
            elif len(inputs) == 2 and len(elementwise) == 1:  # R(E(x), x)
                e = elementwise[0]
                other = next(v for v in inputs if v.owner is not e)
                if runtime_operands(e)[0] is other:
                    p.merge(p.group(root), p.group(e))

    def _merge_nodes(self, p: Partition) -> None:
        order = p.index
        for c in p.graph.ops:
            gid = p.group(c)
            members = p.members(gid)
            # only a group made of linkable elementwise ops (and free ops) can be linked
            if c is not next(op for op in members if op.name not in ("constant", "parameter")):
                continue
            if not all(linkable(op, order) or op.name in ("constant", "parameter") for op in members):
                continue
            if len(group_outputs(p, gid)) != 1:
                continue
            v = slot0(c, order)
            if v is None or v.owner is None or uses(p, v) != 1:
                continue
            producer = p.group(v.owner)
            outs = group_outputs(p, producer)
            if outs != [v] or len(v.owner.results) != 1:
                continue
            p.merge(producer, gid)
