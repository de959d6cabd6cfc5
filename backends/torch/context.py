"""What an emitter sees of the class being written: its op, operand expressions and the means to
declare submodules, buffers, helpers and shapes. Emitters return the Python expression that
computes the op's result (a tuple expression when the op has several)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from archir.ir import Operation
from archir.types import Dim, DType, TensorType


class BackendError(ValueError):
    """The module cannot be emitted as PyTorch source; the message says why and what to do."""


TORCH_DTYPE = {
    DType.F64: "torch.float64", DType.F32: "torch.float32", DType.F16: "torch.float16",
    DType.BF16: "torch.bfloat16", DType.I64: "torch.int64", DType.I32: "torch.int32",
    DType.I8: "torch.int8", DType.U8: "torch.uint8", DType.BOOL: "torch.bool",
}


class ClassSink(Protocol):
    """The part of the class writer that emitters talk to (see ``codegen.ClassWriter``)."""

    def add_submodule(self, op: Operation, ctor: str, weights: Mapping[str, str]) -> str: ...

    def add_buffer(self, op: Operation, init: str, persistent: bool = False) -> str: ...

    def device(self) -> str: ...

    def use_helper(self, name: str) -> str: ...

    def symbol(self, name: str, near: list[tuple[str, TensorType]]) -> str: ...

    def add_cell(self, op: Operation, callee: str) -> str: ...

    def add_choice(self, op: Operation, param: str, options: dict[str, str]) -> str: ...

    def param_domain(self, name: str) -> tuple[Any, ...]: ...


@dataclass
class Emit:
    op: Operation
    args: list[str]
    sink: ClassSink = field(repr=False)

    @property
    def attrs(self) -> dict[str, Any]:
        return self.op.attrs

    def __getitem__(self, key: str) -> Any:
        return self.op.attrs[key]

    @property
    def x(self) -> str:
        return self.args[0]

    def in_type(self, i: int = 0) -> TensorType:
        return self.op.operands[i].type

    def out_type(self, i: int = 0) -> TensorType:
        return self.op.results[i].type

    def submodule(self, ctor: str, weights: Mapping[str, str] | None = None) -> str:
        """Declare ``self.<name> = ctor`` in ``__init__``; ``weights`` maps the op's IR weight
        names to attribute paths inside the submodule ("" is the attribute itself)."""
        if weights is None:
            weights = {k: k for k in self.declared_weights()}
        return self.sink.add_submodule(self.op, ctor, weights)

    def buffer(self, init: str, persistent: bool = False) -> str:
        """A buffer built once in ``__init__`` (moves with ``.to(device)``); a persistent one is
        in the state dict and holds the op's single weight."""
        return self.sink.add_buffer(self.op, init, persistent)

    def helper(self, name: str) -> str:
        """Include the named runtime helper in the generated file; returns the name to call."""
        return self.sink.use_helper(name)

    def declared_weights(self) -> list[str]:
        decl = self.op.opdef.params
        if decl is None:
            return []
        return list(decl(tuple(v.type for v in self.op.operands), self.op.attrs))

    def dim(self, d: Dim) -> str:
        """A dimension as an expression: a literal, or a symbol read from a runtime shape."""
        if isinstance(d, int):
            return str(d)
        near = [(a, v.type) for a, v in zip(self.args, self.op.operands)]
        return self.sink.symbol(d, near)

    def shape(self, shape: tuple[Dim, ...]) -> str:
        return tuple_expr([self.dim(d) for d in shape])

    def dtype_kw(self, dtype: DType, default: DType = DType.F32) -> str:
        """``, dtype=torch.float16`` when it differs from PyTorch's default, else nothing."""
        return "" if dtype == default else f", dtype={TORCH_DTYPE[dtype]}"

    def fail(self, message: str) -> BackendError:
        where = f" ({self.op.loc})" if self.op.loc else ""
        return BackendError(f"to_torch: '{self.op.name}'{where}: {message}")


Emitter = Callable[[Emit], str]


def tuple_expr(items: list[str] | tuple[Any, ...]) -> str:
    """Python tuple syntax, the 1-tuple included: ``(3,)``."""
    items = [str(i) for i in items]
    if not items:
        return "()"
    return f"({items[0]},)" if len(items) == 1 else "(" + ", ".join(items) + ")"


def literal(v: Any) -> str:
    """A Python literal for an attribute value (infinities and NaN spelled out)."""
    if isinstance(v, float):
        if v != v:
            return 'float("nan")'
        if v in (float("inf"), float("-inf")):
            return 'float("inf")' if v > 0 else 'float("-inf")'
        return repr(v)
    if isinstance(v, tuple):
        return tuple_expr([literal(x) for x in v])
    return repr(v)
