"""Saving and loading modules: ``.air`` text, with weights in an ``.npz`` beside it.

Weights are keyed ``graph/value/param`` by the printed name of each op's first result, so
the text and the weights file always agree. Arrays load with ``allow_pickle=False``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from archir.errors import VerifyError
from archir.ir import Module
from archir.parser import parse
from archir.printer import Namer, print_module
from archir.verifier import verify


def weights_path(path: str | os.PathLike) -> Path:
    return Path(path).with_suffix(".npz")


def save(module: Module, path: str | os.PathLike) -> None:
    """Write ``path`` (text) and, when any op has weights, ``path`` with suffix ``.npz``."""
    text, namers = print_module(module)
    Path(path).write_text(text)
    arrays = {
        f"{g.name}/{namers[g.name](op.results[0])}/{key}": np.asarray(array)
        for g in module.graphs.values()
        for op in g.ops
        if op.weights
        for key, array in op.weights.items()
    }
    target = weights_path(path)
    if arrays:
        np.savez(target, **arrays)
    elif target.exists():
        target.unlink()


def load(path: str | os.PathLike) -> Module:
    """Read a module saved by ``save`` (weights included when the ``.npz`` exists)."""
    module = parse(Path(path).read_text(), verify=False, filename=str(path))
    target = weights_path(path)
    if target.exists():
        with np.load(target, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
        by_name = {}
        for g in module.graphs.values():
            name = Namer()
            for a in g.args:
                name(a)
            for op in g.ops:
                for r in op.results:
                    name(r)
                by_name[f"{g.name}/{name(op.results[0])}"] = op
        for key, array in arrays.items():
            owner, _, param = key.rpartition("/")
            op = by_name.get(owner)
            if op is None:
                raise VerifyError(f"{target}: weights '{key}' belong to no op of the module")
            op.weights = {**(op.weights or {}), param: array}
    verify(module)
    return module
