"""The cell search space shared by DARTS and NASNet: a normal and a reduction cell, each
node summing two (input, op) picks, stacked into the DARTS CIFAR skeleton.

Design. For cell kind K (``normal``/``reduce``), node k and slot j there are two decisions:
``K.nk.inj`` (which earlier state, 0..k-1; 0 and 1 are the cell inputs) and ``K.nk.inj.op``.
In IR the input decision is a choice over *source cells* ``@K.nk.inj.fromS`` that take all
the states available to node k and apply the op choice ``$K.nk.inj.op`` to state S. That
keeps every choice well typed even in a reduction cell, where an op on a cell input strides
(a ``.s2`` op cell) and an op on an inner node does not. The genotype is shared by all cells
of a kind, which run at several widths: choice sites carry the width as ``variant``.

Skeleton (DARTS NetworkCIFAR): stem conv 3x3 (3C) + BN; ``layers`` cells with reductions at
layers/3 and 2·layers/3 (width doubles); each cell preprocesses its two inputs to C
(ReLU-conv1x1-BN, or FactorizedReduce after a reduction), output = concat of its nodes;
global average pool, linear.
"""

from __future__ import annotations

import ast
import random
from collections.abc import Mapping, Sequence
from typing import Any

from archir.builder import GraphBuilder
from archir.frontends.spaces import cell_ops
from archir.frontends.spaces.build import SpaceBuilder, conv_bn, image
from archir.frontends.spaces.space import Assignment, Decision, Space
from archir.ir import Value
from archir.types import ParamRef, SymbolRef

KINDS = ("normal", "reduce")


def slots(nodes: int) -> list[tuple[int, int]]:
    """(node, slot) pairs; nodes are numbered 2..nodes+1 as in DARTS genotypes."""
    return [(k, j) for k in range(2, nodes + 2) for j in (0, 1)]


class CellSpace(Space):
    name = "cell-space"

    def __init__(self, ops: Sequence[str], *, nodes: int, distinct_inputs: bool, width: int = 16,
                 layers: int = 8, stem_multiplier: int = 3, num_classes: int = 10, resolution: int = 32):
        unknown = [op for op in ops if op not in cell_ops.OPS]
        if unknown:
            raise ValueError(f"unknown cell ops {unknown} (known: {', '.join(cell_ops.OPS)})")
        self.ops, self.nodes, self.distinct_inputs = tuple(ops), nodes, distinct_inputs
        sb = SpaceBuilder()
        for kind in KINDS:
            for k, j in slots(nodes):
                base = f"{kind}.n{k}.in{j}"
                sb.param(base, sb.cells([f"{base}.from{s}" for s in range(k)]))
                sb.param(f"{base}.op", sb.cells(self.ops))

        def op_cells(x: Value, stride: int) -> str:
            c = x.type.shape[1]
            variant = f".c{c}" + (".s2" if stride == 2 else "")
            for op in self.ops:
                sb.cell(op + variant, [x.type], lambda b, v, op=op: cell_ops.OPS[op](b, v, stride))
            return variant

        def node_input(b: GraphBuilder, kind: str, k: int, j: int, states: list[Value]) -> Value:
            c = states[0].type.shape[1]
            base = f"{kind}.n{k}.in{j}"
            for s in range(k):
                stride = 2 if kind == "reduce" and s < 2 else 1
                variant = op_cells(states[s], stride)
                sb.cell(f"{base}.from{s}.c{c}", [v.type for v in states], lambda bb, *xs, s=s, site=variant:
                        bb.choice(xs[s], of=ParamRef(f"{base}.op"), variant=site))
            return b.choice(*states, of=ParamRef(base), variant=f".c{c}", name=f"n{k}.in{j}")

        def cell_body(b: GraphBuilder, s0: Value, s1: Value, c: int, kind: str, reduction_prev: bool):
            p0 = (cell_ops.factorized_reduce(b, s0, c) if reduction_prev
                  else conv_bn(b, s0, c, 1, pre_act="relu"))
            states = [p0, conv_bn(b, s1, c, 1, pre_act="relu")]
            for k in range(2, nodes + 2):
                states.append(b.add(node_input(b, kind, k, 0, states), node_input(b, kind, k, 1, states),
                                    name=f"n{k}"))
            return b.concat(*states[2:], axis=1)

        def body(b: GraphBuilder, x: Value) -> Value:
            s0 = s1 = b.batch_norm(b.conv2d(x, out_channels=stem_multiplier * width, kernel=3,
                                            padding=1, bias=False, name="stem"))
            c, reduction_prev = width, False
            for i in range(layers):
                reduction = i in (layers // 3, 2 * layers // 3)
                c = 2 * c if reduction else c
                kind = "reduce" if reduction else "normal"
                name = (f"{kind}.c{c}.in{s0.type.shape[1]}x{s1.type.shape[1]}"
                        + (".fr" if reduction_prev else ""))
                sb.cell(name, [s0.type, s1.type], lambda bb, a0, a1, c=c, kind=kind, rp=reduction_prev:
                        cell_body(bb, a0, a1, c, kind, rp))
                s0, s1 = s1, b.call(s0, s1, callee=SymbolRef(name), name=f"cell{i}")
                reduction_prev = reduction
            y = b.flatten(b.global_avg_pool(s1))
            return b.linear(y, out_features=num_classes, name="classifier")

        module = sb.main([("image", image(3, resolution))], body)
        decisions = []
        for kind in KINDS:
            for k, j in slots(nodes):
                decisions.append(Decision(f"{kind}.n{k}.in{j}", tuple(range(k)), "input"))
                decisions.append(Decision(f"{kind}.n{k}.in{j}.op", self.ops, "op"))
        super().__init__(module, tuple(decisions))

    def is_valid(self, assignment: Mapping[str, Any]) -> bool:
        if not self.distinct_inputs:
            return True
        return all(assignment[f"{kind}.n{k}.in0"] != assignment[f"{kind}.n{k}.in1"]
                   for kind in KINDS for k in range(2, self.nodes + 2))

    def sample(self, rng: random.Random) -> Assignment:
        out: Assignment = {}
        for kind in KINDS:
            for k in range(2, self.nodes + 2):
                picks = rng.sample(range(k), 2) if self.distinct_inputs else [rng.randrange(k) for _ in "ab"]
                for j in (0, 1):
                    out[f"{kind}.n{k}.in{j}"] = picks[j]
                    out[f"{kind}.n{k}.in{j}.op"] = rng.choice(self.ops)
        return out

    def genotype(self, assignment: Mapping[str, Any]) -> dict[str, list[tuple[str, int]]]:
        """``{"normal": [(op, input), ...], "reduce": [...]}`` in DARTS genotype order."""
        self.check(assignment)
        return {kind: [(assignment[f"{kind}.n{k}.in{j}.op"], assignment[f"{kind}.n{k}.in{j}"])
                       for k, j in slots(self.nodes)] for kind in KINDS}

    def from_genotype(self, genotype: Mapping[str, Sequence[tuple[str, int]]]) -> Assignment:
        out: Assignment = {}
        for kind in KINDS:
            pairs = list(genotype[kind])
            if len(pairs) != 2 * self.nodes:
                raise ValueError(f"{kind} cell needs {2 * self.nodes} (op, input) pairs, got {len(pairs)}")
            for (k, j), (op, src) in zip(slots(self.nodes), pairs):
                out[f"{kind}.n{k}.in{j}.op"], out[f"{kind}.n{k}.in{j}"] = op, src
        self.check(out)
        return out

    def encode(self, assignment: Mapping[str, Any]) -> str:
        """DARTS notation: ``Genotype(normal=[('sep_conv_3x3', 0), ...], normal_concat=[2, 3, 4, 5],
        reduce=[...], reduce_concat=[2, 3, 4, 5])``."""
        g = self.genotype(assignment)
        concat = list(range(2, self.nodes + 2))
        return (f"Genotype(normal={g['normal']}, normal_concat={concat}, "
                f"reduce={g['reduce']}, reduce_concat={concat})")

    def decode(self, text: str) -> Assignment:
        tree = ast.parse(text.strip(), mode="eval").body
        if not (isinstance(tree, ast.Call) and getattr(tree.func, "id", "") == "Genotype"):
            raise ValueError(f"expected Genotype(normal=[...], reduce=[...]), got {text[:60]!r}")
        fields = {kw.arg: ast.literal_eval(kw.value) for kw in tree.keywords}
        concat = list(range(2, self.nodes + 2))
        for kind in KINDS:
            if kind not in fields:
                raise ValueError(f"genotype lacks {kind}=[...]")
            if list(fields.get(f"{kind}_concat", concat)) != concat:
                raise ValueError(f"{kind}_concat must be {concat} (this space concatenates every node)")
        return self.from_genotype({kind: [tuple(p) for p in fields[kind]] for kind in KINDS})
