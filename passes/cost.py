"""``cost`` analysis and ``archir.cost(module)``: MACs, FLOPs, parameters, bytes, peak memory.

Conventions (per sample: a symbolic dim such as the batch ``N`` counts as 1):

* MACs count multiply-accumulates of conv, transposed conv, linear, matmul and attention
  (q·kᵀ and p·v per head) only. That is what torchvision's published ``_ops`` figures count:
  they were measured with a dispatch-level FLOP counter (pytorch/vision#6936, after
  Chillee's counter) mapping only ``mm``/``addmm``/``bmm``/``convolution`` to one FLOP per
  multiply-add; elementwise, pooling and normalisation ops count zero and bias adds are not
  counted. A conv is ``out.numel · (C_in/groups) · prod(kernel)``; a transposed conv, as the
  counter does, ``in.numel · (C_out/groups) · prod(kernel)``; attention counts every
  (query, key) pair, causal or not (as the counter does for the matmuls), except that local
  attention (``window``) counts only the pairs inside its window.
* FLOPs are 2 per MAC plus a per-element estimate for the rest (1 per output element for
  elementwise ops, 2 for batch_norm, 5 for other norms, 3 for softmax, the window for pools,
  the input size for reductions and global pools): a roofline figure, not a published one.
* Parameters come from the op declarations' ``params``, learnable ones only: batch_norm's
  running statistics are state (torch buffers), and a ``parameter`` with ``trainable = false``
  (a mask, a folded constant) or of an integer dtype (an index table) is stored, not learned.
  Weight bytes count every stored tensor.
* Peak activation memory walks the ops in order, allocating each result and freeing a buffer
  after its last use; reshape-like ops alias their input. A ``call`` costs what its callee costs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import prod
from typing import NamedTuple

from archir.errors import VerifyError
from archir.ir import Graph, Module, Operation, Value
from archir.opdef import InferError
from archir.ops.structure import choice_cell
from archir.passes.base import Pass, PassContext, register
from archir.passes.naming import graph_op_names
from archir.types import Dim, TensorType
from archir.verifier import resolved_attrs

_BUFFERS = {"batch_norm": frozenset({"running_mean", "running_var"})}
_ALIASES = frozenset({"reshape", "flatten", "squeeze", "unsqueeze", "identity", "dropout"})


class OpCost(NamedTuple):
    """One op's row: an immutable typed record (a NamedTuple: cheap to build per op)."""

    graph: str
    name: str  # the op's printed name (its first result), e.g. "%stem"
    kind: str
    macs: int
    flops: int
    params: int
    weight_bytes: int
    input_bytes: int
    output_bytes: int

    @property
    def arithmetic_intensity(self) -> float:
        """FLOPs per byte moved (weights + inputs + outputs)."""
        return self.flops / max(1, self.weight_bytes + self.input_bytes + self.output_bytes)


@dataclass(frozen=True)
class KindCost:
    kind: str
    count: int
    macs: int
    flops: int
    params: int


@dataclass(frozen=True)
class CostReport:
    ops: tuple[OpCost, ...]  # the main graph's ops in order (a call row holds its callee's totals)
    macs: int
    flops: int
    params: int
    weight_bytes: int
    activation_bytes: int  # bytes of every tensor the graph allocates (aliases excluded)
    peak_activation_bytes: int
    traffic_bytes: int  # weights + inputs + outputs summed over ops

    @property
    def arithmetic_intensity(self) -> float:
        return self.flops / max(1, self.traffic_bytes)

    def by_kind(self) -> list[KindCost]:
        """Totals per op kind, largest MAC count first."""
        acc: dict[str, list[int]] = {}
        for r in self.ops:
            a = acc.setdefault(r.kind, [0, 0, 0, 0])
            a[0] += 1
            a[1] += r.macs
            a[2] += r.flops
            a[3] += r.params
        rows = [KindCost(k, *v) for k, v in acc.items()]
        return sorted(rows, key=lambda k: (-k.macs, -k.params, k.kind))


def _d(dim: Dim) -> int:
    return dim if isinstance(dim, int) else 1


def _numel(t: TensorType) -> int:
    return t.numel()


# --- MACs ---------------------------------------------------------------------------------------
def _conv_macs(ins: tuple[TensorType, ...], out: TensorType, a) -> int:
    return _numel(out) * (_d(ins[0].shape[1]) // a["groups"]) * prod(a["kernel"])


def _conv_transpose_macs(ins, out, a) -> int:
    return _numel(ins[0]) * (a["out_channels"] // a["groups"]) * prod(a["kernel"])


def _inner_macs(ins, out, a) -> int:
    return _numel(out) * _d(ins[0].shape[-1])


def _window_pairs(s: int, t: int, window: int, causal: bool) -> int:
    """(query, key) pairs local attention computes: query i sees key j iff |i - j| < window
    (and j <= i when causal)."""
    return sum(min(t - 1, i if causal else i + window - 1) - max(0, i - window + 1) + 1
               for i in range(s) if i - window + 1 <= t - 1)


def _attention_shape(ins, a) -> tuple[int, int, int, int, int]:
    """(batch, heads, (query, key) pairs per head, key width, value width)."""
    q, k, v = ins[:3]
    hq, hkv = a["num_heads"], a["num_kv_heads"]
    b, s, t = _d(q.shape[0]), _d(q.shape[1]), _d(k.shape[1])
    # a full (or merely causal) attention counts every pair, as a FLOP counter of the
    # matmuls does; a local window counts the pairs inside it
    pairs = _window_pairs(s, t, a["window"], a["causal"]) if a["window"] else s * t
    return b, hq, pairs, _d(q.shape[2]) // hq, _d(v.shape[2]) // hkv


def _attention_macs(ins, out, a) -> int:
    b, h, pairs, dk, dv = _attention_shape(ins, a)
    return b * h * pairs * (dk + dv)


_MACS: dict[str, Callable[..., int]] = {
    "conv1d": _conv_macs, "conv2d": _conv_macs, "conv_transpose2d": _conv_transpose_macs,
    "linear": _inner_macs, "matmul": _inner_macs, "attention": _attention_macs,
}


# --- other FLOPs --------------------------------------------------------------------------------
def _elementwise_flops(op: Operation, ins, out: TensorType, a) -> int:
    fam, kind = op.opdef.family, op.opdef.name
    if fam == "unary" or fam == "binary":
        return _numel(out)
    if kind == "batch_norm":
        return 2 * _numel(out)
    if fam == "norm":
        return 5 * _numel(out)
    if fam == "softmax":
        return 3 * _numel(out)
    if fam == "reduce" or kind.startswith(("global_", "adaptive_")):
        return _numel(ins[0])
    if fam == "pool":
        return _numel(out) * prod(a["kernel"])
    if kind == "attention":
        b, h, pairs, _, _ = _attention_shape(ins, a)
        return 3 * b * h * pairs
    return 0


def _count(shape) -> int:
    n = 1
    for d in shape:
        if isinstance(d, int):
            n *= d
    return n


def _param_counts(op: Operation, ins, a) -> tuple[int, int]:
    """(learnable parameter count, bytes of every stored tensor)."""
    try:
        shapes = op.opdef.params(ins, a)
    except InferError:
        return 0, 0
    kind = op.opdef.name
    if kind == "parameter":
        dtype = a["dtype"]
        n = _count(shapes["value"])
        learned = dtype.is_float and a.get("trainable", True)
        return (n if learned else 0), n * dtype.itemsize
    buffers = _BUFFERS.get(kind, ())
    out = op.results[0].type.dtype  # weights are stored in the dtype the op computes in
    default_size = out.itemsize if out.is_float else 4
    weights = op.weights
    params = nbytes = 0
    for key, shape in shapes.items():
        n = _count(shape)
        if key not in buffers:
            params += n
        w = weights.get(key) if weights else None
        nbytes += n * (w.dtype.itemsize if w is not None else default_size)
    return params, nbytes


@dataclass(frozen=True)
class _GraphCost:
    rows: tuple[OpCost, ...]
    macs: int
    flops: int
    params: int
    weight_bytes: int
    activation_bytes: int
    peak: int
    traffic: int
    arg_bytes: int
    out_bytes: int


class _Analysis:
    def __init__(self, module: Module):
        self.module = module
        self.graphs: dict[str, _GraphCost] = {}

    def graph(self, g: Graph) -> _GraphCost:
        if g.name in self.graphs:
            return self.graphs[g.name]
        names = graph_op_names(g)
        size = {v: v.type.nbytes() for v in g.args}
        for op in g.ops:
            for r in op.results:
                size[r] = r.type.nbytes()
        searched = bool(self.module.params)
        rows, extra_peak = [], {}
        macs_total = flops_total = params_total = wbytes_total = traffic = 0
        for op in g.ops:
            opdef = op.opdef
            kind = opdef.name
            ins = tuple([v.type for v in op.operands])
            in_bytes = sum([size.get(v, 0) for v in op.operands])
            out_bytes = sum([size[r] for r in op.results])
            if opdef.infer is None:  # call / choice (at its default): the callee's cost
                callee = self.graph(self.module.graphs[_callee_name(op, self.module)])
                extra_peak[op] = max(0, callee.peak - callee.arg_bytes - callee.out_bytes)
                macs, flops, params, wbytes = callee.macs, callee.flops, callee.params, callee.weight_bytes
            else:
                a = resolved_attrs(op, self.module) if searched else op.attrs
                out = op.results[0].type
                count = _MACS.get(kind)
                macs = count(ins, out, a) if count is not None else 0
                flops = 2 * macs + _elementwise_flops(op, ins, out, a)
                params, wbytes = _param_counts(op, ins, a) if opdef.params is not None else (0, 0)
            rows.append(OpCost(g.name, names[op], kind, macs, flops, params, wbytes, in_bytes, out_bytes))
            macs_total += macs
            flops_total += flops
            params_total += params
            wbytes_total += wbytes
            traffic += wbytes + in_bytes + out_bytes
        peak, activation = _liveness(g, size, extra_peak, self.graphs, self.module)
        result = _GraphCost(tuple(rows), macs_total, flops_total, params_total, wbytes_total, activation,
                            peak, traffic, sum(size[a] for a in g.args),
                            sum(size.get(v, 0) for v in g.outputs))
        self.graphs[g.name] = result
        return result


def _callee_name(op: Operation, module: Module) -> str:
    if op.name == "call":
        return op.attrs["callee"].name
    # a choice costs what its default pick costs (search spaces are costed at their defaults)
    return choice_cell(module.params[op.attrs["of"].name].default, op.attrs["variant"])


def _liveness(g: Graph, size: dict[Value, int], extra_peak: dict[Operation, int],
              graphs: dict[str, _GraphCost], module: Module) -> tuple[int, int]:
    """(peak bytes of live buffers, bytes of all buffers allocated) walking ops in order."""
    root: dict[Value, Value] = {}
    for op in g.ops:
        if op.name in _ALIASES:
            root[op.results[0]] = root.get(op.operands[0], op.operands[0])
    end = len(g.ops)
    last: dict[Value, int] = {}
    for i, op in enumerate(g.ops):
        for v in op.operands:
            last[root.get(v, v)] = i  # ops come in order: the latest use wins
    for v in g.outputs:
        last[root.get(v, v)] = end
    live = sum(size[a] for a in g.args)
    allocated, peak = 0, live
    frees: dict[int, int] = {}
    for a in g.args:
        frees[last.get(a, -1)] = frees.get(last.get(a, -1), 0) + size[a]
    live -= frees.pop(-1, 0)
    for i, op in enumerate(g.ops):
        for r in op.results:
            if r in root:
                continue
            n = size[r]
            if op.opdef.infer is not None:  # a call's buffers count through its callee, below
                allocated += n
            live += n
            at = last.get(r, i)
            frees[at] = frees.get(at, 0) + n
        if op.opdef.infer is None:
            allocated += graphs[_callee_name(op, module)].activation_bytes
        peak = max(peak, live + extra_peak.get(op, 0))
        live -= frees.pop(i, 0)
    return peak, allocated


def analyse(module: Module) -> CostReport:
    """The cost of ``module``'s main graph (cells counted once per call)."""
    try:
        main = _Analysis(module).graph(module.main)
    except KeyError as e:
        raise VerifyError(f"cost: error: module has no graph {e}") from None
    return CostReport(main.rows, main.macs, main.flops, main.params, main.weight_bytes,
                      main.activation_bytes, main.peak, main.traffic)


def cost(module: Module) -> CostReport:
    """Per-op and total MACs, FLOPs, parameters, weight and activation bytes, peak memory."""
    return analyse(module)


@register
@dataclass(frozen=True)
class Cost(Pass):
    name = "cost"
    summary = "analysis: MACs, FLOPs, params, bytes and peak memory (stored as a CostReport)"

    def run(self, module: Module, ctx: PassContext) -> bool:
        ctx.analyses[CostReport] = analyse(module)
        return False
