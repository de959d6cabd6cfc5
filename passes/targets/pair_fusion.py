"""Fusion by measured pair rules (nn-Meter's method, with its chain check fixed).

Templates first (squeeze-excitation, three-class rules), then, in topological order, a
consumer c joins the group G that produces one of its inputs when:

- G's only output is that input and c is its only user (nn-Meter's MON = 0);
- when c is elementwise and G is its anchor (heavy op, else first op) followed by elementwise
  ops, the pair (anchor, c) decides: what a kernel absorbs is decided by the op it is built
  around, not by the last op fused (CPU conv->bn->hswish fuses by conv_hswish), and the
  anchor is the heavy op, not the chain's root (nn-Meter tested the root: VPU
  concat->dwconv->bn never fused the bn although dwconv_bn is a rule);
- otherwise both (tail of G, c) and (anchor, c) must fuse, so a chain is tested link by link;
- a kernel holds at most one heavy op (dense->concat->dense stays two kernels).
"""

from __future__ import annotations

from dataclasses import dataclass

from archir.ir import Graph, Operation
from archir.passes.targets.anchor import FREE_CLASSES, anchor_of
from archir.passes.targets.fusion import attach_free_ops, group_outputs, runtime_operands, tail, uses
from archir.passes.targets.opclass import ELEMENTWISE, HEAVY, op_class
from archir.passes.targets.partition import Partition
from archir.passes.targets.rulefile import PairRules
from archir.passes.targets.templates import match_gap_reshape, match_se, match_triples


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
        if self.se_template:
            match_gap_reshape(p)
        for c in g.ops:
            self._link(p, c, labels)
        return p

    def _allowed(self, p: Partition, gid: int, anchor: Operation, anchor_cls: str, last: Operation,
                 last_cls: str, c_cls: str, labels: dict[int, str]) -> bool:
        fuses = self.rules.fuses
        if anchor is last or gid in labels:
            return fuses(last_cls, c_cls)
        after = p.members(gid)[p.members(gid).index(anchor) + 1:]
        if c_cls in ELEMENTWISE and all(op_class(o) in ELEMENTWISE | FREE_CLASSES for o in after):
            # an epilogue: the op the kernel is built around decides what it absorbs
            # (conv -> bn -> hswish fuses by conv_hswish; nn-Meter never measured bn_hswish)
            return fuses(anchor_cls, c_cls)
        return fuses(last_cls, c_cls) and fuses(anchor_cls, c_cls)

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
            if not self._allowed(p, producer, anchor, anchor_cls, last, last_cls, c_cls, labels):
                continue
            if c_cls in HEAVY and any(op_class(o) in HEAVY for o in ops):
                continue
            if p.merge(producer, gid):
                if gid in labels:
                    labels[producer] = labels.pop(gid)
                return
