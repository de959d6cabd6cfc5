"""Op swap: replace an op by another of the same signature (activation, gate, pooling, norm)."""

from __future__ import annotations

import random

from archir.ir import Graph, Module, Operation
from archir.opdef import OPS
from archir.search.mutations.base import GraphMutation, Rejected, pick_other

FAMILIES = (
    ("relu", "relu6", "hardswish", "silu", "gelu", "mish"),
    ("sigmoid", "hardsigmoid"),
    ("max_pool2d", "avg_pool2d"),
    ("global_avg_pool", "global_max_pool"),
    ("layer_norm", "rms_norm"),
)
_FAMILY = {name: fam for fam in FAMILIES for name in fam}
_SHARED = {"kernel", "stride", "padding", "ceil_mode", "axis", "eps", "affine"}  # carried over


def _sites(g: Graph) -> list[int]:
    return [i for i, op in enumerate(g.ops) if op.name in _FAMILY and _swappable(op)]


def _swappable(op: Operation) -> bool:
    return op.name != "max_pool2d" or op.attrs["dilation"] == (1, 1)


def _rewrite(module: Module, op: Operation, rng: random.Random) -> str:
    new = pick_other(rng, _FAMILY[op.name], op.name)
    opdef = OPS[new]
    attrs = {k: v for k, v in op.attrs.items() if k in _SHARED and k in opdef.attrs}
    if new == "avg_pool2d":
        attrs["count_include_pad"] = False  # NAS cell convention: padding is not averaged in
    old = op.name
    try:
        op.attrs = opdef.normalize_attrs(attrs)
    except ValueError as e:
        raise Rejected(f"swap_op: {old} -> {new}: {e}") from None
    op.opdef = opdef
    return f"{old} -> {new}"


swap_op = GraphMutation("swap_op", _sites, _rewrite)
