"""Views, reshapes, transposes, copies and casts (the folding lives in ``layout``)."""

from __future__ import annotations

from archir.frontends.torch import layout
from archir.frontends.torch.table import converts


def _out_shape(cx) -> tuple[int, ...]:
    return cx.type_of(cx.node).shape


@converts("aten.view.default", "aten.reshape.default", "aten._unsafe_view.default",
          "aten.view_as.default", "aten.reshape_as.default", "aten.unflatten.int")
def reshape(cx, a):
    return layout.reshape(cx.em, cx.value(a["self"]), _out_shape(cx))


@converts("aten.flatten.using_ints")
def flatten(cx, a):
    x = cx.value(a["self"])
    if x.type.rank == 0:
        return layout.reshape(cx.em, x, (1,))
    start, end = int(a["start_dim"]) % x.type.rank, int(a["end_dim"]) % x.type.rank
    return layout.reshape(cx.em, x, _out_shape(cx), natural=("flatten", {"start": start, "end": end}))


@converts("aten.unsqueeze.default", "aten.unsqueeze_.default")
def unsqueeze(cx, a):
    out = _out_shape(cx)
    axis = int(a["dim"]) % len(out)
    return layout.reshape(cx.em, cx.value(a["self"]), out, natural=("unsqueeze", {"axes": (axis,)}))


@converts("aten.squeeze.dim", "aten.squeeze.dims", "aten.squeeze.default", "aten.squeeze_.dim")
def squeeze(cx, a):
    x = cx.value(a["self"])
    dims = a.get("dim")
    if dims is None:
        dims = [i for i, d in enumerate(x.type.shape) if d == 1]
    dims = dims if isinstance(dims, (list, tuple)) else [dims]
    axes = tuple(sorted({int(d) % x.type.rank for d in dims if x.type.shape[int(d)] == 1}))
    return layout.reshape(cx.em, x, _out_shape(cx), natural=("squeeze", {"axes": axes}))


@converts("aten.permute.default")
def permute(cx, a):
    return layout.transpose(cx.em, cx.value(a["self"]), [int(d) for d in a["dims"]])


@converts("aten.transpose.int", "aten.swapaxes.default", "aten.swapdims.default",
          "aten.transpose_.default")
def transpose(cx, a):
    x = cx.value(a["self"])
    first = a.get("dim0", a.get("axis0"))
    second = a.get("dim1", a.get("axis1"))
    return layout.swap(cx.em, x, int(first), int(second)) if x.type.rank else x


@converts("aten.t.default", "aten.numpy_T.default")
def t(cx, a):
    x = cx.value(a["self"])
    return layout.transpose(cx.em, x, list(reversed(range(x.type.rank))))


@converts("aten.movedim.int")
def movedim(cx, a):
    x = cx.value(a["self"])
    rank = x.type.rank
    src, dst = int(a["source"]) % rank, int(a["destination"]) % rank
    order = [d for d in range(rank) if d != src]
    order.insert(dst, src)
    return layout.transpose(cx.em, x, order)


@converts("aten.expand.default", "aten.expand_as.default", "aten.broadcast_to.default")
def expand(cx, a):
    x = cx.value(a["self"])
    out = _out_shape(cx)
    return x if out == x.type.shape else cx.em.op("expand", x, shape=out)


@converts("aten.contiguous.default", "aten.clone.default", "aten.alias.default",
          "aten.detach.default", "aten.lift_fresh_copy.default", "aten.detach_.default",
          "aten.positive.default")
def identity(cx, a):
    # copies and aliases compute nothing in a value-semantics IR
    return cx.value(a["self"])


@converts("aten._to_copy.default", "aten.to.dtype", "aten.to.dtype_layout", "aten.to.device",
          "aten.to.other", "aten.type_as.default", "aten.float.default", "aten.long.default",
          "aten.int.default", "aten.bool.default", "aten.half.default")
def cast(cx, a):
    return cx.em.cast(cx.value(a["self"]), cx.type_of(cx.node).dtype)


def _repeat(cx, x, repeats) -> object:
    """torch.Tensor.repeat (tiling): each dim d becomes (r, d), expanded, then merged."""
    em = cx.em
    repeats = [int(r) for r in repeats]
    shape = (1,) * (len(repeats) - x.type.rank) + tuple(x.type.shape)
    x = layout.reshape(em, x, [v for d in shape for v in (1, d)])
    x = em.op("expand", x, shape=[v for r, d in zip(repeats, shape) for v in (r, d)])
    return layout.reshape(em, x, [r * d for r, d in zip(repeats, shape)])


@converts("aten.repeat.default")
def repeat(cx, a):
    return _repeat(cx, cx.value(a["self"]), a["repeats"])


def _interleave_check(cx, a):
    if not isinstance(a["repeats"], int):
        return "repeat_interleave with per-element repeat counts"
    return None


@converts("aten.repeat_interleave.self_int", check=_interleave_check)
def repeat_interleave(cx, a):
    em = cx.em
    x = cx.value(a["self"])
    if a["dim"] is None:
        x = layout.reshape(em, x, (x.type.numel(),))
    rank = x.type.rank
    dim = 0 if a["dim"] is None else int(a["dim"]) % rank
    n = int(a["repeats"])
    shape = list(x.type.shape)
    wide = shape[:dim + 1] + [1] + shape[dim + 1:]
    y = layout.reshape(em, x, wide)
    y = em.op("expand", y, shape=wide[:dim + 1] + [n] + wide[dim + 2:])
    return layout.reshape(em, y, shape[:dim] + [shape[dim] * n] + shape[dim + 1:])


@converts("aten.roll.default", check=lambda cx, a: None if a["dims"] else "roll over the flattened tensor")
def roll(cx, a):
    x = cx.value(a["self"])
    return cx.em.op("roll", x, shifts=tuple(int(s) for s in a["shifts"]),
                    axes=tuple(int(d) % x.type.rank for d in a["dims"]))


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}


def _pad_check(cx, a):
    mode = a.get("mode", "constant")
    return None if mode in _PAD_MODES else f"padding mode {mode!r}"


@converts("aten.pad.default", "aten.constant_pad_nd.default", check=_pad_check)
def pad(cx, a):
    x = cx.value(a["self"])
    rank = x.type.rank
    flat = [int(p) for p in a["pad"]]
    begins, ends = [0] * rank, [0] * rank
    # torch lists (begin, end) pairs from the last dim backwards
    for i in range(len(flat) // 2):
        begins[rank - 1 - i], ends[rank - 1 - i] = flat[2 * i], flat[2 * i + 1]
    if not any(begins) and not any(ends):
        return x
    value = a.get("value")
    return cx.em.op("pad", x, pads=tuple(begins + ends), mode=_PAD_MODES[a.get("mode", "constant")],
                    value=0.0 if value is None else float(value))


@converts("aten.channel_shuffle.default", "aten.native_channel_shuffle.default")
def channel_shuffle(cx, a):
    return cx.em.op("channel_shuffle", cx.value(a["self"]), groups=int(a["groups"]))


@converts("aten._assert_tensor_metadata.default", "aten._assert_scalar.default",
          "aten.sym_constrain_range_for_size.default", "aten._assert_async.msg",
          "aten._assert_async.default", "aten.sym_constrain_range.default")
def no_value(cx, a):
    # runtime checks that torch.export records; the shapes are static here
    return None
