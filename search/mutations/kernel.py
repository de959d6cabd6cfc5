"""Kernel change: a conv's kernel size, with padding that keeps the output size (so no consumer
has to follow)."""

from __future__ import annotations

import random

from archir.ir import Graph, Module, Operation
from archir.search.mutations.base import GraphMutation, pick_other, set_attrs

DEPTHWISE_KERNELS = (3, 5, 7)
DENSE_KERNELS = (1, 3, 5)


def _same_padded(op: Operation) -> bool:
    k = op.attrs["kernel"]
    pad = op.attrs["padding"]
    if k[0] != k[1] or k[0] % 2 == 0 or op.attrs["dilation"] != (1, 1):
        return False
    return pad == "same" or tuple(pad) in ((k[0] // 2,) * 2, (k[0] // 2,) * 4)


def _depthwise(op: Operation) -> bool:
    a = op.attrs
    return a["groups"] > 1 and a["groups"] == a["out_channels"] == op.operands[0].type.shape[1]


def _sites(g: Graph) -> list[int]:
    return [i for i, op in enumerate(g.ops) if op.name == "conv2d" and _same_padded(op)
            and (_depthwise(op) or op.attrs["groups"] == 1)]


def _rewrite(module: Module, op: Operation, rng: random.Random) -> str:
    k = op.attrs["kernel"][0]
    new = pick_other(rng, DEPTHWISE_KERNELS if _depthwise(op) else DENSE_KERNELS, k)
    padding = "same" if op.attrs["padding"] == "same" else [new // 2, new // 2]
    set_attrs(op, kernel=[new, new], padding=padding)
    return f"kernel {k} -> {new}"


change_kernel = GraphMutation("change_kernel", _sites, _rewrite)
