"""Data-movement ops that fold as they are emitted.

PyTorch code reshapes and transposes freely (heads split out and merged back, batch-first
swaps, window partitions); emitted one to one, the IR would be full of transpose pairs that
cancel. Each helper here looks at the producer of its operand and composes with it instead:
transposes compose, reshapes compose, a transpose that only moves size-1 axes is a reshape,
unit reshapes and slices sink below transposes so that transpose pairs meet and cancel, and
reshape → swap(1, 2) → reshape back is ``channel_shuffle``. The result computes exactly what
the torch ops compute; the ops left without users are removed at the end of lowering.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from archir.frontends.torch.emit import Emitter
from archir.ir import Value

RESHAPES = frozenset({"reshape", "flatten", "squeeze", "unsqueeze"})


def _non_unit(shape: Sequence[Any]) -> list[Any]:
    return [d for d in shape if d != 1]


def reshape(em: Emitter, x: Value, shape: Sequence[Any], natural: tuple[str, dict] | None = None
            ) -> Value:
    """``x`` viewed as ``shape``; ``natural`` names the op to emit when nothing folds
    (``("flatten", {"start": 1})``), so unfolded code reads like the source."""
    shape = tuple(shape)
    if shape == x.type.shape:
        return x
    src = x.owner
    if src is not None and src.name in RESHAPES:
        return reshape(em, src.operands[0], shape)
    if src is not None and src.name == "transpose" and _non_unit(shape) == _non_unit(x.type.shape):
        return _sink_under_transpose(em, src, shape)
    shuffled = _channel_shuffle(em, x, shape)
    if shuffled is not None:
        return shuffled
    if natural is not None:
        return em.op(natural[0], x, **natural[1])
    return em.op("reshape", x, shape=shape)


def _sink_under_transpose(em: Emitter, t: Any, target: tuple) -> Value:
    """reshape(transpose(y)) that only adds or drops size-1 axes → transpose(reshape(y))."""
    y, perm = t.operands[0], t.attrs["perm"]
    x_shape = t.results[0].type.shape
    src_axes = [perm[i] for i, d in enumerate(x_shape) if d != 1]
    kept = sorted(src_axes)
    units = sum(1 for d in target if d == 1)
    y2 = reshape(em, y, [y.type.shape[a] for a in kept] + [1] * units)
    new_perm, next_src, next_unit = [], iter(src_axes), len(kept)
    for d in target:
        if d == 1:
            new_perm.append(next_unit)
            next_unit += 1
        else:
            new_perm.append(kept.index(next(next_src)))
    return transpose(em, y2, new_perm)


def _channel_shuffle(em: Emitter, x: Value, target: tuple) -> Value | None:
    """reshape(N, g, C/g, H, W) → transpose(1, 2) → reshape(N, C, H, W) is channel_shuffle."""
    t = x.owner
    if t is None or t.name != "transpose" or tuple(t.attrs["perm"]) != (0, 2, 1, 3, 4):
        return None
    r = t.operands[0].owner
    if r is None or r.name not in RESHAPES:
        return None
    y = r.operands[0]
    split = t.operands[0].type.shape
    if y.type.rank != 4 or target != y.type.shape or split[0] != target[0] or split[3:] != target[2:]:
        return None
    return em.op("channel_shuffle", y, groups=split[1])


def transpose(em: Emitter, x: Value, perm: Sequence[int]) -> Value:
    rank = x.type.rank
    perm = tuple(p % rank for p in perm)
    if perm == tuple(range(rank)):
        return x
    src = x.owner
    if src is not None and src.name == "transpose":
        inner = src.attrs["perm"]
        return transpose(em, src.operands[0], [inner[p] for p in perm])
    shape = x.type.shape
    moved = [p for p in perm if shape[p] != 1]
    if moved == sorted(moved):
        return reshape(em, x, [shape[p] for p in perm])
    return em.op("transpose", x, perm=perm)


def swap(em: Emitter, x: Value, a: int, b: int) -> Value:
    perm = list(range(x.type.rank))
    perm[a], perm[b] = perm[b], perm[a]
    return transpose(em, x, perm)


def slice_(em: Emitter, x: Value, axis: int, start: int, end: int, step: int = 1) -> Value:
    """Python slicing of one axis (step > 0)."""
    axis %= x.type.rank
    size = x.type.shape[axis]
    r = range(size)[slice(start, end, step)]
    if step == 1 and len(r) == size:
        return x
    src = x.owner
    if src is not None and src.name == "transpose":
        perm = src.attrs["perm"]
        return transpose(em, slice_(em, src.operands[0], perm[axis], start, end, step), perm)
    stop = r.start + len(r) * step if len(r) else r.start
    return em.op("slice", x, axes=(axis,), starts=(r.start,), ends=(min(stop, size),),
                 steps=() if step == 1 else (step,))


def select(em: Emitter, x: Value, axis: int, index: int) -> Value:
    """x[..., index, ...] along ``axis``: a one-wide slice, then the axis dropped."""
    axis %= x.type.rank
    index %= x.type.shape[axis]
    y = slice_(em, x, axis, index, index + 1)
    shape = list(y.type.shape)
    del shape[axis]
    return reshape(em, y, shape, natural=("squeeze", {"axes": (axis,)}))
