"""onnxruntime's CPU graph fusions, written on IR ops (ORT_ENABLE_EXTENDED, IR emitted by
``archir.to_onnx``). Checked against the graph onnxruntime saves (``ort_truth``).

Three tables: ``TEMPLATES`` are multi-op patterns ORT replaces by one contrib op (Gelu,
QuickGelu, SkipLayerNormalization, FusedMatMul); ``LINKS`` say which consumer a kernel built
around a given op absorbs (Conv+BN folding, FusedConv, FusedGemm, Reshape chains); ``SPLITS``
says how many kernels ORT runs for one IR op that ``to_onnx`` emits as several nodes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from archir.ir import Graph, Operation, Value
from archir.passes.targets.anchor import FREE_CLASSES
from archir.passes.targets.fusion import (
    attach_free_ops,
    group_outputs,
    is_constant,
    runtime_operands,
    tail,
    uses,
)
from archir.passes.targets.opclass import op_class
from archir.passes.targets.ort_transposes import TransposePlan, plan_transposes
from archir.passes.targets.partition import Partition

# --- links: (anchor kinds, consumer kinds, condition on (anchor, kernel ops, consumer)) -------
CONV = frozenset({"conv1d", "conv2d"})
RESHAPES = frozenset({"reshape", "flatten", "squeeze", "unsqueeze"})
CONV_ACTIVATIONS = frozenset({"relu", "relu6", "clip", "sigmoid", "tanh", "leaky_relu", "hardsigmoid"})
GEMM_ACTIVATIONS = frozenset({"relu", "sigmoid", "tanh", "leaky_relu", "hardsigmoid"})


def _no_activation_yet(anchor: Operation, ops: list[Operation], c: Operation) -> bool:
    return not any(op.name in CONV_ACTIVATIONS for op in ops)


def _per_channel_constant(anchor: Operation, ops: list[Operation], c: Operation) -> bool:
    """ConvMulFusion / ConvAddFusion: an initializer of shape (C, 1, 1) (or (1, C, 1, 1));
    Mul also takes a scalar, Add does not."""
    if not _no_activation_yet(anchor, ops, c) or any(op.name in ("mul", "add") for op in ops):
        return False
    const = [v for v in c.operands if is_constant(v)]
    if len(const) != 1:
        return False
    if c.name == "mul" and const[0].type.numel() == 1:
        return True
    if const[0].owner.name != "parameter":
        return False
    shape = [d for d in const[0].type.shape]
    channels = anchor.attrs["out_channels"]
    return shape in ([channels, 1, 1], [1, channels, 1, 1]) or shape == [channels, 1]


def _gemm_2d(anchor: Operation, ops: list[Operation], c: Operation) -> bool:
    return anchor.operands[0].type.rank == 2 and len(ops) == 1


def _matmul_add_3d(anchor: Operation, ops: list[Operation], c: Operation) -> bool:
    """MatMulAddFusion wraps a 3-D linear in Reshape-Gemm-Reshape; ReshapeFusion merges a
    following reshape into the trailing Reshape."""
    return anchor.operands[0].type.rank >= 3 and anchor.attrs["bias"]


def _scalar_constant(anchor: Operation, ops: list[Operation], c: Operation) -> bool:
    const = [v for v in c.operands if is_constant(v)]
    return len(const) == 1 and const[0].type.numel() == 1 and not any(op.name == "mul" for op in ops)


Condition = Callable[[Operation, list[Operation], Operation], bool]
LINKS: tuple[tuple[frozenset[str], frozenset[str], Condition], ...] = (
    (CONV, frozenset({"batch_norm"}), lambda a, ops, c: len(ops) == 1),  # ConvBNFusion
    (CONV, frozenset({"mul", "add"}), _per_channel_constant),  # ConvMulFusion, ConvAddFusion
    (CONV, CONV_ACTIVATIONS, _no_activation_yet),  # ConvActivationFusion -> FusedConv
    (frozenset({"linear"}), GEMM_ACTIVATIONS, _gemm_2d),  # GemmActivationFusion -> FusedGemm
    (frozenset({"matmul"}), frozenset({"mul", "div"}), _scalar_constant),  # MatMulScaleFusion
)

# --- kernels ORT runs for one IR op (to_onnx's emission at opset 18, after ORT's fusions) ----


def _linear_splits(op: Operation) -> int:
    return 3 if op.operands[0].type.rank >= 3 and op.attrs["bias"] else 1


def _distinct(*values: Value) -> int:
    return len({id(v) for v in values})


def _attention_splits(op: Operation) -> int:
    """A Reshape per distinct q/k/v and a Transpose per distinct q/v plus k's (ORT's CSE shares
    them when inputs repeat), FusedMatMul, Softmax, MatMul, Transpose, Reshape; GQA/MQA add
    Unsqueeze-Expand-Reshape per distinct k/v; a mask (causal, window, bias) adds an Add."""
    q, k, v = op.operands[:3]
    n = _distinct(q, k, v) + _distinct(q, v) + 1 + 5
    if op.attrs["num_kv_heads"] != op.attrs["num_heads"]:
        n += 3 * _distinct(k, v)
    return n + int(op.attrs["causal"] or op.attrs["window"] > 0 or len(op.operands) == 4)


def cancelled_heads(op: Operation) -> list[tuple[Operation, Operation]]:
    """The (transpose, reshape) pairs outside an attention that its head split undoes: q, k or v
    made by reshape(transpose(x, (0, 2, 1, 3))) from x = (B, heads, S, D). to_onnx splits heads
    with a Reshape and a Transpose; onnxruntime merges the two Reshapes into a no-op and the two
    Transposes cancel (k's becomes a swap of the last two axes that FusedMatMul absorbs)."""
    found = []
    for i, v in enumerate(op.operands[:3]):
        heads = op.attrs["num_heads"] if i == 0 else op.attrs["num_kv_heads"]
        r = v.owner
        if r is None or r.name != "reshape" or any(w is v for w in op.operands[:i]):
            continue
        t = r.operands[0].owner
        if t is None or t.name != "transpose" or tuple(t.attrs["perm"]) != (0, 2, 1, 3):
            continue
        b, h, s, d = t.operands[0].type.shape
        if h == heads and isinstance(d, int) and tuple(r.results[0].type.shape) == (b, s, h * d):
            found.append((t, r))
    return found


def _heads_cancel(p: Partition, op: Operation) -> list[Operation] | None:
    if op.name != "attention":
        return None
    pairs = [pair for pair in cancelled_heads(op) if all(uses(p, o.results[0]) == 1 for o in pair)]
    return [o for pair in pairs for o in pair] + [op] if pairs else None


def _heads_undone(ops: list[Operation]) -> int:
    """Kernels a region saves by head splits that undo a transpose inside it: the transpose, the
    merged Reshape and the attention's own Transpose."""
    inside = set(ops)
    return 3 * sum(1 for op in ops if op.name == "attention"
                   for t, r in cancelled_heads(op) if t in inside and r in inside)


def _adaptive_pool_splits(op: Operation) -> int:
    """to_onnx pools each axis: nothing when sizes agree, one pool when they divide, else a
    Slice and a Reduce per piece and a Concat (ORT's CSE merges identical pieces)."""
    total = 0
    for n, m in zip(op.operands[0].type.shape[2:], op.attrs["output_size"]):
        if n == m:
            continue
        if n % m == 0:
            total += 1
            continue
        pieces = {((i * n) // m, -(-((i + 1) * n) // m)) for i in range(m)}
        total += 2 * len(pieces) + 1
    return max(total, 1)


def _roll_splits(op: Operation) -> int:
    """to_onnx rolls each axis with two Slices and a Concat; ORT makes the Slices one Split."""
    shape = op.operands[0].type.shape
    rolled = sum(1 for s, a in zip(op.attrs["shifts"], op.attrs["axes"]) if shape[a] and s % shape[a])
    return max(2 * rolled, 1)


SPLITS: dict[str, int | Callable[[Operation], int]] = {
    "hardswish": 2,  # no CPU kernel: the HardSigmoid + Mul function body runs
    "rsqrt": 2,  # Sqrt + Reciprocal
    "gelu": lambda op: 9 if op.attrs["approximate"] == "tanh" else 1,  # erf: fused to Gelu; tanh: not
    "rms_norm": 6,
    "channel_shuffle": 3,  # Reshape, Transpose, Reshape
    "adaptive_avg_pool2d": _adaptive_pool_splits,
    "adaptive_max_pool2d": _adaptive_pool_splits,
    "linear": _linear_splits,
    "attention": _attention_splits,
    "roll": _roll_splits,
}


def ends_with_reshape(op: Operation) -> bool:
    if op.name == "linear":
        return _matmul_add_3d(op, [], op)
    return op.name in ("reshape", "attention")  # to_onnx emits flatten as Flatten


def starts_with_reshape(op: Operation, operand: int) -> bool:
    if op.name in RESHAPES - {"flatten"}:
        return True
    if op.name == "attention":
        return operand < 3
    return op.name == "linear" and _matmul_add_3d(op, [], op)


def seams(ops: list[Operation]) -> int:
    """Reshape -> Reshape joints inside a region (ReshapeFusion makes each pair one node)."""
    inside = {id(op) for op in ops}
    return sum(
        1 for op in ops for i, v in enumerate(op.operands)
        if v.owner is not None and id(v.owner) in inside and ends_with_reshape(v.owner)
        and starts_with_reshape(op, i)
    )


def splits_of(op: Operation) -> int:
    n = SPLITS.get(op.name, 1)
    return n(op) if callable(n) else n


# --- templates ------------------------------------------------------------------------------
def _only_user(p: Partition, v: Value) -> Operation | None:
    users = p.consumers(v)
    return users[0][0] if len(users) == 1 and uses(p, v) == 1 else None


def _quick_gelu(p: Partition, op: Operation) -> list[Operation] | None:
    """QuickGeluFusion: x * sigmoid(x)."""
    if op.name != "sigmoid":
        return None
    x = op.operands[0]
    mul = _only_user(p, op.results[0])
    if mul is not None and mul.name == "mul" and set(map(id, mul.operands)) == {id(x), id(op.results[0])}:
        return [op, mul]
    return None


def _erf_gelu(p: Partition, op: Operation) -> list[Operation] | None:
    """GeluFusion: (x / sqrt2 | x * 1/sqrt2) -> erf -> + 1 -> * x -> * 0.5 (either mul order)."""
    if op.name != "erf":
        return None
    scale = op.operands[0].owner
    if scale is None or scale.name not in ("div", "mul") or not is_constant(scale.operands[1]):
        return None
    x = scale.operands[0]
    add = _only_user(p, op.results[0])
    if add is None or add.name != "add" or not any(is_constant(v) for v in add.operands):
        return None
    m1 = _only_user(p, add.results[0])
    if m1 is None or m1.name != "mul":
        return None
    if any(v is x for v in m1.operands):
        m2 = _only_user(p, m1.results[0])
        if m2 is not None and m2.name == "mul" and any(is_constant(v) for v in m2.operands):
            return [scale, op, add, m1, m2]
    return None


def _skip_layer_norm(p: Partition, op: Operation) -> list[Operation] | None:
    """SkipLayerNormFusion: add(a, b) used only by a last-axis layer_norm."""
    if op.name != "add" or len(runtime_operands(op)) != 2 or op.results[0].type.rank != 3:
        return None
    ln = _only_user(p, op.results[0])
    if ln is not None and ln.name == "layer_norm" and ln.attrs["axis"] in (-1, 2):
        return [op, ln]
    return None


def _transposed_matmul(p: Partition, op: Operation) -> list[Operation] | None:
    """MatmulTransposeFusion: a transpose of the last two axes feeding a matmul."""
    if op.name != "matmul":
        return None
    found = []
    for v in op.operands:
        t = v.owner
        if t is not None and t.name == "transpose" and uses(p, v) == 1:
            perm = t.attrs["perm"]
            r = len(perm)
            if tuple(perm) == (*range(r - 2), r - 1, r - 2):
                found.append(t)
    return [*found, op] if found else None


def _slices_to_split(p: Partition, op: Operation) -> list[Operation] | None:
    """Slices of one tensor along one axis that tile it exactly run as one Split."""
    if op.name != "slice" or len(op.attrs["axes"]) != 1 or op.attrs["steps"] not in ((), (1,)):
        return None
    x = op.operands[0]
    rank = x.type.rank
    axis = op.attrs["axes"][0] % rank
    size = x.type.shape[axis]
    pieces = []
    for user, _ in p.consumers(x):
        a = user.attrs
        same_axis = len(a.get("axes", ())) == 1 and a["axes"][0] % rank == axis
        if user.name == "slice" and same_axis and a["steps"] in ((), (1,)):
            start, stop, _ = slice(a["starts"][0], a["ends"][0]).indices(size)
            pieces.append((start, stop, user))
    pieces.sort(key=lambda t: t[0])
    tiles = len(pieces) >= 2 and pieces[0][0] == 0 and pieces[-1][1] == size and all(
        a[1] == b[0] for a, b in zip(pieces, pieces[1:]))
    if not tiles or pieces[0][2] is not op:
        return None
    return [u for _, _, u in pieces]


def _splits_axes(src: tuple, dst: tuple) -> bool:
    """dst only splits src's axes: consecutive dst dims multiply to each src dim in turn."""
    i, j = 0, 0
    while i < len(src):
        size = 1
        while j < len(dst) and size < src[i]:
            size *= dst[j]
            j += 1
        if size != src[i]:
            return False
        while j < len(dst) and dst[j] == 1 and src[i] != 1 and i == len(src) - 1:
            j += 1
        i += 1
    return j == len(dst)


def _transpose_through_reshape(p: Partition, op: Operation) -> list[Operation] | None:
    """The transpose optimizer moves a transpose past a reshape that only splits axes and
    merges it with the transpose after it: T -> Reshape -> T runs as Reshape + Transpose."""
    if op.name != "transpose":
        return None
    r = _only_user(p, op.results[0])
    if r is None or r.name != "reshape":
        return None
    t2 = _only_user(p, r.results[0])
    if t2 is None or t2.name != "transpose":
        return None
    src, dst = r.operands[0].type.shape, r.results[0].type.shape
    if not (all(isinstance(d, int) for d in (*src, *dst)) and _splits_axes(tuple(src), tuple(dst))):
        return None
    return [op, r, t2]


def _signature(op: Operation) -> tuple:
    return (op.name, tuple(sorted((k, repr(v)) for k, v in op.attrs.items())), tuple(map(id, op.operands)))


def _common_subexpressions(p: Partition, op: Operation) -> list[Operation] | None:
    """CommonSubexpressionElimination: ops of one kind, attributes and operands run once."""
    if not op.operands or op_class(op) in FREE_CLASSES or op.opdef.params is not None:
        return None  # ops with weights differ by their weights
    mine = _signature(op)
    twins = [u for u, _ in p.consumers(op.operands[0]) if u is not op and _signature(u) == mine]
    if not twins or any(p.index[t] < p.index[op] for t in twins):
        return None  # reported once, from the first of the twins
    return [op, *twins]


def duplicates(ops: list[Operation]) -> set[Operation]:
    """The ops CSE removes: every op that repeats an earlier op's kind, attributes and operands."""
    seen: set[tuple] = set()
    out = set()
    for op in ops:
        if not op.operands or op_class(op) in FREE_CLASSES or op.opdef.params is not None:
            continue
        sig = _signature(op)
        if sig in seen:
            out.add(op)
        seen.add(sig)
    return out


def launches(ops: list[Operation], plan: TransposePlan | None = None) -> int:
    """Kernels ORT runs for one fused region: common subexpressions run once; where the transpose
    optimizer rewrote the region, its ops run one by one with the Transposes it left there."""
    twins = duplicates(list(ops))
    folded = plan.folded if plan is not None else frozenset()
    real = [op for op in ops if op_class(op) not in FREE_CLASSES and op not in twins and op not in folded]
    if plan is not None and plan.touched.intersection(real):
        rest = [op for op in real if op.name != "transpose"]
        return (sum(splits_of(op) for op in rest) - seams(rest) + plan.transposes_within(set(real))
                - _heads_undone(real))
    joints = seams(real)
    if joints:
        return sum(splits_of(op) for op in real) - joints - _heads_undone(real)
    transposes = [op for op in real if op.name == "transpose"]
    if len(transposes) == 2 and len(real) == 3 and real[1].name == "reshape":
        return 2  # T -> Reshape -> T: the first transpose joined the second
    return max(splits_of(op) for op in real) if real else 1


TEMPLATES = (("Heads", _heads_cancel), ("CSE", _common_subexpressions), ("Split", _slices_to_split),
             ("Reshape+Transpose", _transpose_through_reshape), ("Gelu", _erf_gelu),
             ("QuickGelu", _quick_gelu), ("SkipLayerNormalization", _skip_layer_norm),
             ("FusedMatMul", _transposed_matmul))


@dataclass(frozen=True)
class OrtFusion:
    def partition(self, g: Graph) -> Partition:
        p = Partition(g)
        attach_free_ops(p)
        plan = plan_transposes(g)
        for op in reversed(g.ops):  # constant folding: what folds goes with the op that reads it
            users = [u for r in op.results for u, _ in p.consumers(r)] if op in plan.folded else []
            if users:
                p.merge(p.group(users[0]), p.group(op))
        for ops in plan.joins:  # ops the transpose optimizer left under one node
            p.merge_all(list(ops))
        for _, match in TEMPLATES:
            for op in g.ops:
                ops = match(p, op)
                if ops and len({p.group(o) for o in ops}) == len(ops):
                    p.merge_all(ops)
        for c in g.ops:
            if c not in plan.folded:
                self._link(p, c, plan.folded)
        return p

    def _link(self, p: Partition, c: Operation, folded: frozenset[Operation]) -> None:
        gid = p.group(c)
        # a template's region takes no LINKS (ORT fuses each node once); ReshapeFusion still joins
        templated = any(o is not c and o.name not in ("constant", "parameter") and o not in folded
                        for o in p.members(gid))
        for v in runtime_operands(c) if not templated else ():
            if v.owner is None or uses(p, v) != 1:
                continue
            producer = p.group(v.owner)
            if producer == gid or group_outputs(p, producer) != [v]:
                continue
            ops = [o for o in p.members(producer) if o.name not in ("constant", "parameter", "identity",
                                                                   "dropout") and o not in folded]
            anchor = ops[0]
            for anchors, consumers, cond in LINKS:
                if anchor.name in anchors and c.name in consumers and cond(anchor, ops, c):
                    if p.merge(producer, gid):
                        return
        # ReshapeFusion: where a Reshape-ending op feeds a Reshape-starting one, the two
        # Reshapes become one node and the regions join (3-D linears, attention, reshapes)
        for i, v in enumerate(c.operands):
            u = v.owner
            if u is None or not (ends_with_reshape(u) and starts_with_reshape(c, i)) or uses(p, v) != 1:
                continue
            producer = p.group(u)
            if producer != p.group(c) and group_outputs(p, producer) == [v] and tail(p, producer) is u:
                p.merge(producer, p.group(c))
