"""The GPU delegate's graph rewrites (mobile-gpu-rules.md §1), in the delegate's order.

Each rewrite is one function that edits a graph the pass owns and says whether it changed
anything; ``REWRITES`` is the ordered table the pass runs to a fixpoint. Weights, when the
module has them, are folded exactly; architectures without weights are rewritten alike.

Deliberately not done here (they belong to selection, where no reshape has to be invented):
a 1x1 conv on a 1x1 map runs as FC, an FC on a spatial input as a 1x1 conv. Not expressible
in the IR: PAD(C) -> ADD (it makes a mixed-channel add).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from archir.ir import Graph, Operation, Value
from archir.ops._shapes import pads_of
from archir.passes.targets.gpu_conv import grouped_conv_native
from archir.passes.targets.graph_edit import make_op, remove_dead, replace_uses, substitute, with_attrs

Rewrite = Callable[[Graph], bool]
_FOLD_INTO = frozenset({"conv2d", "conv1d", "conv_transpose2d", "linear"})


def _sole_user(g: Graph, v: Value) -> Operation | None:
    users = [op for op in g.ops if any(u is v for u in op.operands)]
    if len(users) != 1 or v in g.outputs or sum(u is v for u in users[0].operands) != 1:
        return None
    return users[0]


def remove_noops(g: Graph) -> bool:
    """remove_noop.cc: identity/dropout, 1-input concat, identity reshape/resize/slice."""
    changed = False
    for op in list(g.ops):
        same = len(op.results) == 1 and bool(op.operands) and op.results[0].type == op.operands[0].type
        noop = op.name in ("identity", "dropout") or (op.name == "concat" and len(op.operands) == 1) or (
            op.name in ("reshape", "flatten", "squeeze", "unsqueeze", "resize", "slice") and same)
        if noop:
            replace_uses(g, op.results[0], op.operands[0])
            g.ops.remove(op)
            changed = True
    return changed


def _scalar_or_channel(g: Graph, v: Value, channels: int) -> np.ndarray | None | bool:
    """A constant operand as an array broadcast to channels: True when it qualifies but has
    no stored values (architecture only), None when it is not a scalar/per-channel constant."""
    op = v.owner
    if op is None or op.name not in ("constant", "parameter"):
        return None
    dims = [d for d in v.type.shape if d != 1]
    if op.name == "constant":
        return np.full(channels, op.attrs["value"], dtype=np.float64) if not dims else None
    if dims != [channels]:
        return None
    if op.weights and "value" in op.weights:
        return np.asarray(op.weights["value"], dtype=np.float64).reshape(-1)
    return True


def _channel_axis_ok(producer: Operation, v: Value) -> bool:
    """The per-channel constant must line up with the producer's channel axis."""
    shape = v.type.shape
    if producer.name == "linear":
        return len(shape) >= 1 and all(d == 1 for d in shape[:-1])
    rank = producer.results[0].type.rank
    if len(shape) == rank:
        return all(d == 1 for i, d in enumerate(shape) if i != 1)
    return len(shape) == rank - 1 and all(d == 1 for d in shape[1:])  # (C, 1, 1)


def _out_channels(op: Operation) -> int:
    return op.attrs["out_features"] if op.name == "linear" else op.attrs["out_channels"]


def _scale_out(op: Operation, scale: np.ndarray, shift: np.ndarray) -> Operation:
    """op' = op * scale + shift per output channel (weights folded when present)."""
    weights = None
    if op.weights:
        w = np.asarray(op.weights["weight"], dtype=np.float64)
        n = _out_channels(op)
        b = np.asarray(op.weights.get("bias", np.zeros(n)), dtype=np.float64)
        if op.name == "conv_transpose2d":
            groups = op.attrs["groups"]
            per = n // groups
            tail = [1] * (w.ndim - 2)
            w = w.reshape(groups, -1, per, *w.shape[2:]) * scale.reshape(groups, 1, per, *tail)
            w = w.reshape(op.weights["weight"].shape)
        else:
            w = w * scale.reshape(-1, *([1] * (w.ndim - 1)))
        dtype = op.weights["weight"].dtype
        weights = {"weight": w.astype(dtype), "bias": (b * scale + shift).astype(dtype)}
    return with_attrs(op, weights=weights, bias=True)


def fold_batch_norm(g: Graph) -> bool:
    """BN after conv/FC is the MUL+ADD pair the converter folds (fuse_mul_to_conv, fuse_add_to_conv)."""
    for bn in g.ops:
        src = bn.operands[0].owner if bn.name == "batch_norm" else None
        if src is None or src.name not in _FOLD_INTO or _sole_user(g, bn.operands[0]) is not bn:
            continue
        if (src.name == "linear" and src.results[0].type.rank != 2) or (src.weights and not bn.weights):
            continue  # BN's axis 1 is not the features / the BN's statistics are unknown
        n = _out_channels(src)
        if bn.weights and src.weights:
            var = np.asarray(bn.weights["running_var"], dtype=np.float64)
            scale = np.asarray(bn.weights["weight"], dtype=np.float64) / np.sqrt(var + bn.attrs["eps"])
            shift = np.asarray(bn.weights["bias"], dtype=np.float64) - np.asarray(
                bn.weights["running_mean"], dtype=np.float64) * scale
        else:
            scale, shift = np.ones(n), np.zeros(n)
        new = _scale_out(src, scale, shift) if src.weights else with_attrs(src, bias=True)
        substitute(g, src, new)
        replace_uses(g, bn.results[0], new.results[0])
        g.ops.remove(bn)
        return True
    return False


def fold_mul_add_after(g: Graph) -> bool:
    """op -> MUL/ADD by a scalar or per-channel constant: scale weights and bias / add to bias."""
    for op in g.ops:
        if op.name not in ("mul", "add"):
            continue
        for x, c in ((op.operands[0], op.operands[1]), (op.operands[1], op.operands[0])):
            src = x.owner
            if src is None or src.name not in _FOLD_INTO or _sole_user(g, x) is not op:
                continue
            if op.results[0].type != x.type:
                continue
            n = _out_channels(src)
            values = _scalar_or_channel(g, c, n)
            if values is None or (c.type.rank > 0 and not _channel_axis_ok(src, c)):
                continue
            if src.weights and isinstance(values, np.ndarray):
                scale, shift = (values, np.zeros(n)) if op.name == "mul" else (np.ones(n), values)
                new = _scale_out(src, scale, shift)
            elif src.weights:
                continue  # the constant's values are unknown: cannot fold stored weights
            else:
                new = with_attrs(src, bias=True)
            substitute(g, src, new)
            replace_uses(g, op.results[0], new.results[0])
            g.ops.remove(op)
            remove_dead(g)
            return True
    return False


def merge_padding(g: Graph) -> bool:
    """merge_padding_with.cc: a zero PAD of H/W only merges into conv, DW and pooling.

    Average pooling takes it with count_include_pad (exactly a zero pad); max pooling only
    when its input is non-negative (a ReLU output), where a zero pad changes nothing.
    """
    for pad in g.ops:
        if pad.name != "pad" or pad.attrs["mode"] != "constant" or pad.attrs["value"] != 0.0:
            continue
        x = pad.operands[0]
        p = pad.attrs["pads"]
        r = x.type.rank
        if r != 4 or any(p[i] or p[r + i] for i in (0, 1)) or min(p) < 0:
            continue
        user = _sole_user(g, pad.results[0])
        if user is None or user.name not in ("conv2d", "avg_pool2d", "max_pool2d"):
            continue
        if user.name == "max_pool2d" and (x.owner is None or x.owner.name not in ("relu", "relu6")):
            continue
        dilation = user.attrs.get("dilation", (1, 1))
        old = pads_of(user.attrs["padding"], user.attrs["kernel"], dilation)
        merged = (old[0] + p[2], old[1] + p[3], old[2] + p[r + 2], old[3] + p[r + 3])
        if user.name != "conv2d" and any(m > k // 2 for m, k in zip(merged, user.attrs["kernel"] * 2)):
            continue  # pooling cannot pad more than half its window
        extra = {"count_include_pad": True} if user.name == "avg_pool2d" else {}
        new = make_op(user.name, [x], {**user.attrs, "padding": merged, **extra}, like=user,
                      weights=user.weights, hints=[r.name_hint for r in user.results])
        substitute(g, user, new)
        g.ops.remove(pad)
        return True
    return False


def add_bias(g: Graph) -> bool:
    """add_bias.cc: every conv/FC gets a bias (zero when it had none)."""
    for op in g.ops:
        if op.name in _FOLD_INTO and not op.attrs["bias"]:
            weights = None
            if op.weights:
                weights = {**op.weights, "bias": np.zeros(_out_channels(op), op.weights["weight"].dtype)}
            new = with_attrs(op, weights=weights, bias=True)
            substitute(g, op, new)
            return True
    return False


def global_pool_to_mean(g: Graph) -> bool:
    """global_pooling_to_reduce_op.cc: a pool over the whole map is MEAN over H, W."""
    for op in g.ops:
        whole = op.name == "global_avg_pool" and op.operands[0].type.rank == 4
        whole |= op.name == "adaptive_avg_pool2d" and tuple(op.attrs["output_size"]) == (1, 1)
        if op.name == "avg_pool2d":
            x = op.operands[0].type
            whole = (tuple(op.attrs["kernel"]) == tuple(x.shape[2:]) and not any(
                pads_of(op.attrs["padding"], op.attrs["kernel"], (1, 1))))
        if whole:
            new = make_op("reduce_mean", op.operands, {"axes": (2, 3), "keepdims": True}, like=op,
                          hints=[op.results[0].name_hint])
            substitute(g, op, new)
            return True
    return False


def split_grouped_conv(g: Graph) -> bool:
    """ResolveGroupedConvolution: a grouped conv the kernels cannot run natively becomes
    split(C) -> one conv per group -> concat(C)."""
    for op in g.ops:
        if op.name != "conv2d":
            continue
        cin, groups = op.operands[0].type.shape[1], op.attrs["groups"]
        cout = op.attrs["out_channels"]
        if groups == 1 or groups == cin or grouped_conv_native(cin, cout, groups):
            continue
        sizes = (cin // groups,) * groups
        split = make_op("split", [op.operands[0]], {"axis": 1, "sizes": sizes}, like=op)
        convs = []
        for i, part in enumerate(split.results):
            weights = None
            if op.weights:
                per = cout // groups
                weights = {k: w[i * per:(i + 1) * per] for k, w in op.weights.items()}
            convs.append(make_op("conv2d", [part], {**op.attrs, "groups": 1, "out_channels": cout // groups},
                                 like=op, weights=weights))
        concat = make_op("concat", [c.results[0] for c in convs], {"axis": 1}, like=op,
                         hints=[op.results[0].name_hint])
        at = g.ops.index(op)
        g.ops[at:at + 1] = [split, *convs, concat]
        replace_uses(g, op.results[0], concat.results[0])
        return True
    return False


def zero_concat_to_pad(g: Graph) -> bool:
    """make_padding.cc: concat of a tensor and an all-zero constant is a PAD."""
    for op in g.ops:
        if op.name != "concat" or len(op.operands) != 2:
            continue
        for i, c in enumerate(op.operands):
            other = op.operands[1 - i]
            if c.owner is None or c.owner.name != "constant" or c.owner.attrs["value"] != 0.0:
                continue
            r = other.type.rank
            axis = op.attrs["axis"] % r
            pads = [0] * (2 * r)
            pads[axis if i == 0 else r + axis] = c.type.shape[axis]
            new = make_op("pad", [other], {"pads": tuple(pads)}, like=op, hints=[op.results[0].name_hint])
            substitute(g, op, new)
            remove_dead(g)
            return True
    return False


# The delegate's order (§1 "Order"), each rewrite run until it no longer applies.
REWRITES: tuple[tuple[str, Rewrite], ...] = (
    ("remove-noops", remove_noops),
    ("zero-concat-to-pad", zero_concat_to_pad),
    ("split-grouped-conv", split_grouped_conv),
    ("merge-padding", merge_padding),
    ("fold-batch-norm", fold_batch_norm),
    ("fold-mul-add", fold_mul_add_after),
    ("add-bias", add_bias),
    ("global-pool-to-mean", global_pool_to_mean),
)


def rewrite_graph(g: Graph) -> None:
    for _, rewrite in REWRITES:
        while rewrite(g):
            pass
    remove_dead(g)
