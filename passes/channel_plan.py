"""Channel classes: which channel counts of a graph must move together when it is widened.

Every tensor with a channel axis (axis 1: N, C, ...) belongs to a class. Ops that keep the
channel count (activations, norms, pools, elementwise ops with a full-width operand, such as
a residual add or an SE gate) put their operands and result in one class. Each class is

* ``fixed``: touching something whose width must not change (a graph input or output, a
  hard-coded shape attribute, an op whose channel layout this analysis does not follow:
  reshape, transpose, matmul, attention, calls);
* ``derived``: following another class by a ratio, when it lives inside a block: the output
  of a depthwise conv (ratio 1), of a pointwise expansion conv feeding a depthwise conv
  (the MBConv expansion ratio, rounded to the divisor), of a squeeze conv after a global pool
  (the SE ratio, rounded down), of a flatten (times the flattened spatial size);
* ``sum``: a channel concat of other classes;
* ``free``: the rest (stem, stage and head widths), scaled by the width multiplier and
  rounded to a multiple of the divisor the EfficientNet way.

This reproduces how torchvision's EfficientNet derives B1..B7 from base widths: stage widths
are ``_make_divisible(c · width, 8)``, expansions ``_make_divisible(c_in · ratio, 8)`` and SE
squeezes ``c_in // 4`` of the scaled block input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fractions import Fraction

from archir.ir import Graph, Operation, Value
from archir.ops._shapes import axis as norm_axis
from archir.passes.base import PassError

_GLOBAL_POOLS = ("global_avg_pool", "global_max_pool")
_SAME_CHANNELS = frozenset({"unary", "norm", "softmax", "pool"})
_OPAQUE = "opaque"


def make_divisible(value: float, divisor: int) -> int:
    """Round ``value`` to a multiple of ``divisor`` (at least one divisor), never losing more
    than 10% of it: EfficientNet's and MobileNet's channel rounding."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


@dataclass(frozen=True)
class ChannelClass:
    id: int
    width: int
    kind: str  # "fixed" | "free" | "derived" | "sum"
    parent: int = -1
    ratio: Fraction = Fraction(1)
    rounding: str = "exact"  # "exact" | "divisible" | "floor"
    source: str = ""  # why derived: "depthwise" | "expand" | "squeeze" | "flatten"
    parts: tuple[int, ...] = ()
    divisor: int = 1  # channel groups that must divide the width


def _is_pointwise(op: Operation) -> bool:
    return op.name in ("conv1d", "conv2d") and all(k == 1 for k in op.attrs["kernel"]) \
        and op.attrs["groups"] == 1


def _channels(v: Value) -> int | None:
    t = v.type
    return t.shape[1] if t.rank >= 2 and isinstance(t.shape[1], int) else None


class ChannelPlan:
    """The channel classes of one graph and the ops whose attributes carry them."""

    def __init__(self) -> None:
        self.classes: dict[int, ChannelClass] = {}
        self.of: dict[Value, int] = {}
        self.depthwise: set[Operation] = set()

    # --- analysis ---------------------------------------------------------------------------
    @classmethod
    def analyse(cls, g: Graph) -> ChannelPlan:
        return _Builder(g).build()

    def is_block_internal(self, v: Value) -> bool:
        """Inside an inverted-bottleneck block: a depthwise or expansion width."""
        c = self.of.get(v)
        return c is not None and self.classes[c].source in ("depthwise", "expand")

    # --- copies (depth scaling) -------------------------------------------------------------
    def fork(self, template: list[Operation], copies: list[Operation], start: Value, new_start: Value,
             end: Value) -> None:
        """Give the values of ``copies`` (op-by-op copies of ``template``) classes of their own.

        The template's input class maps to ``new_start``'s, its output class stays; any other
        class used only inside the template is duplicated (with its parent remapped), so the
        copy's widths follow its own input the way the template's follow the template's.
        """
        inside = {r for op in template for r in op.results}
        outside = {c for v, c in self.of.items() if v not in inside}
        cmap: dict[int, int] = {}
        if start in self.of and new_start in self.of:
            cmap[self.of[start]] = self.of[new_start]
        if end in self.of:
            cmap.setdefault(self.of[end], self.of[end])
        fresh = []
        for v in sorted(inside, key=lambda v: (template.index(v.owner), v.index)):
            c = self.of.get(v)
            if c is not None and c not in cmap:
                cmap[c] = c if c in outside else self._new_id()
                if cmap[c] != c:
                    fresh.append(c)
                    self.classes[cmap[c]] = replace(self.classes[c], id=cmap[c])
        for c in fresh:
            k = self.classes[cmap[c]]
            self.classes[cmap[c]] = replace(k, parent=cmap.get(k.parent, k.parent),
                                            parts=tuple(cmap.get(p, p) for p in k.parts))
        for t, n in zip(template, copies):
            for rt, rn in zip(t.results, n.results):
                if rt in self.of:
                    self.of[rn] = cmap[self.of[rt]]
            if t in self.depthwise:
                self.depthwise.add(n)

    def _new_id(self) -> int:
        return max(self.classes, default=-1) + 1

    # --- widths -------------------------------------------------------------------------------
    def resolve(self, width: float, divisor: int = 8) -> dict[int, int]:
        """The new width of every class under width multiplier ``width``."""
        out: dict[int, int] = {}
        visiting: set[int] = set()

        def new(cid: int) -> int:
            if cid in out:
                return out[cid]
            if cid in visiting:
                raise PassError(f"channel classes derive from each other in a cycle (class {cid})")
            visiting.add(cid)
            k = self.classes[cid]
            if k.kind == "fixed":
                value = k.width
            elif k.kind == "free":
                value = k.width if width == 1 else make_divisible(k.width * width, self._step(k, divisor))
            elif k.kind == "sum":
                value = sum(new(p) for p in k.parts)
            else:
                parent = new(k.parent)
                scaled = parent * k.ratio
                if scaled == self.classes[k.parent].width * k.ratio == k.width:
                    value = k.width
                elif k.rounding == "exact":
                    if scaled.denominator != 1:
                        raise PassError(f"a {k.source} width {k.width} cannot follow {parent} channels "
                                        f"exactly (ratio {k.ratio})")
                    value = int(scaled)
                elif k.rounding == "divisible":
                    value = make_divisible(float(scaled), self._step(k, divisor))
                else:
                    value = max(k.divisor, math.floor(scaled) // k.divisor * k.divisor)
            visiting.discard(cid)
            out[cid] = value
            return value

        for cid in self.classes:
            new(cid)
        return out

    @staticmethod
    def _step(k: ChannelClass, divisor: int) -> int:
        """What a width must be a multiple of: the divisor (with the class's groups), except for
        classes narrower than the divisor, which only keep their groups dividing them."""
        return math.lcm(divisor, k.divisor) if k.width >= divisor else k.divisor

    def apply(self, g: Graph, widths: dict[int, int]) -> bool:
        """Set every width-carrying attribute of ``g`` from ``widths``; True if any changed."""
        changed = False

        def set_attr(op: Operation, key: str, value: int) -> None:
            nonlocal changed
            if op.attrs[key] != value:
                op.attrs[key] = value
                changed = True

        for op in g.ops:
            out = self.of.get(op.results[0]) if op.results else None
            if op.name in ("conv1d", "conv2d", "conv_transpose2d") and out is not None:
                set_attr(op, "out_channels", widths[out])
                if op in self.depthwise:
                    set_attr(op, "groups", widths[self.of[op.operands[0]]])
            elif op.name == "linear" and out is not None and op.results[0].type.rank == 2:
                set_attr(op, "out_features", widths[out])
            elif op.name == "prelu" and out is not None and op.attrs["num_parameters"] > 1:
                set_attr(op, "num_parameters", widths[out])
        for cid, k in self.classes.items():
            if k.divisor > 1 and widths[cid] % k.divisor:
                raise PassError(f"width {widths[cid]} (was {k.width}) is not divisible by the "
                                f"{k.divisor} groups of the ops that use it")
        return changed


class _Builder:
    """Union-find over values, then one class per set (see the module docstring)."""

    def __init__(self, g: Graph):
        self.g = g
        self.parent: dict[Value, Value] = {}
        self.fixed: set[Value] = set()
        self.links: list[tuple[Value, Value, Fraction, str, str]] = []  # child, parent, ratio, rounding, why
        self.sums: list[tuple[Value, tuple[Value, ...]]] = []
        self.divisors: list[tuple[Value, int]] = []
        self.depthwise: set[Operation] = set()
        self.dw_inputs: list[Value] = []
        self.pointwise: list[Operation] = []

    def find(self, v: Value) -> Value:
        root = v
        while self.parent.get(root, root) is not root:
            root = self.parent[root]
        while v is not root:
            self.parent[v], v = root, self.parent.get(v, v)
        return root

    def union(self, a: Value, b: Value) -> None:
        if _channels(a) is None or _channels(b) is None or _channels(a) != _channels(b):
            self.fix(a, b)
            return
        ra, rb = self.find(a), self.find(b)
        if ra is not rb:
            self.parent[rb] = ra

    def fix(self, *values: Value) -> None:
        self.fixed.update(values)

    def build(self) -> ChannelPlan:
        g = self.g
        self.fix(*g.args, *g.outputs)
        for op in g.ops:
            self.visit(op)
        return self.classes()

    # --- per-op rules ---------------------------------------------------------------------------
    def visit(self, op: Operation) -> None:
        ins, outs = op.operands, op.results
        fam, name = op.opdef.family, op.name
        if len(outs) != 1 or _channels(outs[0]) is None:
            self.fix(*ins, *outs)
            return
        out = outs[0]
        rule = getattr(self, "_" + name, None)
        if rule is not None:
            rule(op, out)
        elif fam in _SAME_CHANNELS:
            self.union(out, ins[0])
            if name == "group_norm":
                self.divisors.append((out, op.attrs["groups"]))
        elif fam == "binary":
            self.binary(op, out)
        else:
            self.fix(*ins, out)

    def binary(self, op: Operation, out: Value) -> None:
        for v in op.operands:
            offset = out.type.rank - v.type.rank
            if offset == 0:
                if v.type.shape[1] == out.type.shape[1]:
                    self.union(out, v)
            elif 1 - offset >= 0 and v.type.shape[1 - offset] != 1:
                self.fix(out, v)  # a lower-rank operand spans the channels with a layout of its own

    def _conv(self, op: Operation, out: Value) -> None:
        x = op.operands[0]
        cin, cout, groups = _channels(x), op.attrs["out_channels"], op.attrs["groups"]
        if cin is None:
            self.fix(x, out)
            return
        if groups > 1 and groups == cin and cout % cin == 0:
            self.depthwise.add(op)
            self.dw_inputs.append(x)
            self.links.append((out, x, Fraction(cout, cin), "exact", "depthwise"))
        elif groups > 1:
            self.divisors += [(x, groups), (out, groups)]
        elif _is_pointwise(op):
            self.pointwise.append(op)
            self.squeeze(op, x, out)

    _conv1d = _conv2d = _conv

    def _conv_transpose2d(self, op: Operation, out: Value) -> None:
        if op.attrs["groups"] > 1:
            self.divisors += [(op.operands[0], op.attrs["groups"]), (out, op.attrs["groups"])]

    def _linear(self, op: Operation, out: Value) -> None:
        x = op.operands[0]
        if x.type.rank != 2:
            self.fix(x, out)  # features on the last axis of a sequence: not a channel axis
            return
        self.squeeze(op, x, out)

    def squeeze(self, op: Operation, x: Value, out: Value) -> None:
        """A narrowing layer fed by a global pool is an SE squeeze: it follows its input."""
        src = x.owner
        while src is not None and src.name in ("flatten", "squeeze", "reshape"):
            src = src.operands[0].owner
        pooled = src is not None and (
            src.name in _GLOBAL_POOLS
            or (src.name.startswith("adaptive_") and src.attrs["output_size"] == (1, 1))
            or (src.name == "reduce_mean" and src.results[0].type.rank >= 3
                and all(d == 1 for d in src.results[0].type.shape[2:]))
        )
        cin, cout = _channels(x), _channels(out)
        if pooled and cin and cout and cout < cin:
            self.links.append((out, x, Fraction(cout, cin), "floor", "squeeze"))

    def _prelu(self, op: Operation, out: Value) -> None:
        self.union(out, op.operands[0])

    def _cast(self, op: Operation, out: Value) -> None:
        self.union(out, op.operands[0])

    def _flatten(self, op: Operation, out: Value) -> None:
        x = op.operands[0]
        start, end = norm_axis(op.attrs["start"], x.type.rank), norm_axis(op.attrs["end"], x.type.rank)
        if start >= 2:
            self.union(out, x)
        elif start == 1:
            merged = x.type.shape[2:end + 1]
            if not all(isinstance(d, int) for d in merged):
                self.fix(x, out)
            elif math.prod(merged) == 1:
                self.union(out, x)
            else:
                self.links.append((out, x, Fraction(math.prod(merged)), "exact", "flatten"))
        else:
            self.fix(x, out)

    def _squeeze(self, op: Operation, out: Value) -> None:
        x = op.operands[0]
        axes = {norm_axis(a, x.type.rank) for a in op.attrs["axes"]}
        self.union(out, x) if not axes & {0, 1} else self.fix(x, out)

    def _unsqueeze(self, op: Operation, out: Value) -> None:
        x = op.operands[0]
        axes = {norm_axis(a, out.type.rank) for a in op.attrs["axes"]}
        self.union(out, x) if not axes & {0, 1} else self.fix(x, out)

    def _transpose(self, op: Operation, out: Value) -> None:
        x = op.operands[0]
        self.union(out, x) if tuple(op.attrs["perm"][:2]) == (0, 1) else self.fix(x, out)

    def _pad(self, op: Operation, out: Value) -> None:
        x = op.operands[0]
        pads, r = op.attrs["pads"], x.type.rank
        self.union(out, x) if pads[1] == 0 and pads[r + 1] == 0 else self.fix(x, out)

    def _resize(self, op: Operation, out: Value) -> None:
        self.union(out, op.operands[0])

    def _channel_shuffle(self, op: Operation, out: Value) -> None:
        self.union(out, op.operands[0])
        self.divisors.append((out, op.attrs["groups"]))

    def _roll(self, op: Operation, out: Value) -> None:
        x = op.operands[0]
        axes = {norm_axis(a, x.type.rank) for a in op.attrs["axes"]}
        self.union(out, x) if 1 not in axes else self.fix(x, out)

    def _concat(self, op: Operation, out: Value) -> None:
        if norm_axis(op.attrs["axis"], out.type.rank) == 1:
            self.sums.append((out, op.operands))
        else:
            for v in op.operands:
                self.union(out, v)

    def _slice(self, op: Operation, out: Value) -> None:
        x = op.operands[0]
        axes = {norm_axis(a, x.type.rank) for a in op.attrs["axes"]}
        self.union(out, x) if 1 not in axes else self.fix(x, out)

    def _reduce(self, op: Operation, out: Value) -> None:
        x = op.operands[0]
        axes = {norm_axis(a, x.type.rank) for a in op.attrs["axes"]} or set(range(x.type.rank))
        self.union(out, x) if not axes & {0, 1} else self.fix(x, out)

    _reduce_mean = _reduce_sum = _reduce_max = _reduce_min = _reduce_prod = _reduce

    # --- classes -----------------------------------------------------------------------------------
    def classes(self) -> ChannelPlan:
        plan = ChannelPlan()
        plan.depthwise = self.depthwise
        values = [*self.g.args] + [r for op in self.g.ops for r in op.results]
        ids: dict[Value, int] = {}
        for v in values:
            if _channels(v) is None:
                continue
            root = self.find(v)
            if root not in ids:
                ids[root] = len(ids)
            plan.of[v] = ids[root]
        fixed = {plan.of[v] for v in self.fixed if v in plan.of}
        # a fixed width pins whatever it follows exactly: the input of a depthwise conv or a
        # flatten whose output is fixed, the parts of a fixed concat
        exact = [(plan.of.get(c), plan.of.get(p))
                 for c, p, _, rounding, _ in self.links if rounding == "exact"]
        exact += [(plan.of.get(out), plan.of.get(v)) for out, parts in self.sums for v in parts]
        grew = True
        while grew:
            grew = False
            for c, p in exact:
                if c in fixed and p is not None and p not in fixed:
                    fixed.add(p)
                    grew = True
        kinds: dict[int, dict] = {c: {} for c in ids.values()}
        for v, c in plan.of.items():
            kinds[c].setdefault("width", _channels(v))
        divisor = {c: 1 for c in kinds}
        for v, groups in self.divisors:
            if v in plan.of:
                divisor[plan.of[v]] = math.lcm(divisor[plan.of[v]], groups)

        def link(child: Value, parent: Value, ratio: Fraction, rounding: str, why: str) -> None:
            c, p = plan.of.get(child), plan.of.get(parent)
            if c is None or p is None or c == p or c in fixed or "kind" in kinds[c]:
                return  # the first reason to follow another class wins
            kinds[c].update(kind="derived", parent=p, ratio=ratio, rounding=rounding, source=why)

        for child, parent, ratio, rounding, why in self.links:
            link(child, parent, ratio, rounding, why)
        dw_in = {plan.of[v] for v in self.dw_inputs if v in plan.of}
        for op in self.pointwise:  # an expansion feeds a depthwise conv
            x, out = op.operands[0], op.results[0]
            if plan.of.get(out) in dw_in and _channels(out) > _channels(x):
                link(out, x, Fraction(_channels(out), _channels(x)), "divisible", "expand")
        for out, parts in self.sums:
            c = plan.of.get(out)
            if c is not None and c not in fixed and "kind" not in kinds[c] \
                    and all(v in plan.of for v in parts):
                kinds[c].update(kind="sum", parts=tuple(plan.of[v] for v in parts))
        for c, info in kinds.items():
            kind = "fixed" if c in fixed else info.pop("kind", "free")
            if kind == "fixed":
                info = {"width": info["width"]}
            plan.classes[c] = ChannelClass(c, kind=kind, divisor=divisor[c],
                                           **{k: v for k, v in info.items() if k != "kind"})
        return plan

