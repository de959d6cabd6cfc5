"""Blocks and stages of a graph, found structurally, and depth scaling over them.

A *trunk cut* is a point in the op order where exactly one value is live and that value is
not block-internal (see ``ChannelPlan.is_block_internal``): everything after it depends on
the graph only through it. The ops between two consecutive trunk cuts form a region; a region
*opens a block* when it holds a block-internal width (an inverted bottleneck) or joins two
paths (a residual add, an SE gate, a concat). Activation and norm regions right after a block
belong to it (ResNet's relu after the add). A block is *residual* when an ``add`` takes its
input directly and its output has its input's type.

A *stage* is a block followed by the residual blocks that keep its output type: EfficientNet
-B0 has stages of 1, 2, 2, 3, 3, 4 and 1 blocks, ResNet-50 of 3, 4, 6 and 3. Depth scaling
repeats a stage's last residual block (or, in a one-block stage, a residual copy of its block
with stride 1 and its input width, as torchvision builds EfficientNet-B1's extra layers) until
the stage has ``ceil(n · depth)`` blocks, or drops residual blocks from its end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from archir.ir import Graph, Kernel, Operation, Value
from archir.opdef import OPS
from archir.passes.base import PassError
from archir.passes.channel_plan import ChannelPlan

_ABSORBED = frozenset({"unary", "norm"})
_CONSTANT = ("constant", "parameter")


@dataclass
class Block:
    start: Value
    end: Value
    ops: list[Operation]

    @property
    def residual(self) -> bool:
        return self.start.type == self.end.type and any(
            op.name == "add" and self.start in op.operands for op in self.ops)


@dataclass
class Stage:
    blocks: list[Block]


def trunk_cuts(g: Graph, plan: ChannelPlan) -> list[tuple[int, Value]]:
    """(index of the last op before the cut, the one live value); -1 for a lone graph input."""
    end = len(g.ops)
    last: dict[Value, int] = {}
    for i, op in enumerate(g.ops):
        for v in op.operands:
            last[v] = i
    for v in g.outputs:
        last[v] = end
    live = {a for a in g.args if a in last}
    cuts = []
    if len(live) == 1:
        cuts.append((-1, next(iter(live))))
    for i, op in enumerate(g.ops):
        live.update(r for r in op.results if last.get(r, -1) > i)
        live.difference_update([v for v in op.operands if last.get(v) == i])
        if len(live) == 1:
            (v,) = live
            if v.owner is op and not plan.is_block_internal(v):
                cuts.append((i, v))
    return cuts


def _opens_block(ops: list[Operation], start: Value, plan: ChannelPlan) -> bool:
    inside = {start} | {r for op in ops for r in op.results}
    for op in ops:
        if any(plan.is_block_internal(r) for r in op.results):
            return True
        joined = {v for v in op.operands
                  if v in inside and (v.owner is None or v.owner.name not in _CONSTANT)}
        if len(joined) >= 2:
            return True
    return False


def find_blocks(g: Graph, plan: ChannelPlan) -> list[Block]:
    cuts = trunk_cuts(g, plan)
    blocks: list[Block] = []
    for (i, start), (j, end) in zip(cuts, cuts[1:]):
        ops = g.ops[i + 1:j + 1]
        if _opens_block(ops, start, plan):
            blocks.append(Block(start, end, list(ops)))
        elif blocks and blocks[-1].end is start and all(op.opdef.family in _ABSORBED for op in ops):
            blocks[-1].ops += ops
            blocks[-1].end = end
    return blocks


def find_stages(g: Graph, plan: ChannelPlan) -> list[Stage]:
    stages: list[Stage] = []
    for b in find_blocks(g, plan):
        if stages:
            first, prev = stages[-1].blocks[0], stages[-1].blocks[-1]
            if prev.end is b.start and b.residual and b.end.type == first.end.type:
                stages[-1].blocks.append(b)
                continue
        stages.append(Stage([b]))
    return stages


def _copy(plan: ChannelPlan, template: Block, x: Value, synthesize: bool) -> tuple[list[Operation], Value]:
    """Ops repeating ``template`` on ``x``; their types are the template's until re-inferred."""
    vmap: dict[Value, Value] = {template.start: x}
    kmap: dict[Kernel, Kernel] = {}  # a copy is a region of its own, so are its kernels
    ops = []
    for op in template.ops:
        kernel = None
        if op.kernel is not None:
            kernel = kmap.setdefault(op.kernel, Kernel(**op.kernel.attrs))
        attrs = dict(op.attrs)
        if synthesize and "stride" in attrs:
            attrs["stride"] = (1,) * len(attrs["stride"])
        new = Operation(op.opdef, [vmap.get(v, v) for v in op.operands], attrs,
                        [r.type for r in op.results], loc=op.loc, kernel=kernel,
                        name_hints=[r.name_hint for r in op.results])
        vmap.update(zip(op.results, new.results))
        ops.append(new)
    plan.fork(template.ops, ops, template.start, x, template.end)
    end = vmap[template.end]
    if synthesize:
        add = Operation(OPS["add"], [end, x], {}, [x.type], loc=template.ops[-1].loc)
        if x in plan.of:
            plan.of[add.results[0]] = plan.of[x]
        ops.append(add)
        end = add.results[0]
    return ops, end


def _replace_uses_after(g: Graph, old: Value, new: Value, after: int) -> None:
    for op in g.ops[after:]:
        if old in op.operands:
            op.operands = tuple(new if v is old else v for v in op.operands)
    g.outputs = [new if v is old else v for v in g.outputs]


def scale_depth(g: Graph, plan: ChannelPlan, depth: float) -> tuple[bool, list[Operation]]:
    """Repeat or drop blocks so that each stage of n blocks has ceil(n · depth).

    Returns whether anything changed and the residual adds of synthesized blocks: once types
    are re-inferred their operands must agree, or the block cannot repeat on its own output.
    """
    changed, synthesized = False, []
    # last stage first: rewiring a stage's output must not touch blocks still to be copied
    for stage in reversed(find_stages(g, plan)):
        n = len(stage.blocks)
        target = max(1, math.ceil(n * depth - 1e-9))
        last = stage.blocks[-1]
        if target > n:
            residual = [b for b in stage.blocks if b.residual]
            template = residual[-1] if residual else stage.blocks[0]
            if not residual and stage.blocks[0].start.type.rank != last.end.type.rank:
                raise PassError(f"cannot deepen a stage whose block changes rank ({last.start.type} -> "
                                f"{last.end.type})")
            at = g.ops.index(last.ops[-1]) + 1
            x, new_ops = last.end, []
            for _ in range(target - n):
                ops, x = _copy(plan, template, x, synthesize=not residual)
                new_ops += ops
                if not residual:
                    synthesized.append(ops[-1])
            g.ops[at:at] = new_ops
            _replace_uses_after(g, last.end, x, at + len(new_ops))
            changed = True
        elif target < n:
            for b in reversed(stage.blocks[target:]):
                if not b.residual:
                    break
                at = g.ops.index(b.ops[-1]) + 1
                _replace_uses_after(g, b.end, b.start, at)
                dropped = set(b.ops)
                g.ops = [op for op in g.ops if op not in dropped]
                changed = True
    return changed, synthesized
