"""Patterns that remove ops which do nothing: identities, inference-mode dropout, reshapes to
the same shape, chains of reshapes, transposes that cancel or compose, full slices, one-input
concats, zero pads, 1x1 stride-1 pools, and the like."""

from __future__ import annotations

import math

from archir.ir import Operation
from archir.passes.rewrite import Pattern, Rewriter, pattern


def _forward(op: Operation, rw: Rewriter) -> bool:
    rw.replace_op(op, [op.operands[0]])
    return True


@pattern("forward-identity", "identity", "dropout")
def forward_identity(op: Operation, rw: Rewriter) -> bool:
    # dropout is the identity at inference, which is what the IR describes
    return _forward(op, rw)


# Pure data movement that is the identity whenever it keeps the type.
@pattern("same-type-data-movement", "reshape", "flatten", "squeeze", "unsqueeze", "expand", "resize",
         "adaptive_avg_pool2d", "adaptive_max_pool2d", "global_avg_pool", "global_max_pool", "cast")
def same_type_data_movement(op: Operation, rw: Rewriter) -> bool:
    return op.result.type == op.operands[0].type and _forward(op, rw)


_RESHAPES = ("reshape", "flatten", "squeeze", "unsqueeze")


@pattern("reshape-chain", *_RESHAPES)
def reshape_chain(op: Operation, rw: Rewriter) -> bool:
    """reshape(reshape(x)) -> reshape(x): only the final shape matters."""
    inner = rw.producer(op.operands[0])
    if inner is None or inner.name not in _RESHAPES:
        return False
    x, out = inner.operands[0], op.result
    if x.type == out.type:
        rw.replace_op(op, [x])
    else:
        new = rw.create("reshape", [x], {"shape": out.type.shape}, before=op, name=out.name_hint)
        rw.replace_op(op, [new.result])
    return True


@pattern("transpose-compose", "transpose")
def transpose_compose(op: Operation, rw: Rewriter) -> bool:
    perm = op.attrs["perm"]
    if list(perm) == list(range(len(perm))):
        return _forward(op, rw)
    inner = rw.producer(op.operands[0])
    if inner is None or inner.name != "transpose":
        return False
    # out[j] = mid[perm[j]] = x[inner_perm[perm[j]]]
    composed = tuple(inner.attrs["perm"][p] for p in perm)
    x = inner.operands[0]
    if list(composed) == list(range(len(composed))):
        rw.replace_op(op, [x])
    else:
        new = rw.create("transpose", [x], {"perm": composed}, before=op, name=op.result.name_hint)
        rw.replace_op(op, [new.result])
    return True


@pattern("slice-full", "slice")
def slice_full(op: Operation, rw: Rewriter) -> bool:
    """Drop the sliced axes that keep their whole dim; forward the input when none is left."""
    x = op.operands[0]
    a = op.attrs
    steps = a["steps"] or (1,) * len(a["axes"])
    keep = []
    for i, (ax, start, end, step) in enumerate(zip(a["axes"], a["starts"], a["ends"], steps)):
        size = x.type.shape[ax]
        if not (isinstance(size, int) and range(size)[slice(start, end, step)] == range(size)):
            keep.append(i)
    if len(keep) == len(a["axes"]):
        return False
    if not keep:
        return _forward(op, rw)
    attrs = {
        "axes": [a["axes"][i] for i in keep], "starts": [a["starts"][i] for i in keep],
        "ends": [a["ends"][i] for i in keep], "steps": [steps[i] for i in keep] if a["steps"] else [],
    }
    new = rw.create("slice", [x], attrs, before=op, name=op.result.name_hint)
    rw.replace_op(op, [new.result])
    return True


@pattern("single-input-concat", "concat", "split")
def single_piece(op: Operation, rw: Rewriter) -> bool:
    return len(op.operands) == 1 and len(op.results) == 1 and _forward(op, rw)


@pattern("zero-pad", "pad")
def zero_pad(op: Operation, rw: Rewriter) -> bool:
    return not any(op.attrs["pads"]) and _forward(op, rw)


@pattern("unit-pool", "max_pool2d", "avg_pool2d")
def unit_pool(op: Operation, rw: Rewriter) -> bool:
    a = op.attrs
    unit = a["kernel"] == (1, 1) and a["stride"] == (1, 1) and a["padding"] in ((0, 0), (0, 0, 0, 0))
    return unit and op.result.type == op.operands[0].type and _forward(op, rw)


@pattern("trivial-shuffle", "channel_shuffle")
def trivial_shuffle(op: Operation, rw: Rewriter) -> bool:
    # groups of 1 or of every channel leave the channel order as it was
    return op.attrs["groups"] in (1, op.operands[0].type.shape[1]) and _forward(op, rw)


@pattern("trivial-roll", "roll")
def trivial_roll(op: Operation, rw: Rewriter) -> bool:
    shape = op.operands[0].type.shape
    for shift, ax in zip(op.attrs["shifts"], op.attrs["axes"]):
        size = shape[ax]
        if not isinstance(size, int) or (size and shift % size):
            return False
    return _forward(op, rw)


@pattern("unbounded-clip", "clip")
def unbounded_clip(op: Operation, rw: Rewriter) -> bool:
    lo, hi = op.attrs["min"], op.attrs["max"]
    return lo == -math.inf and hi == math.inf and _forward(op, rw)


NOOP_PATTERNS: tuple[Pattern, ...] = (
    forward_identity, same_type_data_movement, reshape_chain, transpose_compose, slice_full,
    single_piece, zero_pad, unit_pool, trivial_shuffle, trivial_roll, unbounded_clip,
)
