"""Fusion by measured pair rules (nn-Meter's method, with its chain check fixed).

Templates first (squeeze-excitation, three-class rules), then, in topological order, a
consumer c joins the group G that produces one of its inputs when:

- G's only output is that input and c is its only user (nn-Meter's MON = 0);
- the pair (tail of G, c) fuses: the tail is G's last op, so a chain is tested link by link
  (nn-Meter tested the chain's *root* against every later op, so VPU concat->dwconv->bn never
  fused the bn although dwconv_bn is a rule);
- the pair (anchor of G, c) fuses too when the anchor is not the tail: what a kernel can
  absorb is decided by the op it is built around (CPU conv->bn->relu needs conv_relu);
- a kernel holds at most one heavy op (dense->concat->dense stays two kernels).
"""

from __future__ import annotations

from dataclasses import dataclass

from archir.ir import Graph, Operation
from archir.passes.targets.anchor import anchor_of
from archir.passes.targets.fusion import attach_free_ops, group_outputs, runtime_operands, tail, uses
from archir.passes.targets.opclass import HEAVY, op_class
from archir.passes.targets.partition import Partition
from archir.passes.targets.rulefile import PairRules
from archir.passes.targets.templates import match_se, match_triples


@dataclass(frozen=True)
class PairFusion:
    rules: PairRules
    se_template: bool = True

    def partition(self, g: Graph) -> Partition:
        p = Partition(g)
        attach_free_ops(p)
        labels: dict[int, str] = {}
        if self.se_template and "se" in {c for pair in self.rules.known_pairs for c in pair}:
            match_se(p, labels)
        match_triples(p, self.rules.triples, labels)
        for c in g.ops:
            self._link(p, c, labels)
        return p

    def _class(self, p: Partition, gid: int, op: Operation, labels: dict[int, str]) -> str:
        return labels.get(gid, op_class(op))

    def _link(self, p: Partition, c: Operation, labels: dict[int, str]) -> None:
        gid = p.group(c)
        if p.members(gid)[0] is not c and not all(
            op_class(o) in ("constant",) for o in p.members(gid) if o is not c
        ):
            return  # c already sits inside a template kernel
        c_cls = labels.get(gid, op_class(c))
        for v in runtime_operands(c):
            if v.owner is None or uses(p, v) > 1 + self.rules.max_outputs:
                continue
            producer = p.group(v.owner)
            if producer == gid or group_outputs(p, producer) != [v]:
                continue
            ops = p.members(producer)
            last, anchor = tail(p, producer), anchor_of(ops)
            if last is not v.owner and op_class(v.owner) not in ("noop",):
                continue
            last_cls = self._class(p, producer, last, labels)
            anchor_cls = labels.get(producer, op_class(anchor))
            if not self.rules.fuses(last_cls, c_cls):
                continue
            if anchor is not last and producer not in labels and not self.rules.fuses(anchor_cls, c_cls):
                continue
            if c_cls in HEAVY and any(op_class(o) in HEAVY for o in ops):
                continue
            if p.merge(producer, gid):
                if gid in labels:
                    labels[producer] = labels.pop(gid)
                return
