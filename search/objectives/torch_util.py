"""Torch plumbing the measures share: a seeded model from IR, inputs shaped like its argument,
and a fixed thread count (results must not depend on which process evaluates)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from archir.backends.torch import to_torch
from archir.ir import Module
from archir.search.objectives.base import EvaluationError
from archir.types import TensorType


def seeded_model(module: Module, seed: int) -> nn.Module:
    """``to_torch(module)`` with weights initialised from ``seed``, leaving the global RNG alone."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return to_torch(module)


def image_input(module: Module, what: str) -> TensorType:
    """The single NCHW float input of an image model, or a clear error."""
    args = module.main.args
    if len(args) != 1 or args[0].type.rank != 4 or not args[0].type.dtype.is_float:
        shown = ", ".join(str(a.type) for a in args)
        raise ValueError(f"{what} needs an image model with one NCHW float input, not ({shown})")
    return args[0].type


def concrete_shape(t: TensorType, batch: int) -> tuple[int, ...]:
    """The argument's shape with symbolic dims (the batch ``N``) set to ``batch``."""
    return tuple(d if isinstance(d, int) else batch for d in t.shape)


def finite(name: str, value: float) -> float:
    if value != value or value in (float("inf"), float("-inf")):
        raise EvaluationError(f"{name} is not finite ({value})")
    return value


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run with ``n`` intra-op threads: float reductions split differently per thread count, so
    an in-process evaluation and a pool worker agree only when both use the same number."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
