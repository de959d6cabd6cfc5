"""Pooling and resizing over the spatial dims of (N, C, H, W) tensors."""

from __future__ import annotations

from archir.frontends.torch.table import converts


def _pair(v) -> tuple[int, int]:
    v = tuple(v) if isinstance(v, (list, tuple)) else (v,)
    return (v[0], v[0]) if len(v) == 1 else (v[0], v[1])


def _rank4(cx, a):
    return None if cx.type_of(a["self"]).rank == 4 else "only batched 4-D (N, C, H, W) inputs"


def _window(a) -> dict:
    kernel = _pair(a["kernel_size"])
    stride = _pair(a["stride"]) if a["stride"] else kernel
    return {"kernel": kernel, "stride": stride, "padding": _pair(a["padding"]),
            "ceil_mode": bool(a["ceil_mode"])}


@converts("aten.max_pool2d.default", check=_rank4)
def max_pool2d(cx, a):
    return cx.em.op("max_pool2d", cx.value(a["self"]), dilation=_pair(a["dilation"]), **_window(a))


@converts("aten.max_pool2d_with_indices.default", check=_rank4)
def max_pool2d_with_indices(cx, a):
    return (max_pool2d(cx, a), None)


def _avg_check(cx, a):
    if a["divisor_override"] is not None:
        return "divisor_override"
    return _rank4(cx, a)


@converts("aten.avg_pool2d.default", check=_avg_check)
def avg_pool2d(cx, a):
    return cx.em.op("avg_pool2d", cx.value(a["self"]),
                    count_include_pad=bool(a["count_include_pad"]), **_window(a))


def _adaptive(kind: str):
    def convert(cx, a):
        x = cx.value(a["self"])
        val = cx.out if kind == "avg" else cx.out[0]
        size = tuple(int(d) for d in val.shape[2:])
        if size == (1, 1):
            out = cx.em.op(f"global_{kind}_pool", x)
        else:
            out = cx.em.op(f"adaptive_{kind}_pool2d", x, output_size=size)
        return out if kind == "avg" else (out, None)

    return convert


converts("aten.adaptive_avg_pool2d.default", "aten._adaptive_avg_pool2d.default",
         check=_rank4)(_adaptive("avg"))
converts("aten.adaptive_max_pool2d.default", check=_rank4)(_adaptive("max"))


def _resize(mode: str):
    def convert(cx, a):
        size = cx.type_of(cx.node).shape[2:]
        coordinates = "asymmetric"
        if mode != "nearest":
            coordinates = "align_corners" if a["align_corners"] else "pytorch_half_pixel"
        return cx.em.op("resize", cx.value(a["input"]), size=size, mode=mode, coordinates=coordinates)

    return convert


def _resize_check(cx, a):
    if cx.type_of(a["input"]).rank != 4:
        return "only 4-D (N, C, H, W) inputs"
    scales = a.get("scale_factors")
    if scales and any(float(s) != int(s) for s in scales):
        return "fractional scale factors (give an output size instead)"
    return None


converts("aten.upsample_nearest2d.vec", check=_resize_check)(_resize("nearest"))
converts("aten.upsample_bilinear2d.vec", check=_resize_check)(_resize("linear"))
converts("aten.upsample_bicubic2d.vec", check=_resize_check)(_resize("cubic"))
