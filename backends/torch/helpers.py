"""The runtime helpers a generated file may need, by name, with their dependencies.

Helpers are real functions (tested and linted here) whose source is copied into the generated
file, which therefore needs nothing but torch (and numpy to read an .npz weights file).
"""

from __future__ import annotations

import inspect
from typing import Any

from archir.backends.torch import rt_attention, rt_data, rt_module

HELPERS: dict[str, Any] = {
    "attention": rt_attention.attention,
    "rotary": rt_attention.rotary,
    "alibi": rt_attention.alibi,
    "resize_axis": rt_data.resize_axis,
    "resize": rt_data.resize,
    "pad": rt_data.pad,
    "avg_pool2d_padded": rt_data.avg_pool2d_padded,
    "take": rt_data.take,
    "Choice": rt_module.Choice,
    "select_cells": rt_module.select_cells,
    "load_weights": rt_module.load_weights,
}
_NEEDS = {"resize": ("resize_axis",), "Choice": ("select_cells",)}


def requires(name: str) -> list[str]:
    """``name`` and the helpers it calls, dependencies first."""
    if name not in HELPERS:
        raise KeyError(f"no runtime helper '{name}'")
    out: list[str] = []
    for dep in _NEEDS.get(name, ()):
        out += requires(dep)
    return out + [name]


def order_key(name: str) -> int:
    return list(HELPERS).index(name)


def source(name: str) -> str:
    return inspect.getsource(HELPERS[name]).rstrip() + "\n"
