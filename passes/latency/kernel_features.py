"""Features of a kernel: its family (which model predicts it) and a fixed numeric vector.

A family is the class of the kernel's anchor op (the heavy op, else the first real op): conv,
dwconv, gconv, dense, matmul, attention, pool, gap, norm, softmax, reduce, elementwise, data.
What is fused around the anchor (an activation, a residual add, a reshape) enters as op-class
counts, so conv-relu, conv-hswish and conv-add-relu share one model and teach it together;
nn-Meter instead pooled every conv* kernel under conv-bn-relu and lost the difference.

Beyond nn-Meter's seven (HW, Cin, Cout, k, s, FLOPs, params) the vector carries width and
height separately, dilation, groups, padding, batch, the implicit GEMM's M/N/K, attention's
heads and sequence lengths, bytes read and written (inputs, outputs, weights), arithmetic
intensity and the implementation (a categorical code). This runs for every kernel a searcher
predicts, so it is one pass over the ops with no allocation beyond the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod

from archir.ir import Operation
from archir.ops._shapes import pads_of
from archir.passes.targets.opclass import op_class

# anchor op class -> family; a class missing here (call, choice) cannot be a kernel.
FAMILY_OF_CLASS: dict[str, str] = {
    "conv": "conv", "dwconv": "dwconv", "gconv": "gconv", "conv1d": "conv1d", "convtrans": "convtrans",
    "dense": "dense", "matmul": "matmul", "attention": "attention",
    "pooling": "pool", "gap": "gap", "reduce": "reduce", "softmax": "softmax",
    "bn": "norm", "layernorm": "norm", "groupnorm": "norm",
    **{c: "elementwise" for c in ("relu", "prelu", "hswish", "hsigmoid", "sigmoid", "tanh", "silu",
                                  "gelu", "activation", "add", "mul", "sub", "div", "binary", "position")},
    **{c: "data" for c in ("reshape", "expand", "transpose", "concat", "split", "pad", "resize",
                           "channelshuffle", "gather", "roll")},
    "se": "se", "constant": "free", "noop": "free",
}
HEAVY = frozenset({"conv", "dwconv", "gconv", "conv1d", "convtrans", "dense", "matmul", "attention"})
FREE = frozenset({"constant", "noop"})
# Families that launch nothing: a kernel of constants and no-ops costs 0 by definition.
ZERO_COST_FAMILIES = frozenset({"free"})

FEATURES: tuple[str, ...] = (
    "batch", "cin", "cout", "hin", "win", "hout", "wout", "kh", "kw", "sh", "sw", "dh", "dw", "groups",
    "pad", "gemm_m", "gemm_n", "gemm_k", "seq_q", "seq_k", "heads", "kv_heads", "head_dim", "causal",
    "window", "rank", "inner", "in_elems", "out_elems", "n_inputs", "n_outputs", "macs", "flops",
    "in_bytes", "out_bytes", "weight_bytes", "intensity", "n_ops", "n_act", "n_transc", "n_hswish",
    "n_add", "n_mul", "n_norm", "n_data", "n_pool", "n_reduce", "n_concat", "n_heavy", "splits",
)
NUMERIC = len(FEATURES)  # the impl code is appended as a categorical feature after these
IMPL_FEATURE = "impl"
_INDEX = {name: i for i, name in enumerate(FEATURES)}

_ACT = frozenset({"relu", "prelu", "hswish", "hsigmoid", "sigmoid", "tanh", "silu", "gelu", "activation"})
_TRANSC = frozenset({"sigmoid", "tanh", "silu", "gelu", "activation"})
_DATA = frozenset({"reshape", "expand", "transpose", "concat", "split", "pad", "resize",
                   "channelshuffle", "gather", "roll"})
_COUNT = {"add": "n_add", "sub": "n_add", "mul": "n_mul", "div": "n_mul", "binary": "n_mul",
          "hswish": "n_hswish", "hsigmoid": "n_hswish", "bn": "n_norm", "layernorm": "n_norm",
          "groupnorm": "n_norm", "pooling": "n_pool", "gap": "n_pool", "reduce": "n_reduce",
          "softmax": "n_reduce", "concat": "n_concat"}


class KernelFamilyError(ValueError):
    pass


def _d(x: int | str) -> int:
    return x if isinstance(x, int) else 1


def _numel(shape: Sequence[int | str]) -> int:
    n = 1
    for x in shape:
        n *= x if isinstance(x, int) else 1
    return n


def classes_of(ops: Sequence[Operation]) -> list[str]:
    return [op_class(op) for op in ops]


def anchor_index(classes: Sequence[str]) -> int:
    for i, c in enumerate(classes):
        if c in HEAVY:
            return i
    for i, c in enumerate(classes):
        if c not in FREE:
            return i
    return 0


def kernel_family(ops: Sequence[Operation]) -> str:
    classes = classes_of(ops)
    cls = classes[anchor_index(classes)]
    family = FAMILY_OF_CLASS.get(cls)
    if family is None:
        raise KernelFamilyError(f"a kernel anchored on '{ops[anchor_index(classes)].name}' (class "
                                f"'{cls}') has no latency family; inline cells before predicting")
    return family


def _geometry(f: list[float], op: Operation, cls: str) -> None:
    """Fill the anchor's shape features."""
    a = op.attrs
    x = op.operands[0].type.shape if op.operands else ()
    out = op.results[0].type.shape
    f[_INDEX["rank"]] = len(x)
    if x:
        f[_INDEX["inner"]] = _d(x[-1])
    name = op.name
    if name in ("conv2d", "conv1d", "conv_transpose2d"):
        k = a["kernel"]
        spatial_in, spatial_out = x[2:], out[2:]
        f[0], f[1], f[2] = _d(x[0]), _d(x[1]), a["out_channels"]
        f[3] = _d(spatial_in[0])
        f[4] = _d(spatial_in[1]) if len(spatial_in) > 1 else 1
        f[5] = _d(spatial_out[0])
        f[6] = _d(spatial_out[1]) if len(spatial_out) > 1 else 1
        f[7], f[8] = k[0], (k[1] if len(k) > 1 else 1)
        s, dil = a["stride"], a["dilation"]
        f[9], f[10] = s[0], (s[1] if len(s) > 1 else 1)
        f[11], f[12] = dil[0], (dil[1] if len(dil) > 1 else 1)
        g = a["groups"]
        f[13] = g
        f[14] = sum(pads_of(a["padding"], k, dil))
        f[15] = _d(x[0]) * prod(_d(d) for d in (spatial_out if name != "conv_transpose2d" else spatial_in))
        f[16] = a["out_channels"] // g
        f[17] = (_d(x[1]) // g) * prod(k)
    elif name in ("linear", "matmul"):
        kdim = _d(x[-1])
        ndim = _d(out[-1])
        f[1], f[2] = kdim, ndim
        f[15] = _numel(out) // max(1, ndim)
        f[16], f[17] = ndim, kdim
        f[0] = _numel(x[:-2]) if name == "matmul" else 1
    elif name == "attention":
        q, kk = x, op.operands[1].type.shape
        hq, hkv = a["num_heads"], a["num_kv_heads"]
        f[0] = _d(q[0])
        f[_INDEX["seq_q"]], f[_INDEX["seq_k"]] = _d(q[1]), _d(kk[1])
        f[_INDEX["heads"]], f[_INDEX["kv_heads"]] = hq, hkv
        f[_INDEX["head_dim"]] = _d(q[2]) // hq
        f[_INDEX["causal"]] = float(a["causal"])
        f[_INDEX["window"]] = a["window"]
        f[1] = _d(q[2])
    else:
        if len(x) >= 2:
            f[0], f[1] = _d(x[0]), _d(x[1])
            f[2] = _d(out[1]) if len(out) >= 2 else f[1]
        if len(x) == 4:
            f[3], f[4] = _d(x[2]), _d(x[3])
        if len(out) == 4:
            f[5], f[6] = _d(out[2]), _d(out[3])
        if cls == "pooling" and "kernel" in a:
            f[7], f[8] = a["kernel"]
            f[9], f[10] = a["stride"]
        elif cls in ("gap", "pooling") and len(x) == 4:  # global / adaptive: the window covers the map
            f[7], f[8] = f[3] // max(1, f[5]), f[4] // max(1, f[6])
            f[9], f[10] = f[7], f[8]


def _op_flops(op: Operation, cls: str) -> tuple[int, int]:
    """(MACs, FLOPs) of one op, cost.py's conventions."""
    name = op.name
    out = op.results[0].type.shape if op.results else ()
    if name in ("conv2d", "conv1d"):
        cin = _d(op.operands[0].type.shape[1])
        macs = _numel(out) * (cin // op.attrs["groups"]) * prod(op.attrs["kernel"])
        return macs, 2 * macs
    if name == "conv_transpose2d":
        macs = _numel(op.operands[0].type.shape) * (op.attrs["out_channels"] // op.attrs["groups"]) \
            * prod(op.attrs["kernel"])
        return macs, 2 * macs
    if name in ("linear", "matmul"):
        macs = _numel(out) * _d(op.operands[0].type.shape[-1])
        return macs, 2 * macs
    if name == "attention":
        q, k, v = (t.type.shape for t in op.operands[:3])
        a = op.attrs
        t = _d(k[1]) if not a["window"] else min(_d(k[1]), a["window"])
        hq = a["num_heads"]
        b, s = _d(q[0]), _d(q[1])
        macs = b * hq * s * t * (_d(q[2]) // hq + _d(v[2]) // a["num_kv_heads"])
        return macs, 2 * macs + 3 * b * hq * s * t
    n = _numel(out)
    if cls in FREE or cls in _DATA:
        return 0, 0
    if cls == "bn":
        return 0, 2 * n
    if cls in ("layernorm", "groupnorm"):
        return 0, 5 * n
    if cls == "softmax":
        return 0, 3 * n
    if cls in ("reduce", "gap") or name.startswith("adaptive_"):
        return 0, _numel(op.operands[0].type.shape)
    if cls == "pooling":
        return 0, n * prod(op.attrs["kernel"])
    return 0, n


def _weight_bytes(op: Operation) -> int:
    params = op.opdef.params
    if params is None:
        return 0
    ins = tuple(v.type for v in op.operands)
    try:
        shapes = params(ins, op.attrs)
    except ValueError:
        return 0
    size = op.results[0].type.dtype.itemsize if op.results else 4
    return sum(_numel(s) for s in shapes.values()) * size


def kernel_features(ops: Sequence[Operation]) -> tuple[str, tuple[float, ...]]:
    """(family, numeric features in ``FEATURES`` order) of a kernel's ops."""
    classes = [op_class(op) for op in ops]
    ai = anchor_index(classes)
    family = FAMILY_OF_CLASS.get(classes[ai])
    if family is None:
        raise KernelFamilyError(f"a kernel anchored on '{ops[ai].name}' (class '{classes[ai]}') has "
                                f"no latency family; inline cells before predicting")
    f = [0.0] * NUMERIC
    _geometry(f, ops[ai], classes[ai])
    inside: set = set()
    consumed: set = set()
    macs = flops = in_bytes = weight_bytes = in_elems = 0
    n_inputs = n_ops = 0
    counts = dict.fromkeys(("n_act", "n_transc", "n_hswish", "n_add", "n_mul", "n_norm", "n_data",
                            "n_pool", "n_reduce", "n_concat", "n_heavy"), 0)
    for op, cls in zip(ops, classes):
        if cls in FREE:
            if cls == "constant":
                weight_bytes += sum(r.type.nbytes() for r in op.results)
            inside.update(op.results)
            continue
        n_ops += 1
        for v in op.operands:
            if v in inside:
                consumed.add(v)
            elif v.owner is None or op_class(v.owner) != "constant":
                t = v.type
                n_inputs += 1
                in_bytes += t.nbytes()
                in_elems += t.numel()
        inside.update(op.results)
        m, fl = _op_flops(op, cls)
        macs += m
        flops += fl
        weight_bytes += _weight_bytes(op)
        if cls in _ACT:
            counts["n_act"] += 1
        if cls in _TRANSC:
            counts["n_transc"] += 1
        if cls in _DATA:
            counts["n_data"] += 1
        if cls in HEAVY:
            counts["n_heavy"] += 1
        key = _COUNT.get(cls)
        if key is not None:
            counts[key] += 1
    outputs = [r for op in ops for r in op.results if r not in consumed]
    out_bytes = sum(r.type.nbytes() for r in outputs)
    f[_INDEX["in_elems"]] = in_elems
    f[_INDEX["out_elems"]] = sum(r.type.numel() for r in outputs)
    f[_INDEX["n_inputs"]] = n_inputs
    f[_INDEX["n_outputs"]] = len(outputs)
    f[_INDEX["macs"]] = macs
    f[_INDEX["flops"]] = flops
    f[_INDEX["in_bytes"]] = in_bytes
    f[_INDEX["out_bytes"]] = out_bytes
    f[_INDEX["weight_bytes"]] = weight_bytes
    f[_INDEX["intensity"]] = flops / max(1, in_bytes + out_bytes + weight_bytes)
    f[_INDEX["n_ops"]] = n_ops
    for key, n in counts.items():
        f[_INDEX[key]] = n
    kernel = ops[0].kernel
    f[_INDEX["splits"]] = kernel.attrs["splits"] if kernel is not None else 1
    return family, tuple(f)


def kernel_item(ops: Sequence[Operation]) -> tuple[str, str, tuple[float, ...]]:
    """(family, impl, features): what a predictor needs for one kernel, and its cache key."""
    family, feats = kernel_features(ops)
    kernel = ops[0].kernel
    return family, (kernel.attrs["impl"] if kernel is not None else ""), feats


def feature_index(name: str) -> int:
    return _INDEX[name]
