"""Samsung Note10 CPU (TFLite), as Once-for-All measured it: one kernel per table unit.

OFA's Note10 tables time whole MobileNetV3 units, not single ops, so fusion here groups a flat
OFA-style MobileNetV3 graph into exactly those units: the stem ``Conv`` (conv+bn+act), one
``expanded_conv`` per MBConv block (expand, depthwise, SE, project, residual add), the final
expand ``Conv_1``, the global pool ``AvgPool2D``, the feature-mix ``Conv_2`` and the classifier
``Logits`` (flatten / reshape / dropout ride along with a neighbour). Anything else has no table
entry, so an op the walk cannot place is an error naming it rather than a guessed kernel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from archir.ir import Graph, Operation, Value
from archir.passes.targets.apply import TargetPassError
from archir.passes.targets.partition import Partition
from archir.passes.targets.spec import KernelChoice, LatencyModel, SelectContext, Target

NAME = "note10-cpu"
_ACTS = frozenset({"relu", "relu6", "hardswish", "hardsigmoid", "sigmoid", "silu"})
# Ops that run in the same table unit as the op before them (TFLite folds BN into the conv).
_RIDERS = _ACTS | {"batch_norm", "dropout", "identity"}
_RESHAPES = frozenset({"flatten", "reshape", "squeeze", "dropout", "identity"})
_POOLS = frozenset({"global_avg_pool", "adaptive_avg_pool2d"})


class NotOfaShaped(TargetPassError):
    """The graph is not a flat Once-for-All-style MobileNetV3 network."""


def _describe(g: Graph, op: Operation) -> str:
    types = ", ".join(str(r.type) for r in op.results)
    return f"'{op.name}' (op #{g.ops.index(op)} of @{g.name}, result {types})"


def _fail(g: Graph, op: Operation | None, why: str) -> NotOfaShaped:
    where = f"cannot place {_describe(g, op)}: " if op is not None else ""
    hint = ""
    if op is not None and op.name in ("call", "choice"):
        hint = "; specialize the space with flat=True first"
    return NotOfaShaped(f"{NAME}: {where}{why}{hint}. The target only models Once-for-All-style "
                        f"MobileNetV3 networks (stem, MBConv blocks, Conv_1, pool, Conv_2, Logits)")


def _hw(v: Value) -> tuple[int, int] | None:
    s = v.type.shape
    return (s[2], s[3]) if v.type.rank == 4 else None


def is_depthwise(op: Operation) -> bool:
    if op.name != "conv2d":
        return False
    groups = op.attrs["groups"]
    return groups > 1 and groups == op.attrs["out_channels"] == op.operands[0].type.shape[1]


def is_pointwise(op: Operation) -> bool:
    return op.name == "conv2d" and op.attrs["groups"] == 1 and tuple(op.attrs["kernel"]) == (1, 1)


def unit_of(ops: Sequence[Operation]) -> str:
    """The table op name a kernel's ops form (what the selector reports and keys start with)."""
    names = {op.name for op in ops}
    if "linear" in names:
        return "Logits"
    if any(is_depthwise(op) for op in ops):
        return "expanded_conv"
    conv = next((op for op in ops if op.name == "conv2d"), None)
    if conv is not None:
        if not is_pointwise(conv):
            return "Conv"
        return "Conv_2" if _hw(conv.operands[0]) == (1, 1) else "Conv_1"
    if names & _POOLS:
        return "AvgPool2D"
    raise _fail(Graph("kernel", ops=list(ops)), ops[0], "no Note10 table unit is made of "
                f"{', '.join(sorted(names))}")


class _Walk:
    """Follows the network's spine from the image to the logits, claiming each unit's ops."""

    def __init__(self, g: Graph):
        self.g = g
        self.users = g.users()
        self.outputs = set(g.outputs)
        self.units: list[tuple[str, list[Operation]]] = []

    def consumers(self, v: Value) -> list[Operation]:
        return [op for op, _ in self.users.get(v, [])]

    def only_user(self, v: Value) -> Operation | None:
        us = self.consumers(v)
        return us[0] if len(us) == 1 and v not in self.outputs else None

    def ride(self, v: Value, ops: list[Operation], allowed: frozenset[str]) -> Value:
        """Append the chain of single-input ``allowed`` ops that follows ``v``; its last value."""
        while (u := self.only_user(v)) is not None and u.name in allowed and u.operands[0] is v:
            ops.append(u)
            v = u.result
        return v

    def conv_unit(self, conv: Operation) -> tuple[list[Operation], Value]:
        ops = [conv]
        return ops, self.ride(conv.result, ops, _RIDERS)

    def block(self, x: Value, first: Operation) -> Value:
        ops: list[Operation] = []
        dw: Operation | None = first
        if not is_depthwise(first):  # the expand conv; OFA's first block has none
            ops, v = self.conv_unit(first)
            dw = self.only_user(v)
        if dw is None or not is_depthwise(dw):
            raise _fail(self.g, dw or first, "an MBConv block needs a depthwise conv after its expand conv")
        more, v = self.conv_unit(dw)
        ops += more
        v = self.squeeze_excite(v, ops)
        proj = self.only_user(v)
        if proj is None or not is_pointwise(proj):
            bad = proj or next(iter(self.consumers(v)), dw)
            raise _fail(self.g, bad, "an MBConv block needs a 1x1 project conv after the depthwise conv")
        more, v = self.conv_unit(proj)
        ops += more
        add = self.only_user(v)
        if add is not None and add.name == "add" and x in add.operands and v in add.operands:
            ops.append(add)
            v = add.result
        self.units.append(("expanded_conv", ops))
        return v

    def squeeze_excite(self, y: Value, ops: list[Operation]) -> Value:
        users = self.consumers(y)
        if len(users) != 2 or {u.name for u in users} - _POOLS - {"mul"}:
            return y
        pool = next(u for u in users if u.name in _POOLS)
        mul = next(u for u in users if u.name == "mul")
        se = [pool]
        s = self.ride(pool.result, se, _RIDERS | {"conv2d"})
        if self.only_user(s) is not mul:
            raise _fail(self.g, mul, "a squeeze-excite branch must end in the mul that scales the block")
        ops += [*se, mul]
        return mul.result

    def run(self) -> list[tuple[str, list[Operation]]]:
        g = self.g
        if len(g.args) != 1 or not g.ops:
            raise _fail(g, None, f"@{g.name} must take one image and have ops")
        stem = self.only_user(g.args[0])
        if stem is None or stem.name != "conv2d" or is_pointwise(stem) or stem.attrs["groups"] != 1:
            raise _fail(g, stem or g.ops[0], "the network must start with a dense strided stem conv")
        ops, v = self.conv_unit(stem)
        self.units.append(("Conv", ops))
        v = self.body(v)
        self.head(v)
        claimed = {op for _, unit in self.units for op in unit}
        for op in g.ops:
            if op not in claimed:
                raise _fail(g, op, "it belongs to no Note10 table unit")
        return self.units

    def body(self, v: Value) -> Value:
        """MBConv blocks until the final expand conv (a 1x1 conv not followed by a depthwise one)."""
        while True:
            convs = [u for u in self.consumers(v) if u.name == "conv2d"]
            others = [u for u in self.consumers(v) if u.name != "conv2d"]
            if len(convs) != 1 or any(u.name != "add" for u in others):
                bad = (convs[1:] or others or [None])[0]
                raise _fail(self.g, bad, "expected one conv (and at most a residual add) to read "
                                         "each block input")
            conv = convs[0]
            if not is_depthwise(conv):
                if not is_pointwise(conv):
                    raise _fail(self.g, conv, "a block must start with a 1x1 expand or a depthwise conv")
                after = self.only_user(self.ride(conv.result, [], _RIDERS))
                if after is None or not is_depthwise(after):
                    return v  # the final expand conv: Conv_1
            v = self.block(v, conv)

    def head(self, v: Value) -> None:
        conv = self.only_user(v)
        if conv is None or not is_pointwise(conv):
            bad = conv or next(iter(self.consumers(v)), None)
            raise _fail(self.g, bad, "expected the final 1x1 expand conv (Conv_1)")
        ops, v = self.conv_unit(conv)
        self.units.append(("Conv_1", ops))
        pool = self.only_user(v)
        if pool is None or pool.name not in _POOLS or _hw(pool.result) != (1, 1):
            raise _fail(self.g, pool or conv, "expected a global average pool after Conv_1")
        self.units.append(("AvgPool2D", [pool]))
        v = pool.result
        conv = self.only_user(v)
        if conv is None or not is_pointwise(conv):
            raise _fail(self.g, conv or pool, "expected the 1x1 feature-mix conv (Conv_2) after the pool")
        ops, v = self.conv_unit(conv)
        self.units.append(("Conv_2", ops))
        logits: list[Operation] = []
        v = self.ride(v, logits, _RESHAPES)
        linear = self.only_user(v)
        if linear is None or linear.name != "linear":
            raise _fail(self.g, linear or (logits or ops)[-1], "expected the classifier linear (Logits)")
        logits.append(linear)
        v = self.ride(linear.result, logits, _RESHAPES)
        self.units.append(("Logits", logits))
        if v not in self.outputs:
            raise _fail(self.g, self.consumers(v)[0], "nothing may follow the classifier")


def ofa_units(g: Graph) -> list[tuple[str, list[Operation]]]:
    """The graph's Note10 table units in network order, each with its ops (in graph order)."""
    index = {op: i for i, op in enumerate(g.ops)}
    return [(name, sorted(ops, key=index.__getitem__)) for name, ops in _Walk(g).run()]


@dataclass(frozen=True)
class OfaUnits:
    def partition(self, g: Graph) -> Partition:
        p = Partition(g)
        for _, ops in ofa_units(g):
            if not p.merge_all(ops):  # a unit is a single-entry chain, so this cannot cycle
                raise _fail(g, ops[0], "its unit would form a cycle with another")
        return p


def select_note10(ops: Sequence[Operation], ctx: SelectContext) -> KernelChoice:
    return KernelChoice(impl=unit_of(ops))


TARGETS = {
    NAME: Target(
        name=NAME, family="tflite-cpu",
        device="Samsung Note10 (Snapdragon 855 CPU), TFLite as measured by Once-for-All",
        runtime="TFLite (Once-for-All's Note10 latency tables)", fusion=OfaUnits(),
        selector=select_note10, precision="f32",
        latency=LatencyModel("imported", "Samsung Note10 per-block latencies measured by Once-for-All, "
                                         "predicted by archir's LUT model"),
        measurable="no",
        notes=("only Once-for-All-style MobileNetV3 networks: fusion refuses any other graph",),
    ),
}
