"""Data movement: reshape, flatten, transpose, concat, split, slice, (un)squeeze, expand,
channel_shuffle, gather, roll."""

from __future__ import annotations

from archir.backends.onnx.context import EmitError, Emitter
from archir.backends.onnx.registry import emitter
from archir.ir import Operation
from archir.ops._shapes import axis as norm_axis

INT64_MIN = -(2**63)


@emitter("flatten")
def flatten(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    rank = op.operands[0].type.rank
    if norm_axis(op.attrs["start"], rank) == 1 and norm_axis(op.attrs["end"], rank) == rank - 1:
        return em.node("Flatten", ins, em.outs(op), axis=1)  # ONNX's Flatten makes exactly this 2-D
    return reshape(em, op, ins)


@emitter("reshape")
def reshape(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    # the result type holds the resolved shape (-1 inferred, symbols kept)
    shape, allowzero = em.shape(op.results[0].type.shape, like=(ins[0], op.operands[0].type))
    return em.node("Reshape", [ins[0], shape], em.outs(op), allowzero=1 if allowzero else None)


@emitter("transpose")
def transpose(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    return em.node("Transpose", ins, em.outs(op), perm=list(op.attrs["perm"]))


@emitter("concat")
def concat(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    return em.node("Concat", ins, em.outs(op), axis=op.attrs["axis"])


@emitter("split")
def split(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    return em.node("Split", [ins[0], em.ints(op.attrs["sizes"])], em.outs(op), axis=op.attrs["axis"])


@emitter("slice")
def slice_(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    x = op.operands[0].type
    a = op.attrs
    steps = a["steps"] or (1,) * len(a["axes"])
    starts, ends = [], []
    for ax, start, end, step in zip(a["axes"], a["starts"], a["ends"], steps):
        dim = x.shape[norm_axis(ax, x.rank)]
        s, e, _ = slice(start, end, step).indices(dim)  # Python's clamping, the IR's rule
        starts.append(s)
        ends.append(INT64_MIN if step < 0 and e < 0 else e)  # ONNX reads -1 as "the last"
    inputs = [ins[0], em.ints(starts), em.ints(ends), em.ints(a["axes"]), em.ints(steps)]
    return em.node("Slice", inputs, em.outs(op))


@emitter("squeeze", "unsqueeze")
def squeeze(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    kind = "Squeeze" if op.name == "squeeze" else "Unsqueeze"
    return em.node(kind, [ins[0], em.ints(op.attrs["axes"])], em.outs(op))


@emitter("expand")
def expand(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    x = op.operands[0].type
    out = op.results[0].type.shape
    aligned = (None,) * (len(out) - x.rank) + tuple(x.shape)
    # Expand broadcasts both ways, so a 1 keeps x's dim: no need to read symbols at run time
    dims = [1 if not isinstance(d, int) and aligned[i] == d else d for i, d in enumerate(out)]
    shape, _ = em.shape(dims)
    return em.node("Expand", [ins[0], shape], em.outs(op))


@emitter("channel_shuffle")
def channel_shuffle(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    x = op.operands[0].type
    g = op.attrs["groups"]
    grouped = em.one("Reshape", [ins[0], em.ints([0, g, x.shape[1] // g, -1])])
    swapped = em.one("Transpose", [grouped], perm=[0, 2, 1, 3])
    return em.node("Reshape", [swapped, em.one("Shape", [ins[0]])], em.outs(op))


@emitter("gather")
def gather(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    return em.node("Gather", ins, em.outs(op), axis=op.attrs["axis"])


@emitter("roll")
def roll(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    x = op.operands[0].type
    y = ins[0]
    for shift, ax in zip(op.attrs["shifts"], op.attrs["axes"]):
        ax = norm_axis(ax, x.rank)
        dim = x.shape[ax]
        if not isinstance(dim, int):
            raise EmitError(f"roll along symbolic dim {dim}")
        s = shift % dim if dim else 0
        if s:  # the last s elements move to the front
            tail = em.one("Slice", [y, em.ints([dim - s]), em.ints([dim]), em.ints([ax])])
            head = em.one("Slice", [y, em.ints([0]), em.ints([dim - s]), em.ints([ax])])
            y = em.one("Concat", [tail, head], axis=ax)
    return em.node("Identity", [y], em.outs(op))
