"""Width change: resize a conv's output channels (or a linear's features, an embedding's width)
and every tensor that must keep the same width.

The tensors tied to the seed's output form a *channel group*, found as pruning tools find
them: walking forward, shape-preserving ops (activations, norms, pools, depthwise convs)
carry the width on; elementwise joins (residual adds, SE scaling) tie their other operands
in; dense convs and linears absorb it (their weights follow). Walking back from a tied tensor
reaches the producers that set its width (dense convs, linears, embeddings, parameters), which
all change together, e.g. every projection of a stage's residual chain. Anything else on
the way (attention, reshape, concat on the channel axis, a graph input or output) rejects
the mutation before it is applied.
"""

from __future__ import annotations

import random

from archir.ir import Graph, Module, Operation, Value
from archir.search.mutations.base import GraphMutation, Rejected, set_attrs

FACTORS = (0.5, 0.75, 1.25, 1.5, 2.0)
_FOLLOW = {"batch_norm", "instance_norm", "group_norm", "layer_norm", "rms_norm", "softmax", "log_softmax",
           "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d", "global_avg_pool",
           "global_max_pool", "rotary"}
_JOIN = {"add", "sub", "mul", "div", "maximum", "minimum", "pow"}
_CHANNEL_AXIS_ONLY = {"batch_norm", "instance_norm", "group_norm", "max_pool2d", "avg_pool2d",
                      "adaptive_avg_pool2d", "adaptive_max_pool2d", "global_avg_pool", "global_max_pool"}


def _depthwise(op: Operation) -> bool:
    a = op.attrs
    cin = op.operands[0].type.shape[1]
    return op.name == "conv2d" and a["groups"] > 1 and a["groups"] == a["out_channels"] == cin


def _source_axis(op: Operation) -> int | None:
    """The axis whose width a producer sets, or None if it cannot be resized."""
    rank = op.results[0].type.rank
    if op.name in ("conv1d", "conv2d", "conv_transpose2d") and not _depthwise(op):
        return 1
    if op.name in ("linear", "embedding"):
        return rank - 1
    return None


class _Group:
    """The channel group of one value: tied values with their axis, producers to resize, and the
    depthwise convs that follow."""

    def __init__(self, g: Graph, seed: Operation):
        self.g, self.users = g, g.users()
        self.values: dict[Value, int] = {}
        self.sources: list[Operation] = []
        self.depthwise: list[Operation] = []
        self.outputs = set(g.outputs)
        axis = _source_axis(seed)
        if axis is None:
            raise Rejected(f"change_width: '{seed.name}' does not set a width")
        self.todo: list[Value] = []
        self.add(seed.results[0], axis)
        while self.todo:
            v = self.todo.pop()
            self.backward(v)
            self.forward(v)

    def add(self, v: Value, axis: int) -> None:
        if v in self.values:
            if self.values[v] != axis:
                raise Rejected("change_width: a tensor would need two widths")
            return
        if v in self.outputs:
            raise Rejected("change_width: the width reaches the graph's output, which is fixed")
        self.values[v] = axis
        self.todo.append(v)

    def backward(self, v: Value) -> None:
        op, axis = v.owner, self.values[v]
        if op is None:
            raise Rejected("change_width: the width reaches a graph input, which is fixed")
        if op in self.sources or op in self.depthwise:
            return
        if _source_axis(op) == axis:
            self.sources.append(op)
        elif op.name in ("parameter", "constant"):
            if op.name == "constant" or len(op.attrs["shape"]) <= axis:
                raise Rejected(f"change_width: a {op.name} of fixed shape sets the width")
            self.sources.append(op)
        elif _depthwise(op):
            self.depthwise.append(op)
            self.add(op.operands[0], 1)
        elif op.opdef.family == "unary" or op.name in _FOLLOW:
            self._follow_check(op, axis)
            self.add(op.operands[0], axis)
        elif op.name in _JOIN:
            self.join(op, axis)
        elif op.name == "flatten":
            self.add(op.operands[0], self._unflattened_axis(op, axis))
        else:
            raise Rejected(f"change_width: '{op.name}' sets the width and cannot follow")

    def forward(self, v: Value) -> None:
        axis = self.values[v]
        rank = v.type.rank
        for op, _ in self.users.get(v, []):
            if _depthwise(op):
                if op not in self.depthwise:
                    self.depthwise.append(op)
                self.add(op.results[0], 1)
            elif op.name in ("conv1d", "conv2d", "conv_transpose2d") and axis == 1:
                continue  # a dense conv absorbs the new input width in its weights
            elif op.name == "linear" and axis == rank - 1:
                continue
            elif op.opdef.family == "unary" or op.name in _FOLLOW:
                self._follow_check(op, axis)
                self.add(op.results[0], axis)
            elif op.name in _JOIN:
                self.join(op, axis - rank + op.results[0].type.rank)
            elif op.name == "concat" and op.attrs["axis"] % rank != axis:
                for w in op.operands:
                    self.add(w, axis)
                self.add(op.results[0], axis)
            elif op.name == "flatten":
                self.add(op.results[0], self._flattened_axis(op, axis))
            else:
                raise Rejected(f"change_width: '{op.name}' cannot follow a width change")

    def join(self, op: Operation, axis: int) -> None:
        """An elementwise op: its result and every operand that is not broadcast share the width."""
        out_rank = op.results[0].type.rank
        self.add(op.results[0], axis)
        for w in op.operands:
            a = axis - out_rank + w.type.rank
            if a >= 0 and w.type.shape[a] != 1:
                self.add(w, a)

    def _follow_check(self, op: Operation, axis: int) -> None:
        if op.name in _CHANNEL_AXIS_ONLY and axis != 1:
            raise Rejected(f"change_width: '{op.name}' keeps only the channel axis")
        if op.name == "prelu" and op.attrs["num_parameters"] > 1:
            raise Rejected("change_width: a per-channel prelu has a fixed width")

    def _flattened_axis(self, op: Operation, axis: int) -> int:
        rank = op.operands[0].type.rank
        start, end = op.attrs["start"] % rank, op.attrs["end"] % rank
        shape = op.operands[0].type.shape
        if axis < start:
            return axis
        if axis > end:
            return axis - (end - start)
        if all(shape[i] == 1 for i in range(start, end + 1) if i != axis):
            return start
        raise Rejected("change_width: flatten merges the channel axis with other dims")

    def _unflattened_axis(self, op: Operation, axis: int) -> int:
        shape = op.operands[0].type.shape
        start, end = op.attrs["start"] % len(shape), op.attrs["end"] % len(shape)
        if axis < start:
            return axis
        if axis > start:
            return axis + (end - start)
        wide = [i for i in range(start, end + 1) if shape[i] != 1]
        if len(wide) != 1:
            raise Rejected("change_width: flatten merges the channel axis with other dims")
        return wide[0]

    def apply(self, width: int) -> None:
        for op in self.sources:
            axis = self.values[op.results[0]]
            if op.name in ("linear",):
                set_attrs(op, out_features=width)
            elif op.name == "embedding":
                set_attrs(op, embedding_dim=width)
            elif op.name == "parameter":
                shape = list(op.attrs["shape"])
                shape[axis] = width
                set_attrs(op, shape=shape)
            else:
                set_attrs(op, out_channels=width)
        for op in self.depthwise:
            set_attrs(op, out_channels=width, groups=width)


def _sites(g: Graph) -> list[int]:
    outputs = set(g.outputs)
    return [i for i, op in enumerate(g.ops) if _source_axis(op) is not None and op.results[0] not in outputs]


def _rewrite(module: Module, op: Operation, rng: random.Random) -> str:
    group = _Group(module.main, op)
    old = op.results[0].type.shape[group.values[op.results[0]]]
    if not isinstance(old, int):
        raise Rejected("change_width: symbolic width")
    options = sorted({max(8, round(old * f / 8) * 8) for f in FACTORS} - {old})
    new = rng.choice(options)
    group.apply(new)
    return (f"width {old} -> {new} ({len(group.sources)} producers, {len(group.depthwise)} depthwise, "
            f"{len(group.values)} tensors)")


change_width = GraphMutation("change_width", _sites, _rewrite)
