"""Emission state: ONNX node list, initializers, unique names and shape helpers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
from onnx import helper

from archir.backends.onnx.dtypes import ONNX_TYPE, numpy_dtype
from archir.backends.onnx.init import initial
from archir.ir import Operation, Value
from archir.names import claim
from archir.types import Dim, DType, TensorType

BIG = 1 << 16  # bytes


class EmitError(ValueError):
    """An IR op that this backend cannot express in ONNX."""


class Emitter:
    def __init__(self, opset: int):
        self.opset = opset
        self.model = onnx.ModelProto()
        self.graph = self.model.graph  # filled in place: big initializers are never copied
        self.nodes: list[onnx.NodeProto] = []
        self.value_info: list[onnx.ValueInfoProto] = []
        self.names: dict[Value, str] = {}  # the scope being emitted (a graph or an inlined cell)
        self.result_names: dict[Value, str] = {}  # preferred names for results in this scope
        self._taken: set[str] = set()
        self._consts: dict[tuple, str] = {}
        self._weights: dict[tuple[int, str], str] = {}
        self.symbol_sources: list[tuple[str, TensorType]] = []  # tensors whose dims give symbols
        self._symbols: dict[str, str] = {}
        self.weight_seed: dict[Operation, str] = {}
        self.big: set[str] = set()  # initializers the checker sees only as typed inputs

    # names ----------------------------------------------------------------------------
    def fresh(self, base: str) -> str:
        return claim(base, self._taken)

    def name(self, v: Value) -> str:
        return self.names[v]

    def outs(self, op: Operation) -> list[str]:
        return [self.result_names[r] for r in op.results]

    # nodes ----------------------------------------------------------------------------
    def node(self, op_type: str, inputs: Sequence[str], outputs: int | Sequence[str] = 1,
             domain: str = "", **attrs: Any) -> list[str]:
        """Add a node; ``outputs`` is a count (fresh names) or the names to use."""
        if isinstance(outputs, int):
            outputs = [self.fresh(f"{op_type.lower()}") for _ in range(outputs)]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(helper.make_node(op_type, list(inputs), list(outputs), domain=domain or None,
                                           name=self.fresh(f"{op_type}_{len(self.nodes)}"), **attrs))
        return list(outputs)

    def one(self, op_type: str, inputs: Sequence[str], out: str | None = None, **attrs: Any) -> str:
        return self.node(op_type, inputs, [out] if out else 1, **attrs)[0]

    # constants and weights -------------------------------------------------------------
    def const(self, array: Any, dtype: Any = None, hint: str = "const") -> str:
        """An initializer holding ``array`` (small ones are shared by value)."""
        array = np.asarray(array, dtype=dtype)
        key = (array.dtype.str, array.shape, array.tobytes()) if array.size <= 64 else None
        if key is not None and key in self._consts:
            return self._consts[key]
        name = self.const_big(array, hint)
        if key is not None:
            self._consts[key] = name
        return name

    def ints(self, values: Sequence[int]) -> str:
        return self.const(np.array(list(values), dtype=np.int64), hint="ints")

    def scalar(self, value: float, like: TensorType) -> str:
        return self.const(np.array(value, dtype=numpy_dtype(like.dtype)), hint="scalar")

    def weight(self, op: Operation, key: str) -> str:
        """The initializer of weight ``key`` of ``op`` (shared by every inlined call)."""
        cache = (id(op), key)
        if cache not in self._weights:
            shapes = op.opdef.params(tuple(v.type for v in op.operands), op.attrs)
            shape = tuple(shapes[key])
            if not all(isinstance(d, int) for d in shape):
                raise EmitError(f"'{op.name}' weight '{key}' has symbolic shape {shape}")
            dtype = numpy_dtype(op.results[0].type.dtype if op.name != "embedding" else op.attrs["dtype"])
            seed = f"{self.weight_seed.get(op, op.name)}/{key}"
            given = (op.weights or {}).get(key)
            if given is not None:
                array = np.asarray(given).astype(dtype, copy=False)
            else:
                array = initial(op, key, shape, dtype, seed)
            self._weights[cache] = self.const_big(array, seed.replace("/", "."))
        return self._weights[cache]

    def const_big(self, array: np.ndarray, hint: str) -> str:
        """An initializer written straight into the graph (one copy of the data, as raw bytes)."""
        name = self.fresh(hint)
        tensor = self.graph.initializer.add()
        tensor.name = name
        tensor.data_type = helper.np_dtype_to_tensor_dtype(array.dtype)
        tensor.dims.extend(array.shape)
        tensor.raw_data = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
        if array.nbytes > BIG:
            self.big.add(name)
        return name

    # shapes ---------------------------------------------------------------------------
    def symbol(self, sym: str) -> str:
        """A 1-element int64 tensor holding the runtime size of symbol ``sym``."""
        if sym not in self._symbols:
            for name, t in self.symbol_sources:
                if sym in t.shape:
                    i = t.shape.index(sym)
                    self._symbols[sym] = self.one("Shape", [name], start=i, end=i + 1)
                    break
            else:
                raise EmitError(f"symbolic dim {sym} is not a dim of any graph input")
        return self._symbols[sym]

    def shape(self, dims: Sequence[Dim], like: tuple[str, TensorType] | None = None) -> tuple[str, bool]:
        """A shape tensor for Reshape and whether it needs ``allowzero``.

        A symbolic dim at the same position of ``like`` (the reshaped input) is written as 0,
        ONNX's "copy this dim"; others are read at run time with Shape.
        """
        literal_zero = any(d == 0 for d in dims)
        same = like[1].shape if like is not None else ()
        if all(isinstance(d, int) for d in dims):
            return self.ints(dims), literal_zero
        if not literal_zero and all(isinstance(d, int) or (i < len(same) and same[i] == d)
                                    for i, d in enumerate(dims)):
            return self.ints([d if isinstance(d, int) else 0 for d in dims]), False
        parts = [self.ints([d]) if isinstance(d, int) else self.symbol(d) for d in dims]
        return self.one("Concat", parts, axis=0), literal_zero

    def declare(self, name: str, t: TensorType) -> None:
        self.value_info.append(value_info(name, t))


def value_info(name: str, t: TensorType) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, ONNX_TYPE[DType(t.dtype)], list(t.shape))
