"""Normalisation layers (inference mode)."""

from __future__ import annotations

import numpy as np
import torch

from archir.frontends.torch.dtypes import numpy_dtype, torch_dtype
from archir.frontends.torch.table import converts


def _filled(cx, arg, shape: tuple[int, ...], value: float) -> np.ndarray | None:
    """A weight argument, or the constant it stands for when the layer has none (None when
    the argument's value is unknown)."""
    if arg is None:
        return np.full(shape, value, numpy_dtype(cx.type_of(cx.node).dtype))
    return cx.weight(arg)


def _bn_check(cx, a):
    if a.get("training") or a["running_mean"] is None:
        return "batch norm with batch statistics (training mode / track_running_stats=False)"
    consts = [a[k] for k in ("weight", "bias", "running_mean", "running_var") if a[k] is not None]
    return None if cx.is_const(consts) else "norm parameters computed from the inputs"


def _batch_norm(cx, a):
    x = cx.value(a["input"])
    c = (x.type.shape[1],)
    weights = {"weight": _filled(cx, a["weight"], c, 1.0), "bias": _filled(cx, a["bias"], c, 0.0),
               "running_mean": cx.weight(a["running_mean"]), "running_var": cx.weight(a["running_var"])}
    return cx.em.op("batch_norm", x, eps=float(a["eps"]), weights=weights)


converts("aten.batch_norm.default", check=_bn_check)(_batch_norm)


@converts("aten._native_batch_norm_legit_no_training.default", check=_bn_check)
def batch_norm_no_training(cx, a):
    # functionalized graphs: (out, save_mean, save_invstd), only out is used
    return (_batch_norm(cx, a), None, None)


def _affine_check(cx, a):
    consts = [a[k] for k in ("weight", "bias") if a.get(k) is not None]
    return None if cx.is_const(consts) else "norm parameters computed from the inputs"


@converts("aten.layer_norm.default", check=_affine_check)
def layer_norm(cx, a):
    x = cx.value(a["input"])
    shape = tuple(int(d) for d in a["normalized_shape"])
    affine = a["weight"] is not None or a["bias"] is not None
    weights = None
    if affine:
        weights = {"weight": _filled(cx, a["weight"], shape, 1.0)}
        if a["bias"] is not None:
            weights["bias"] = cx.weight(a["bias"])
    return cx.em.op("layer_norm", x, axis=-len(shape), eps=float(a["eps"]), affine=affine,
                    bias=a["bias"] is not None, weights=weights)


@converts("aten.native_layer_norm.default", check=_affine_check)
def native_layer_norm(cx, a):
    return (layer_norm(cx, a), None, None)


@converts("aten.rms_norm.default", check=_affine_check)
def rms_norm(cx, a):
    x = cx.value(a["input"])
    shape = tuple(int(d) for d in a["normalized_shape"])
    eps = a["eps"]
    if eps is None:  # torch's default: the machine epsilon of the input dtype
        eps = torch.finfo(torch_dtype(x.type.dtype)).eps
    weight = cx.weight(a["weight"]) if a["weight"] is not None else None
    return cx.em.op("rms_norm", x, axis=-len(shape), eps=float(eps), affine=a["weight"] is not None,
                    weights=None if weight is None else {"weight": weight})


def _per_channel(cx, a, x) -> dict[str, np.ndarray] | None:
    c = (x.type.shape[1],)
    return {"weight": _filled(cx, a["weight"], c, 1.0), "bias": _filled(cx, a["bias"], c, 0.0)}


@converts("aten.group_norm.default", check=_affine_check)
def group_norm(cx, a):
    x = cx.value(a["input"])
    affine = a["weight"] is not None or a["bias"] is not None
    return cx.em.op("group_norm", x, groups=int(a["num_groups"]), eps=float(a["eps"]), affine=affine,
                    weights=_per_channel(cx, a, x) if affine else None)


def _instance_check(cx, a):
    if not a["use_input_stats"]:
        return "instance norm with running statistics"
    return _affine_check(cx, a)


@converts("aten.instance_norm.default", check=_instance_check)
def instance_norm(cx, a):
    x = cx.value(a["input"])
    affine = a["weight"] is not None or a["bias"] is not None
    return cx.em.op("instance_norm", x, eps=float(a["eps"]), affine=affine,
                    weights=_per_channel(cx, a, x) if affine else None)
