"""Normalisation, pooling, padding and resizing."""

from __future__ import annotations

from archir.attrs import BOOL, DIMS, FLOAT, INT, Attr, ints, one_of, pads
from archir.opdef import InferError, declare
from archir.ops._shapes import axis, pads_of, static, window_out


def _keep(ins, a):
    return (ins[0],)


def _channels(x):
    if x.rank < 2:
        raise InferError(f"expected an input with a channel axis (N, C, ...), got {x}")
    return static(x.shape[1], "channels")


def _bn_params(ins, a):
    c = (_channels(ins[0]),)
    return {"weight": c, "bias": c, "running_mean": c, "running_var": c}


declare("batch_norm", "x", _keep, family="norm", attrs={"eps": Attr(FLOAT, 1e-5)},
        params=_bn_params, doc="inference-mode batch norm over axis 1")


def _trailing(ins, a):
    x = ins[0]
    return tuple(static(d, "normalized dims") for d in x.shape[axis(a["axis"], x.rank):])


def _affine_params(ins, a):
    if not a["affine"]:
        return {}
    shape = _trailing(ins, a)
    return {"weight": shape, "bias": shape} if a.get("bias", False) else {"weight": shape}


declare("layer_norm", "x", _keep, family="norm",
        attrs={"axis": Attr(INT, -1), "eps": Attr(FLOAT, 1e-5), "affine": Attr(BOOL, True),
               "bias": Attr(BOOL, True)},
        params=_affine_params, doc="normalise over dims axis.. (PyTorch's normalized_shape)")
declare("rms_norm", "x", _keep, family="norm",
        attrs={"axis": Attr(INT, -1), "eps": Attr(FLOAT, 1e-6), "affine": Attr(BOOL, True)},
        params=_affine_params)


def _group_norm_infer(ins, a):
    c = _channels(ins[0])
    if a["groups"] < 1 or c % a["groups"]:
        raise InferError(f"groups={a['groups']} must divide channels {c}")
    return (ins[0],)


def _per_channel_params(ins, a):
    c = (_channels(ins[0]),)
    return {"weight": c, "bias": c} if a["affine"] else {}


declare("group_norm", "x", _group_norm_infer, family="norm",
        attrs={"groups": Attr(INT), "eps": Attr(FLOAT, 1e-5), "affine": Attr(BOOL, True)},
        params=_per_channel_params)
def _instance_norm_infer(ins, a):
    _channels(ins[0])
    return (ins[0],)


declare("instance_norm", "x", _instance_norm_infer, family="norm",
        attrs={"eps": Attr(FLOAT, 1e-5), "affine": Attr(BOOL, True)},
        params=_per_channel_params)


def _lrn_infer(ins, a):
    _channels(ins[0])
    if ins[0].rank < 3 or a["size"] < 1:
        raise InferError(f"lrn needs an input (N, C, spatial...) and size >= 1, got {ins[0]}")
    return (ins[0],)


declare("lrn", "x", _lrn_infer, family="norm",
        attrs={"size": Attr(INT), "alpha": Attr(FLOAT, 1e-4), "beta": Attr(FLOAT, 0.75),
               "k": Attr(FLOAT, 1.0)},
        doc="local response norm across channels (PyTorch's LocalResponseNorm): "
            "x / (k + alpha/size · Σ x²)^beta, summed over channels c - size//2 .. "
            "c + (size-1)//2 (zero outside); ONNX LRN is the same for odd sizes")


def _pool_infer(ins, a):
    (x,) = ins
    if x.rank != 4:
        raise InferError(f"expected a rank-4 input (N, C, H, W), got {x}")
    dilation = a.get("dilation", (1, 1))
    pad = pads_of(a["padding"], a["kernel"], dilation)
    if any(p > k // 2 for p, k in zip(pad, a["kernel"] * 2)):
        raise InferError(f"padding {list(pad)} exceeds half the kernel {list(a['kernel'])}")
    spatial = [
        window_out(x.shape[2 + i], a["kernel"][i], a["stride"][i], pad[i], pad[2 + i],
                   dilation[i], a["ceil_mode"])
        for i in range(2)
    ]
    return (x.with_shape((*x.shape[:2], *spatial)),)


_POOL = {
    "kernel": Attr(ints(2, min_value=1)),
    "stride": Attr(ints(2, min_value=1), (1, 1)),
    "padding": Attr(pads(2), (0, 0)),
    "ceil_mode": Attr(BOOL, False),
}
declare("max_pool2d", "x", _pool_infer, family="pool",
        attrs={**_POOL, "dilation": Attr(ints(2, min_value=1), (1, 1))})
declare("avg_pool2d", "x", _pool_infer, family="pool",
        attrs={**_POOL, "count_include_pad": Attr(BOOL, True)})


def _adaptive_infer(ins, a):
    (x,) = ins
    if x.rank != 4:
        raise InferError(f"expected a rank-4 input (N, C, H, W), got {x}")
    return (x.with_shape((*x.shape[:2], *a["output_size"])),)


for _kind in ("avg", "max"):
    declare(f"adaptive_{_kind}_pool2d", "x", _adaptive_infer, family="pool",
            attrs={"output_size": Attr(ints(2, min_value=1))})
    declare(f"global_{_kind}_pool", "x",
            lambda ins, a: (ins[0].with_shape((*ins[0].shape[:2], *[1] * (ins[0].rank - 2))),),
            family="pool", doc="pool every spatial dim to 1 (keeps rank)")


def _pad_infer(ins, a):
    (x,) = ins
    p = a["pads"]
    if len(p) != 2 * x.rank:
        raise InferError(f"pads needs {2 * x.rank} values (begins then ends), got {len(p)}")
    out = []
    for i, d in enumerate(x.shape):
        if p[i] == 0 and p[x.rank + i] == 0:
            out.append(d)
        else:
            size = static(d, "padded dim") + p[i] + p[x.rank + i]
            if size < 0:
                raise InferError(f"padding makes dim {i} negative")
            out.append(size)
    return (x.with_shape(out),)


declare("pad", "x", _pad_infer, family="data",
        attrs={"pads": Attr(ints()), "mode": Attr(one_of("constant", "reflect", "edge"), "constant"),
               "value": Attr(FLOAT, 0.0)},
        doc="pads: begin values for every dim, then end values (ONNX order); may be negative")


def _resize_infer(ins, a):
    (x,) = ins
    size = a["size"]
    if len(size) != x.rank - 2:
        raise InferError(f"size needs {x.rank - 2} spatial dims, got {len(size)}")
    return (x.with_shape((*x.shape[:2], *size)),)


declare("resize", "x", _resize_infer, family="data",
        attrs={"size": Attr(DIMS), "mode": Attr(one_of("nearest", "linear", "cubic"), "nearest"),
               "coordinates": Attr(one_of("asymmetric", "half_pixel", "pytorch_half_pixel",
                                          "align_corners"), "asymmetric")},
        doc="resize the spatial dims to size (ONNX Resize): nearest takes the source index "
            "floor(coordinate) (asymmetric: PyTorch's nearest), cubic uses a = -0.75 "
            "(PyTorch's bicubic); linear/cubic with half_pixel or align_corners are PyTorch's "
            "align_corners=False/True")
