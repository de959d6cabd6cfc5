"""Which op of a kernel region names it: the op the others were fused into."""

from __future__ import annotations

from collections.abc import Sequence

from archir.ir import Operation
from archir.passes.targets.opclass import HEAVY, op_class

# Ops that launch nothing of their own: constants are data a kernel reads, no-ops vanish.
FREE_CLASSES = frozenset({"constant", "noop"})


def anchor_of(ops: Sequence[Operation]) -> Operation:
    """The heavy op of the region, else its first op that is not free, else its first op."""
    classes = [op_class(op) for op in ops]
    for op, cls in zip(ops, classes):
        if cls in HEAVY:
            return op
    for op, cls in zip(ops, classes):
        if cls not in FREE_CLASSES:
            return op
    return ops[0]


_POOLS = frozenset({"gap", "reduce"})


def is_se_region(ops: Sequence[Operation]) -> bool:
    """A squeeze-excitation region: it starts by pooling x and ends multiplying x by the gate."""
    real = [op for op in ops if op_class(op) not in FREE_CLASSES]
    if len(real) < 3 or op_class(real[0]) not in _POOLS or real[-1].name != "mul":
        return False
    return any(v is real[0].operands[0] for v in real[-1].operands)


def kernel_type(ops: Sequence[Operation]) -> str:
    """nn-Meter-style kernel type: the classes of the region's ops, e.g. ``conv-bn-relu``;
    a squeeze-excitation region is ``se`` followed by what it absorbed."""
    real = [op for op in ops if op_class(op) not in FREE_CLASSES]
    if is_se_region(real[:next((i + 1 for i, op in enumerate(real) if op.name == "mul"), len(real))]):
        cut = next(i for i, op in enumerate(real) if op.name == "mul") + 1
        return "-".join(["se", *(op_class(op) for op in real[cut:])])
    names = [op_class(op) for op in ops if op_class(op) not in FREE_CLASSES]
    return "-".join(names or [op_class(ops[0])])
