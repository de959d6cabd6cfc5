"""Conversion state: ONNX names bound to IR values or folded constants, and node helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
from onnx import helper

from archir.builder import GraphBuilder
from archir.frontends.errors import FrontendError
from archir.frontends.onnx.dtypes import from_numpy, to_numpy
from archir.ir import Value
from archir.names import claim
from archir.types import Dim, TensorType

_NOT_SYMBOL = re.compile(r"[^A-Za-z0-9_]")


@dataclass
class Node:
    """One ONNX node with its attributes decoded to Python values."""

    proto: onnx.NodeProto
    attrs: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.attrs = {}
        for a in self.proto.attribute:
            v = helper.get_attribute_value(a)
            if a.type == onnx.AttributeProto.FLOAT:
                v = f32_float(v)
            elif a.type == onnx.AttributeProto.FLOATS:
                v = [f32_float(x) for x in v]
            elif isinstance(v, bytes):
                v = v.decode()
            elif isinstance(v, list) and v and isinstance(v[0], bytes):
                v = [x.decode() for x in v]
            self.attrs[a.name] = v

    @property
    def op_type(self) -> str:
        return self.proto.op_type

    @property
    def inputs(self) -> list[str]:
        return list(self.proto.input)

    @property
    def outputs(self) -> list[str]:
        return list(self.proto.output)

    @property
    def loc(self) -> str:
        return f"{self.proto.name or self.proto.output[0]} ({self.op_type})"

    def attr(self, key: str, default: Any = None) -> Any:
        return self.attrs.get(key, default)

    def input(self, i: int) -> str:
        """The i-th input name; "" when the optional input is absent."""
        return self.proto.input[i] if i < len(self.proto.input) else ""


def hint(name: str) -> str:
    """A readable IR name hint from an ONNX tensor name ("/layer1/conv/Conv_output_0")."""
    name = name.strip("/").replace("::", ".").replace("/", ".")
    return name.removesuffix("_output_0")


class Symbols:
    """ONNX dim_params mapped to valid, distinct IR symbols, plus fresh ones for unnamed dims."""

    def __init__(self) -> None:
        self.map: dict[str, str] = {}
        self._taken: set[str] = set()

    def __call__(self, dim_param: str) -> str:
        if dim_param not in self.map:
            sym = _NOT_SYMBOL.sub("_", dim_param) or "d"
            self.map[dim_param] = self._claim("d" + sym if sym[0].isdigit() else sym)
        return self.map[dim_param]

    def fresh(self) -> str:
        return self._claim("unk")

    def _claim(self, base: str) -> str:
        return claim(base, self._taken)


InferredShape = tuple[int | str | None, ...] | None


class Context:
    def __init__(self, opset: int, builder: GraphBuilder, info: dict[str, tuple[int, InferredShape]],
                 consumers: dict[str, list[Node]], graph_outputs: set[str], symbols: Symbols):
        self.opset = opset
        self.b = builder
        self.info = info
        self.consumers = consumers
        self.graph_outputs = graph_outputs
        self.symbols = symbols
        self.values: dict[str, Value] = {}
        self.consts: dict[str, np.ndarray] = {}
        self.skip: set[int] = set()  # ids of nodes a fused pattern already converted

    # errors -------------------------------------------------------------------------------
    @staticmethod
    def error(node: Node, message: str) -> FrontendError:
        return FrontendError(f"ONNX node {node.loc}: {message}")

    # constants ----------------------------------------------------------------------------
    def const(self, name: str) -> np.ndarray | None:
        return self.consts.get(name) if name else None

    def need_const(self, node: Node, i: int, what: str) -> np.ndarray:
        value = self.const(node.input(i))
        if value is None:
            raise self.error(node, f"{what} (input {i}, '{node.input(i)}') must be a constant "
                                   "(an initializer or a foldable subgraph)")
        return value

    def scalar(self, node: Node, i: int, what: str, default: float) -> float:
        """A constant scalar input as a float (float32 at its shortest: 0.1, not 0.100000001)."""
        if not node.input(i):
            return default
        value = self.need_const(node, i, what).reshape(-1)
        if value.size != 1:
            raise self.error(node, f"{what} must be one value, got {value.size}")
        return f32_float(value[0]) if value.dtype == np.float32 else float(value[0])

    def ints(self, node: Node, i: int, what: str) -> list[int] | None:
        """A constant integer input as a list; None when the optional input is absent."""
        if not node.input(i):
            return None
        return [int(v) for v in self.need_const(node, i, what).reshape(-1)]

    # values -------------------------------------------------------------------------------
    def value(self, name: str, node: Node | None = None) -> Value:
        """The IR value of ``name``; a folded constant becomes a constant/parameter op."""
        v = self.values.get(name)
        if v is None:
            array = self.consts.get(name)
            if array is None:
                where = f"ONNX node {node.loc}: " if node else ""
                raise FrontendError(f"{where}uses '{name}', which nothing before it defines")
            if array.dtype == object:
                where = f"ONNX node {node.loc}: " if node else ""
                raise FrontendError(f"{where}'{name}' = {list(array.reshape(-1))} holds symbolic dims; "
                                    "only shape inputs (Reshape, Expand, ...) may")
            v = self.values[name] = self.materialize(array, name)
        return v

    def materialize(self, array: np.ndarray, name: str | None = None, like: Value | None = None) -> Value:
        """A constant as IR: a ``constant`` op when every element is one exactly representable
        float (it survives the text round trip), else a ``parameter`` holding the array."""
        array = np.asarray(array)
        if like is not None:
            array = array.astype(to_numpy(like.type.dtype))
        dtype = from_numpy(array.dtype, name or "constant")
        label = hint(name) if name else None
        flat = array.reshape(-1)
        if flat.size and (flat == flat[0]).all() and _exact_float(flat[0]):
            value = f32_float(flat[0]) if array.dtype == np.float32 else float(flat[0])
            return self.b.constant(value=value, dtype=dtype, shape=array.shape, name=label)
        return self.b.parameter(shape=array.shape, dtype=dtype, weights={"value": array}, name=label)

    def bind(self, name: str, value: Value) -> None:
        if name:
            self.values[name] = value

    def emit(self, node: Node, kind: str, *operands: Value, out: int = 0,
             weights: dict[str, np.ndarray] | None = None, named: bool = True, **attrs: Any) -> Any:
        """Build one IR op for ``node``; its result is named after output ``out``."""
        name = hint(node.outputs[out]) if named and node.outputs else None
        return self.b.op(kind, *operands, name=name, loc=node.loc, weights=weights, **attrs)

    def used(self, name: str) -> bool:
        return bool(name) and (name in self.graph_outputs or bool(self.consumers.get(name)))

    def inferred(self, name: str) -> tuple[Dim, ...] | None:
        """ONNX shape inference's shape for ``name`` when every dim is known."""
        entry = self.info.get(name)
        if entry is None or entry[1] is None or any(d is None for d in entry[1]):
            return None
        return tuple(self.symbols(d) if isinstance(d, str) else d for d in entry[1])

    def type_of(self, name: str) -> TensorType:
        return self.value(name).type


def f32_float(v: Any) -> float:
    """The shortest float that is the same float32: 1e-05, not 9.999999747378752e-06."""
    return float(str(np.float32(v)))


def _exact_float(v: Any) -> bool:
    """Whether a Python float holds ``v`` exactly (not NaN; not a huge int64)."""
    return not np.isnan(float(v)) and float(v) == v
