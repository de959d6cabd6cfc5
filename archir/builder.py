"""Writing IR in Python: every declared op is a builder method.

    b = GraphBuilder("main")
    x = b.arg(TensorType("f32", ("N", 3, 32, 32)), "x")
    y = b.conv2d(x, out_channels=16, kernel=3, padding=1, name="stem")
    b.ret(b.relu(y))
    module = Module([b.graph])

Result types are inferred from the declaration; an invalid op raises ``VerifyError`` at the
line that builds it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np

import archir.ops  # noqa: F401  (registers the op set)
from archir.errors import VerifyError
from archir.ir import Graph, Kernel, Module, Operation, Value
from archir.opdef import OPS, InferError
from archir.ops.structure import choice_cell
from archir.types import ParamRef, SymbolRef, TensorType


class GraphBuilder:
    def __init__(self, name: str = "main", module: Module | None = None):
        self.graph = Graph(name)
        self.module = module
        self._kernel: Kernel | None = None

    def arg(self, type: TensorType, name: str | None = None) -> Value:
        value = Value(type, None, len(self.graph.args), name)
        self.graph.args.append(value)
        return value

    def op(
        self,
        kind: str,
        *operands: Value,
        name: str | None = None,
        loc: str | None = None,
        weights: Mapping[str, np.ndarray] | None = None,
        **attrs: Any,
    ) -> Any:
        """Append op ``kind``; returns its result, or a tuple when it has several."""
        opdef = OPS.get(kind)
        if opdef is None:
            raise VerifyError(f"unknown op '{kind}'")
        problem = opdef.check_arity(len(operands))
        if problem:
            raise VerifyError(problem)
        try:
            attrs = opdef.normalize_attrs(attrs)
            types = self._infer(kind, opdef, operands, attrs)
        except ValueError as e:  # AttrError, InferError, or a type with a bad dim
            raise VerifyError(f"cannot build '{kind}': {e}") from None
        hints = [name] if len(types) == 1 else [f"{name}.{i}" if name else None
                                                for i in range(len(types))]
        op = Operation(opdef, operands, attrs, types, loc=loc, kernel=self._kernel,
                       weights=weights, name_hints=hints)
        self.graph.ops.append(op)
        return op.results[0] if len(op.results) == 1 else op.results

    def _infer(self, kind, opdef, operands, attrs) -> tuple[TensorType, ...]:
        if opdef.infer is not None:
            if self.module is not None:
                attrs = {k: self._default(opdef, k, v) for k, v in attrs.items()}
            return tuple(opdef.infer(tuple(v.type for v in operands), attrs))
        ref = attrs["callee" if kind == "call" else "of"]
        if isinstance(ref, ParamRef):
            ref = self.module.params[ref.name].default if self.module else None
            if isinstance(ref, SymbolRef):
                ref = SymbolRef(choice_cell(ref, attrs["variant"]))
        if not isinstance(ref, SymbolRef) or self.module is None or ref.name not in self.module.graphs:
            raise InferError(f"'{kind}' needs a module holding the cell it calls")
        return self.module.graphs[ref.name].output_types

    def _default(self, opdef, key: str, value: Any) -> Any:
        if isinstance(value, ParamRef):
            return opdef.attrs[key].kind(self.module.params[value.name].default)
        return value

    @contextmanager
    def kernel(self, **attrs: Any) -> Iterator[Kernel]:
        """Ops built inside the block form one kernel region."""
        outer, self._kernel = self._kernel, Kernel(**attrs)
        try:
            yield self._kernel
        finally:
            self._kernel = outer

    def ret(self, *values: Value) -> Graph:
        self.graph.outputs = list(values)
        if self.module is not None and self.graph.name not in self.module.graphs:
            self.module.graphs[self.graph.name] = self.graph
        return self.graph

    def __getattr__(self, kind: str) -> Any:
        if kind in OPS:
            return lambda *operands, **kw: self.op(kind, *operands, **kw)
        raise AttributeError(kind)
