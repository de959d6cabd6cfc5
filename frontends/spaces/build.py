"""Helpers the spaces share to write choice IR: declaring params, building each cell once,
and the conv-bn-activation sequences every CNN space is made of."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from archir.builder import GraphBuilder
from archir.ir import Module, Param, Value
from archir.types import DType, ParamRef, SymbolRef, TensorType

Body = Callable[..., Value | Sequence[Value]]


class SpaceBuilder:
    """Accumulates the params and cells of one space module."""

    def __init__(self) -> None:
        self.module = Module()

    def param(self, name: str, domain: Sequence[Any]) -> ParamRef:
        """Declare ``$name`` (again: a no-op when the domain is the same, as when two depth
        tails both hold block 2)."""
        existing = self.module.params.get(name)
        if existing is not None and existing.domain != tuple(domain):
            raise ValueError(f"param ${name} declared twice with different domains")
        self.module.params[name] = Param(name, tuple(domain))
        return ParamRef(name)

    def cells(self, names: Sequence[str]) -> tuple[SymbolRef, ...]:
        return tuple(SymbolRef(n) for n in names)

    def cell(self, name: str, inputs: Sequence[TensorType], body: Body) -> str:
        """Build cell ``@name`` from ``body(builder, *args)`` unless it exists; returns the name.

        An existing cell must have the same input types (each cell has one signature).
        """
        existing = self.module.graphs.get(name)
        if existing is not None:
            if list(existing.input_types) != list(inputs):
                raise ValueError(f"cell @{name} exists with inputs {existing.input_types}, "
                                 f"not {tuple(inputs)}")
            return name
        b = GraphBuilder(name, self.module)
        args = [b.arg(t, f"x{i}" if len(inputs) > 1 else "x") for i, t in enumerate(inputs)]
        out = body(b, *args)
        b.ret(*([out] if isinstance(out, Value) else out))
        return name

    def main(self, inputs: Sequence[tuple[str, TensorType]], body: Body) -> Module:
        """Build @main and return the module with @main printed first."""
        b = GraphBuilder("main", self.module)
        args = [b.arg(t, n) for n, t in inputs]
        out = body(b, *args)
        b.ret(*([out] if isinstance(out, Value) else out))
        graphs = self.module.graphs
        self.module.graphs = {"main": graphs["main"], **{k: g for k, g in graphs.items() if k != "main"}}
        return self.module


def image(channels: int, size: int, dtype: DType = DType.F32) -> TensorType:
    return TensorType(dtype, ("N", channels, size, size))


def channels(v: Value) -> int:
    return v.type.shape[1]


def conv_bn(b: GraphBuilder, x: Value, out: int, kernel: Any, *, stride: int = 1, groups: int = 1,
            dilation: int = 1, act: str | None = None, pre_act: str | None = None,
            padding: Any = None, name: str | None = None) -> Value:
    """[pre_act] conv (no bias) bn [act]: the unit of NAS-Bench-201, DARTS and MobileNets."""
    if pre_act:
        x = b.op(pre_act, x)
    if padding is None:
        padding = "same" if isinstance(kernel, ParamRef) else _half(kernel, dilation)
    y = b.conv2d(x, out_channels=out, kernel=kernel, stride=stride, padding=padding, dilation=dilation,
                 groups=groups, bias=False, name=name)
    y = b.batch_norm(y)
    return b.op(act, y) if act else y


def _half(kernel: Any, dilation: int) -> list[int]:
    ks = [kernel, kernel] if isinstance(kernel, int) else list(kernel)
    return [(k - 1) * dilation // 2 for k in ks]


def make_divisible(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    """The channel rounding of MobileNetV2/V3, OFA and ProxylessNAS (keeps >= 90% of v)."""
    min_value = min_value or divisor
    new = max(min_value, int(v + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * v else new
