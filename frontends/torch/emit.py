"""Emitting IR ops at one location: the builder plus the loc and name hint they carry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from archir.builder import GraphBuilder
from archir.frontends.torch.dtypes import numpy_dtype
from archir.ir import Value
from archir.types import DType


class Emitter:
    """Appends ops to ``builder``, each tagged with ``loc`` and named ``name`` (a module path)."""

    def __init__(self, builder: GraphBuilder, loc: str | None = None, name: str | None = None):
        self.builder = builder
        self.loc = loc
        self.name = name

    def op(self, kind: str, *operands: Value, weights: Mapping[str, np.ndarray] | None = None,
           **attrs: Any) -> Any:
        if weights is not None and any(w is None for w in weights.values()):
            weights = None  # all or nothing: some values are unknown (meta tensors)
        return self.builder.op(kind, *operands, name=self.name, loc=self.loc, weights=weights, **attrs)

    def scalar(self, value: float, dtype: DType) -> Value:
        """A rank-0 constant that broadcasts against any tensor of ``dtype``."""
        return self.op("constant", value=float(value), dtype=dtype)

    def cast(self, x: Value, dtype: DType) -> Value:
        return x if x.type.dtype == dtype else self.op("cast", x, dtype=dtype)

    def array(self, value: np.ndarray, dtype: DType, name: str | None = None,
              trainable: bool = False) -> Value:
        """A stored tensor: a ``parameter`` op holding ``value``; ``trainable`` for a learned one
        (an nn.Parameter), else a buffer, a mask or a folded value (a scalar becomes a
        ``constant``)."""
        value = np.asarray(value)
        if value.dtype != numpy_dtype(dtype):
            value = value.astype(numpy_dtype(dtype))
        if value.ndim == 0 and not trainable:
            return self.scalar(float(value), dtype)
        saved, self.name = self.name, name or self.name
        try:
            return self.op("parameter", shape=value.shape, dtype=dtype, weights={"value": value},
                           **trainable_attr(trainable))
        finally:
            self.name = saved


def trainable_attr(trainable: bool) -> dict[str, bool]:
    """The ``parameter`` op's ``trainable`` attribute, written only when false (its default is
    true)."""
    return {} if trainable else {"trainable": False}
