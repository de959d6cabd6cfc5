"""The rotate-half RoPE pattern → the ``rotary`` op.

Matches  x·cos + rotate_half(x)·sin  with rotate_half(x) = cat(-x[..., D/2:], x[..., :D/2])
and constant cos/sin tables, on x of layout (B, H, S, D), (B, S, H, D) or (B, S, D). The
tables must be exactly RoPE's for positions 0..S-1 along the sequence axis (cos(p·θ_i) with
θ_i = base^(-2i/D), each half repeated); the base is read off the tables. Anything else
(position offsets, partial rotation, other tables) stays as it was written.
"""

from __future__ import annotations

import numpy as np

from archir.frontends.torch import layout
from archir.frontends.torch.emit import Emitter
from archir.frontends.torch.graphedit import Splicer, const_value, single_use
from archir.ir import Graph, Operation, Value


def raise_rotary(g: Graph) -> int:
    users = g.users()
    splice = Splicer(g)
    count = 0
    for op in g.ops:
        if op.name == "add" and _raise_one(op, users, splice):
            count += 1
    splice.apply()
    return count


def _product(v: Value, users: dict) -> tuple[Value, np.ndarray] | None:
    """v = t·c with a constant c: (t, c)."""
    op = v.owner
    if op is None or op.name != "mul" or not single_use(users, v):
        return None
    a, b = op.operands
    if const_value(b) is not None:
        return a, const_value(b)
    if const_value(a) is not None:
        return b, const_value(a)
    return None


def _key(v: Value) -> tuple:
    """Identifies a tensor up to one transpose (lowering sinks slices below transposes)."""
    op = v.owner
    if op is not None and op.name == "transpose":
        return (op.operands[0], tuple(op.attrs["perm"]))
    return (v, tuple(range(v.type.rank)))


def _half(v: Value) -> tuple[tuple, int, int] | None:
    """v = x[..., start:end] of some x: (key of x, start, end)."""
    op = v.owner
    perm = None
    if op is not None and op.name == "transpose":
        perm = tuple(op.attrs["perm"])
        v = op.operands[0]
        op = v.owner
    if op is None or op.name != "slice" or len(op.attrs["axes"]) != 1 or op.attrs["steps"] not in (
            (), (1,)):
        return None
    src = op.operands[0]
    axis = op.attrs["axes"][0]
    if perm is None:
        if axis != src.type.rank - 1:
            return None
        return _key(src), op.attrs["starts"][0], op.attrs["ends"][0]
    if axis != perm[-1]:
        return None
    return (src, perm), op.attrs["starts"][0], op.attrs["ends"][0]


def _rotated(r: Value) -> tuple | None:
    """r = rotate_half(x): the key of x."""
    op = r.owner
    if op is None or op.name != "concat" or len(op.operands) != 2:
        return None
    if op.attrs["axis"] % r.type.rank != r.type.rank - 1:
        return None
    neg, first = op.operands
    if neg.owner is None or neg.owner.name != "neg":
        return None
    upper, lower = _half(neg.owner.operands[0]), _half(first)
    d = r.type.shape[-1]
    if upper is None or lower is None or upper[0] != lower[0]:
        return None
    if (upper[1], upper[2]) != (d // 2, d) or (lower[1], lower[2]) != (0, d // 2):
        return None
    return upper[0]


def _raise_one(op: Operation, users: dict, splice: Splicer) -> bool:
    parts = [_product(v, users) for v in op.operands]
    if None in parts:
        return False
    for (x, cos), (r, sin) in (parts, parts[::-1]):
        if _rotated(r) == _key(x) and x.type.shape[-1] % 2 == 0:
            return _emit(op, x, cos, sin, splice)
    return False


def _emit(op: Operation, x: Value, cos: np.ndarray, sin: np.ndarray, splice: Splicer) -> bool:
    shape = x.type.shape
    if x.type.rank not in (3, 4) or op.result.type != x.type:
        return False
    seq_axis = _sequence_axis(cos, sin, shape)
    if seq_axis is None:
        return False
    base = _base(cos, sin, shape, seq_axis)
    if base is None:
        return False
    if x.type.rank == 3:
        heads, perm = 1, None
    else:
        head_axis = 3 - seq_axis
        heads = shape[head_axis]
        perm = (0, 1, 2, 3) if seq_axis == 1 else (0, 2, 1, 3)
    scratch = splice.scratch()
    em = Emitter(scratch, loc=op.loc, name=op.results[0].name_hint)
    packed = x
    if perm is not None:
        packed = layout.reshape(em, layout.transpose(em, x, perm),
                                (shape[0], shape[seq_axis], heads * shape[-1]))
    y = em.op("rotary", packed, num_heads=heads, base=base)
    if perm is not None:
        y = layout.transpose(em, layout.reshape(em, y, (shape[0], shape[seq_axis], heads, shape[-1])),
                             perm)
    splice.insert(op, scratch, op.result, y)
    return True


def _sequence_axis(cos: np.ndarray, sin: np.ndarray, shape: tuple) -> int | None:
    """The one axis besides the last along which the tables vary (batch axis 0 excluded)."""
    try:
        tables = [np.broadcast_to(t, shape) for t in (cos, sin)]
    except ValueError:
        return None
    varying = {axis for t in tables for axis in range(len(shape) - 1)
               if shape[axis] > 1 and not np.array_equal(t, np.broadcast_to(t.take([0], axis), shape))}
    if len(varying) != 1 or 0 in varying:
        return None
    return varying.pop()


def _base(cos: np.ndarray, sin: np.ndarray, shape: tuple, seq_axis: int) -> float | None:
    """RoPE's base if the tables are RoPE's for positions 0..S-1, else None."""
    d, s = shape[-1], shape[seq_axis]
    index = [0] * len(shape)
    index[seq_axis], index[-1] = slice(None), slice(None)
    c = np.broadcast_to(cos, shape)[tuple(index)].astype(np.float64)
    n = np.broadcast_to(sin, shape)[tuple(index)].astype(np.float64)
    half = d // 2
    if s < 2 or not (np.allclose(c[:, :half], c[:, half:]) and np.allclose(n[:, :half], n[:, half:])):
        return None
    theta = np.arctan2(n[1, :half], c[1, :half])
    base = 10000.0 if half < 2 else float(theta[1] ** (-d / 2))
    if not np.isfinite(base) or base <= 1:
        return None
    rounded = float(round(base))
    if abs(rounded - base) <= 1e-3 * base:
        base = rounded
    inv = base ** (-np.arange(0, d, 2, dtype=np.float64) / d)
    angles = np.arange(s, dtype=np.float64)[:, None] * inv[None, :]
    tol = 1e-4 + 1e-6 * s
    if not (np.allclose(c[:, :half], np.cos(angles), atol=tol)
            and np.allclose(n[:, :half], np.sin(angles), atol=tol)):
        return None
    return base
