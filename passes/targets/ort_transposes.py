"""onnxruntime's transpose optimizer, replayed on the IR.

onnxruntime (level 1, ``onnx_transpose_optimization``) walks the graph in order and pushes each
Transpose through the op that reads it when a rank-based cost estimate says the transposed
dimensions strictly drop: through elementwise, reduce, softmax, concat, split and slice ops,
into another transpose (merged) and into a reshape that only moves size-1 axes. A pushed
transpose lands after the op, where it may meet and cancel the next one; the op's other inputs
take the inverse (free for a constant, cancelling for a transpose with the same perm, a new
Transpose otherwise). The pass is global: whether a transpose moves depends on what feeds the
op's other inputs and on whether a path from the op leads to another transpose. So no local
pattern can predict it (ConvNeXt keeps a whole stage in NHWC, but only the first).

Constant folding runs first: ops that read only constants are constants here. The replay
treats each other IR op as one node (ops ``to_onnx`` emits as several have no handler),
then maps the result back to IR ops the way ``ort_truth`` maps onnxruntime's saved graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from weakref import WeakKeyDictionary

from archir.ir import Graph, Operation, Value
from archir.passes.targets.fusion import constant_folded
from archir.passes.targets.node_cover import cover
from archir.passes.targets.opclass import op_class

Perm = tuple[int, ...]


# --- handlers: IR op kind -> (inputs a transpose may be pushed through, how) ------------------
@dataclass(frozen=True)
class Handler:
    inputs: str  # "all" | "first" | "non_scalar"
    outputs: str = "perm"  # "perm" (transposed like the input) | "reduce" | "none" (transpose/reshape)


_SIMPLE = Handler("all")
HANDLERS: dict[str, Handler] = {
    **{k: _SIMPLE for k in ("relu", "sigmoid", "tanh", "exp", "log", "sqrt", "neg", "abs", "erf", "sin",
                            "cos", "reciprocal", "floor", "ceil", "sign", "softplus", "hardsigmoid",
                            "hardswish", "leaky_relu", "cast")},
    **{k: Handler("non_scalar") for k in ("add", "sub", "mul", "div", "pow", "maximum", "minimum",
                                          "equal", "less", "greater", "where")},
    **{k: Handler("first") for k in ("clip", "relu6", "softmax", "log_softmax", "split", "slice")},
    **{k: Handler("first", "reduce") for k in ("reduce_sum", "reduce_mean", "reduce_max", "reduce_min",
                                               "reduce_prod")},
    "concat": _SIMPLE,
    "transpose": Handler("first", "none"),
    "reshape": Handler("first", "none"),
}


def invert(perm: Perm) -> Perm:
    out = [0] * len(perm)
    for i, p in enumerate(perm):
        out[p] = i
    return tuple(out)


def compose(first: Perm, then: Perm) -> Perm:
    """Transpose(Transpose(x, first), then) as one perm."""
    return tuple(first[i] for i in then)


def _squeeze_perm(axes: set[int], perm: Perm) -> Perm:
    kept = [p for p in perm if p not in axes]
    renumber = {p: i for i, p in enumerate(sorted(kept))}
    return tuple(renumber[p] for p in kept)


# --- the replayed graph ---------------------------------------------------------------------
class _Name:
    """A tensor the optimizer creates (an IR Value names every other tensor)."""

    __slots__ = ("shape",)

    def __init__(self, shape: tuple):
        self.shape = shape


@dataclass(eq=False)
class _Node:
    op: Operation | None  # None: a node the optimizer added
    op_type: str  # the IR kind, or "transpose" for added transposes
    input: list
    output: list
    perm: Perm = ()
    removed: bool = False


@dataclass(frozen=True)
class TransposePlan:
    """What onnxruntime's load-time passes (constant folding, then the transpose optimizer) did,
    in IR terms."""

    folded: frozenset[Operation] = field(default_factory=frozenset)  # constant folding removes these
    joins: tuple[frozenset[Operation], ...] = ()  # IR ops one surviving node covers (two or more)
    transposes: tuple[frozenset[Operation], ...] = ()  # what each Transpose it runs covers
    touched: frozenset[Operation] = field(default_factory=frozenset)  # ops whose node it changed

    def transposes_within(self, ops: set[Operation]) -> int:
        return sum(1 for c in self.transposes if c and c <= ops)


class _Replay:
    def __init__(self, g: Graph):
        self.nodes: list[_Node] = []
        self.producer: dict[object, _Node] = {}
        self.users: dict[object, list[_Node]] = {}
        self.outputs = set(g.outputs)
        self.constants: set[object] = set()
        self.touched: set[Operation] = set()
        self.folded = frozenset(constant_folded(g))  # folded before the optimizer runs
        alias: dict[Value, Value] = {}
        for op in g.ops:
            cls = op_class(op)
            if cls == "constant" or op in self.folded:
                self.constants.update(op.results)
                continue
            ins = [alias.get(v, v) for v in op.operands]
            if cls == "noop" and ins:
                alias[op.results[0]] = ins[0]
                continue
            if op.name in ("call", "choice"):
                raise ValueError("the transpose replay needs a flat graph (inline cells first)")
            perm = tuple(op.attrs["perm"]) if op.name == "transpose" else ()
            self._add(_Node(op, op.name, ins, list(op.results), perm))
        self.outputs = {alias.get(v, v) for v in self.outputs}
        self.original = [(n.input[:], n.output[:]) for n in self.nodes]

    # graph editing ------------------------------------------------------------------------
    def _add(self, node: _Node) -> _Node:
        self.nodes.append(node)
        for name in node.output:
            self.producer[name] = node
        for name in node.input:
            self.users.setdefault(name, []).append(node)
        return node

    def _set_input(self, node: _Node, i: int, name) -> None:
        self.users[node.input[i]].remove(node)
        node.input[i] = name
        self.users.setdefault(name, []).append(node)

    def _remove(self, node: _Node) -> None:
        node.removed = True
        for name in node.input:
            self.users[name].remove(node)
        for name in node.output:
            if self.producer.get(name) is node:
                del self.producer[name]

    def _rename(self, old, new) -> None:
        """Every reader of ``old`` reads ``new`` instead."""
        for u in list(self.users.get(old, [])):
            for k, name in enumerate(u.input):
                if name is old:
                    self._set_input(u, k, new)

    def _unused(self, name) -> bool:
        return not self.users.get(name) and name not in self.outputs

    def _transpose(self, name, perm: Perm) -> object:
        shape = _shape(name)
        out = _Name(tuple(shape[p] for p in perm))
        self._add(_Node(None, "transpose", [name], [out], perm))
        return out

    # cost model ---------------------------------------------------------------------------
    def _rank(self, name) -> int:
        return sum(1 for d in _shape(name) if d != 1)

    def _removable(self, t: _Node) -> bool:
        """Every reader of the transpose has a handler (CanLikelyRemoveTranspose)."""
        return t.output[0] not in self.outputs and all(
            u.op_type in HANDLERS for u in self.users.get(t.output[0], []))

    def _value_cost(self, name, perm: Perm) -> int:
        if name in self.constants:
            return 0
        p = self.producer.get(name)
        if p is not None and p.op_type == "transpose":
            return -self._rank(name) if p.perm == perm and self._removable(p) else 0
        return self._rank(name)

    def _indices(self, node: _Node, h: Handler) -> list[int]:
        if h.inputs == "first":
            return [0]
        if h.inputs == "non_scalar":
            return [i for i, v in enumerate(node.input) if len(_shape(v)) != 0]
        return list(range(len(node.input)))

    # the walk -----------------------------------------------------------------------------
    def run(self) -> TransposePlan:
        leading = self._leading_to_transpose()
        for node in list(self.nodes):
            if node.removed:
                continue
            for j, name in enumerate(node.input):
                t = self.producer.get(name)
                if t is not None and t.op_type == "transpose" and self._process(t, node, j, leading):
                    break
        return self._plan()

    def _leading_to_transpose(self) -> set:
        """Tensors from which a path through handled ops reaches a transpose."""
        leading: set = set()
        for node in reversed(self.nodes):
            if node.op_type == "transpose":
                leading.add(node.input[0])
                continue
            h = HANDLERS.get(node.op_type)
            if h is not None and h.outputs != "none" and any(o in leading for o in node.output):
                leading.update(node.input[i] for i in self._indices(node, h))
        return leading

    def _process(self, t: _Node, node: _Node, j: int, leading: set) -> bool:
        h = HANDLERS.get(node.op_type)
        if h is None or j not in (idx := self._indices(node, h)):
            return False
        if node.op_type != "transpose":
            cost = sum(self._value_cost(node.input[i], t.perm) for i in idx)
            if cost < 0 and h.outputs != "none" and not any(o in leading for o in node.output):
                cost += max(self._rank(o) for o in node.output)
            if cost >= 0:
                return False
        if node.op_type == "transpose":
            return self._merge(t, node, node.perm)
        if node.op_type == "reshape":
            perm = _reshape_as_perm(_shape(t.output[0]), _shape(node.output[0]))
            return perm is not None and self._merge(t, node, perm)
        return self._push(t, node, idx, h)

    def _push(self, t: _Node, node: _Node, idx: list[int], h: Handler) -> bool:
        rank = len(t.perm)
        if any(len(_shape(node.input[i])) > rank for i in idx):
            return False
        out_perm = t.perm
        if h.outputs == "reduce":
            axes = {a % rank for a in node.op.attrs["axes"]} or set(range(rank))
            moved = {t.perm[a] for a in axes}
            if not node.op.attrs["keepdims"]:
                out_perm = _squeeze_perm(moved, t.perm)
        inverse = invert(t.perm)
        for i in idx:
            self._transpose_input(node, i, inverse, rank)
        if out_perm != tuple(range(len(out_perm))):
            for k, name in enumerate(node.output):
                # a Transpose after the op takes over its output tensor (and so its name)
                inner = _Name(tuple(_shape(name)[p] for p in invert(out_perm)))
                node.output[k] = inner
                self.producer[inner] = node
                self._add(_Node(None, "transpose", [inner], [name], out_perm))
        self.touched.add(node.op)
        return True

    def _transpose_input(self, node: _Node, i: int, perm: Perm, rank: int) -> None:
        name = node.input[i]
        if name in self.constants:
            return  # the initializer is transposed in place (or unsqueezed first): free
        if len(_shape(name)) < rank:  # a broadcast input gets an Unsqueeze first
            out = _Name((1,) * (rank - len(_shape(name))) + tuple(_shape(name)))
            self._add(_Node(None, "unsqueeze", [name], [out]))
            self._set_input(node, i, out)
            name = out
        p = self.producer.get(name)
        if p is not None and p.op_type == "transpose" and len(p.perm) == len(perm):
            if p.op is not None:
                self.touched.add(p.op)
            if p.perm == invert(perm):
                self._set_input(node, i, p.input[0])
            else:
                self._set_input(node, i, self._transpose(p.input[0], compose(p.perm, perm)))
            if self._unused(p.output[0]):
                self._remove(p)
            return
        for u in self.users.get(name, []):
            if u.op_type == "transpose" and u.perm == perm and not u.removed:
                self._set_input(node, i, u.output[0])
                return
        self._set_input(node, i, self._transpose(name, perm))

    def _merge(self, t: _Node, node: _Node, node_perm: Perm) -> bool:
        """A transpose (or a reshape that acts as one) reading a transpose: cancel or merge."""
        for n in (t, node):
            if n.op is not None:
                self.touched.add(n.op)
        out, src = node.output[0], t.input[0]
        parent = self.producer.get(src)
        if node_perm == invert(t.perm) and out not in self.outputs:
            self._rename(out, src)
            self._remove(node)
        elif node_perm == invert(t.perm) and parent is not None and src not in self.outputs:
            self._rename(src, out)  # a graph output keeps its name: the parent now makes it
            parent.output[parent.output.index(src)] = out
            self.producer[out] = parent
            del self.producer[src]
            self._remove(node)
        elif node.op_type == "transpose":
            self._set_input(node, 0, t.input[0])
            node.perm = compose(t.perm, node_perm)
        else:  # the reshape becomes one transpose of the first one's input
            self._remove(node)
            self._add(_Node(None, "transpose", [t.input[0]], [out], compose(t.perm, node_perm)))
        if self._unused(t.output[0]):
            self._remove(t)
        return True

    # back to IR ops -----------------------------------------------------------------------
    def _plan(self) -> TransposePlan:
        if not self.touched:
            return TransposePlan(self.folded)
        originals = [_Plain(i, o) for i, o in self.original]
        final = [n for n in self.nodes if not n.removed]
        by_name = {r: n.op for n in self.nodes if n.op is not None for r in n.op.results}
        covered = cover(originals, final, self.outputs, by_name)
        joins = tuple(frozenset(c) for c in covered if len(c) > 1)
        transposes = tuple(frozenset(c) for n, c in zip(final, covered) if n.op_type == "transpose")
        return TransposePlan(self.folded, joins, transposes, frozenset(self.touched))


@dataclass(frozen=True)
class _Plain:
    input: list
    output: list


def _shape(name) -> tuple:
    return tuple(name.shape) if isinstance(name, _Name) else tuple(name.type.shape)


def _reshape_as_perm(src: tuple, dst: tuple) -> Perm | None:
    """The perm a reshape amounts to when it only moves size-1 axes (same rank), else None."""
    if len(src) != len(dst) or not all(isinstance(d, int) for d in (*src, *dst)):
        return None
    dims = list(src)
    perm = []
    for target in dst:
        k = 0
        while dims[k] != target:
            if dims[k] != -1 and dims[k] != 1 and target != 1:
                return None
            k += 1
            if k == len(dims):
                return None
        perm.append(k)
        dims[k] = -1
    return tuple(perm)


# fuse and select-kernels both need the plan of one graph: it is computed once, on the op order
# fusion saw, and reused while the graph holds the same ops
_PLANS: WeakKeyDictionary[Graph, tuple[frozenset[Operation], TransposePlan]] = WeakKeyDictionary()


def plan_transposes(g: Graph) -> TransposePlan:
    """Replay onnxruntime's transpose optimizer on ``g``."""
    ops = frozenset(g.ops)
    hit = _PLANS.get(g)
    if hit is not None and hit[0] == ops:
        return hit[1]
    plan = _Replay(g).run()
    _PLANS[g] = (ops, plan)
    return plan

