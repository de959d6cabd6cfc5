"""NAS-Bench-201 / NATS-Bench building blocks, as its reference code (xautodl) builds them.

Edge ops (``OPS``): ``none`` (x·0), ``skip_connect`` (identity; a 1x1 conv + BN when the
widths differ, xautodl's stride-1 FactorizedReduce), ``nor_conv_1x1`` / ``nor_conv_3x3``
(ReLU → conv without bias → BN), ``avg_pool_3x3`` (stride 1, pad 1, padding not counted).
Between stages a ResNet basic block (stride 2, shortcut avg-pool 2x2 + 1x1 conv).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from archir.builder import GraphBuilder
from archir.frontends.spaces.build import channels, conv_bn
from archir.ir import Value

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
"""In NAS-Bench-201's order (the order of its op index)."""

Genotype = tuple[tuple[str, ...], ...]
"""Per node 1..3, the op of the edge from each earlier node: ((e10,), (e20, e21), (e30, e31, e32))."""


def apply_op(b: GraphBuilder, op: str, x: Value, out: int) -> Value:
    """Edge op ``op`` on ``x`` producing ``out`` channels (stride 1)."""
    cin = channels(x)
    if op == "none":
        # xautodl's Zero: x.mul(0.) keeps the graph connected and costs no weights
        return b.mul(x, b.constant(value=0.0)) if cin == out else _bad(op, cin, out)
    if op == "skip_connect":
        return x if cin == out else conv_bn(b, x, out, 1)
    if op in ("nor_conv_1x1", "nor_conv_3x3"):
        return conv_bn(b, x, out, int(op[-1]), pre_act="relu")
    if op == "avg_pool_3x3":
        if cin != out:  # xautodl's POOLING preprocesses with ReLU-conv1x1-BN then
            x = conv_bn(b, x, out, 1, pre_act="relu")
        return b.avg_pool2d(x, kernel=3, stride=1, padding=1, count_include_pad=False)
    raise ValueError(f"unknown NAS-Bench-201 op {op!r} (ops: {', '.join(OPS)})")


def _bad(op: str, cin: int, out: int) -> Value:
    raise ValueError(f"{op} cannot change width {cin} -> {out}")


def cell(b: GraphBuilder, x: Value, out: int,
         edge: Callable[[int, int, Value, int], Value]) -> Value:
    """The 4-node cell: node j sums ``edge(j, i, node_i, out)`` over i < j; returns node 3."""
    nodes = [x]
    for j in range(1, 4):
        total = None
        for i in range(j):
            y = edge(j, i, nodes[i], out)
            total = y if total is None else b.add(total, y)
        nodes.append(total)
    return nodes[3]


def genotype_edge(genotype: Genotype, b: GraphBuilder) -> Callable[[int, int, Value, int], Value]:
    return lambda j, i, x, out: apply_op(b, genotype[j - 1][i], x, out)


def reduction_block(b: GraphBuilder, x: Value, out: int) -> Value:
    """ResNet basic block, stride 2: ReLUConvBN 3x3/2, ReLUConvBN 3x3, shortcut pool + 1x1."""
    y = conv_bn(b, x, out, 3, stride=2, pre_act="relu")
    y = conv_bn(b, y, out, 3, pre_act="relu")
    shortcut = b.avg_pool2d(x, kernel=2, stride=2)
    shortcut = b.conv2d(shortcut, out_channels=out, kernel=1, bias=False)
    return b.add(shortcut, y)


def stem(b: GraphBuilder, x: Value, out: int) -> Value:
    return b.batch_norm(b.conv2d(x, out_channels=out, kernel=3, padding=1, bias=False, name="stem"))


def head(b: GraphBuilder, x: Value, num_classes: int) -> Value:
    """BN → ReLU → global average pool → linear."""
    y = b.relu(b.batch_norm(x))
    y = b.flatten(b.global_avg_pool(y))
    return b.linear(y, out_features=num_classes, name="classifier")


def parse_arch(text: str) -> Genotype:
    """``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`` -> genotype; raises ``ValueError`` if malformed."""
    nodes = text.strip().split("+")
    if len(nodes) != 3:
        raise ValueError(f"a NAS-Bench-201 arch string has 3 nodes separated by '+': {text!r}")
    genotype = []
    for j, node in enumerate(nodes, start=1):
        edges = [e for e in node.strip().strip("|").split("|")]
        ops = []
        for i, edge in enumerate(edges):
            op, _, src = edge.partition("~")
            if op not in OPS or src != str(i):
                raise ValueError(f"bad edge {edge!r} of node {j} in {text!r} (want 'op~{i}', ops: "
                                 f"{', '.join(OPS)})")
            ops.append(op)
        if len(ops) != j:
            raise ValueError(f"node {j} needs {j} edges, got {len(ops)} in {text!r}")
        genotype.append(tuple(ops))
    return tuple(genotype)


def format_arch(genotype: Sequence[Sequence[str]]) -> str:
    return "+".join("|" + "|".join(f"{op}~{i}" for i, op in enumerate(node)) + "|" for node in genotype)
