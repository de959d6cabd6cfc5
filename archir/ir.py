"""The IR's data: values, operations, kernel regions, graphs and modules.

Identity is the object: a ``Value`` is known by itself, never by its name; ``name_hint`` only
guides the printer. Ops sit in a graph's list in topological order. A ``Kernel`` groups
consecutive ops (fusion) and carries typed attributes (``impl``, ``latency_us``, ...).
Def-use information is computed when asked (``Graph.users``), never cached, so nothing has
to be refreshed by hand after a rewrite.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from archir.attrs import FLOAT, INT, STR, Attr, ints, one_of
from archir.opdef import OpDef
from archir.types import TensorType


class Value:
    """An SSA value: a graph argument (``owner`` is None) or an op result."""

    __slots__ = ("type", "owner", "index", "name_hint")

    def __init__(
        self,
        type: TensorType,
        owner: Operation | None = None,
        index: int = 0,
        name_hint: str | None = None,
    ):
        self.type = type
        self.owner = owner
        self.index = index
        self.name_hint = name_hint

    def __repr__(self) -> str:
        return f"<Value {self.name_hint or hex(id(self))}: {self.type}>"


class Operation:
    """One op: a declared kind applied to operand values with normalised attributes.

    ``loc`` says where the op came from (a torch module path and source line, an ONNX node);
    ``weights`` holds its learnable tensors by the names its declaration gives, when present.
    """

    __slots__ = ("opdef", "operands", "attrs", "results", "loc", "kernel", "weights")

    def __init__(
        self,
        opdef: OpDef,
        operands: Sequence[Value],
        attrs: Mapping[str, Any],
        result_types: Sequence[TensorType],
        *,
        loc: str | None = None,
        kernel: Kernel | None = None,
        weights: Mapping[str, np.ndarray] | None = None,
        name_hints: Sequence[str | None] = (),
    ):
        self.opdef = opdef
        self.operands: tuple[Value, ...] = tuple(operands)
        self.attrs: dict[str, Any] = dict(attrs)
        hints = list(name_hints) + [None] * (len(result_types) - len(name_hints))
        self.results: tuple[Value, ...] = tuple(
            Value(t, self, i, h) for i, (t, h) in enumerate(zip(result_types, hints))
        )
        self.loc = loc
        self.kernel = kernel
        self.weights: dict[str, np.ndarray] | None = dict(weights) if weights else None

    @property
    def name(self) -> str:
        return self.opdef.name

    @property
    def result(self) -> Value:
        if len(self.results) != 1:
            raise ValueError(f"'{self.name}' has {len(self.results)} results, not one")
        return self.results[0]

    def __repr__(self) -> str:
        return f"<Operation {self.name} at {hex(id(self))}>"


# Typed kernel attributes: what fusion, kernel selection and latency annotation record.
KERNEL_ATTRS: dict[str, Attr] = {
    "target": Attr(STR, doc="the hardware target the kernel was formed for"),
    "impl": Attr(STR, "", doc="the selected implementation, e.g. winograd_4x4_6x6"),
    "block": Attr(ints(), (), doc="work per thread (x, y, z, slices) of the implementation"),
    "work_group": Attr(ints(), (), doc="work-group size"),
    "precision": Attr(one_of("", "f32", "f16", "f32_f16", "int8"), ""),
    "storage": Attr(one_of("", "texture_2d", "buffer", "image_buffer"), ""),
    "latency_us": Attr(FLOAT, -1.0, doc="predicted latency; -1 until annotated"),
    "latency_std_us": Attr(FLOAT, -1.0, doc="uncertainty of latency_us; -1 when unknown"),
    "latency_source": Attr(one_of("", "measured", "imported", "analytic"), "",
                           doc="what latency_us rests on: a predictor trained on measurements taken "
                               "here, measurements imported from a device, or an analytic model"),
    "splits": Attr(INT, 1, doc="how many kernels the runtime launches for this group"),
}


class Kernel:
    """A fused group of consecutive ops that the target runs as one kernel."""

    __slots__ = ("attrs",)

    def __init__(self, /, **attrs: Any):  # `/`: a stray attribute 'self' is unknown, not a TypeError
        from archir.attrs import AttrError

        unknown = sorted(set(attrs) - set(KERNEL_ATTRS))
        if unknown:
            raise AttrError(f"kernel has no attribute {', '.join(unknown)}")
        self.attrs: dict[str, Any] = {}
        for key, decl in KERNEL_ATTRS.items():
            if key in attrs:
                try:
                    self.attrs[key] = decl.check(attrs[key])
                except AttrError as e:
                    raise AttrError(f"kernel attribute '{key}': {e}") from None
            elif decl.required:
                raise AttrError(f"kernel needs attribute '{key}'")
            else:
                self.attrs[key] = decl.default

    @property
    def impl(self) -> str:
        return self.attrs["impl"]

    @property
    def latency_us(self) -> float | None:
        value = self.attrs["latency_us"]
        return None if value < 0 else value

    def __repr__(self) -> str:
        return f"<Kernel {self.attrs['impl'] or '?'} on {self.attrs['target']}>"


class Graph:
    """A named graph: arguments, ops in topological order, and the values it returns."""

    def __init__(
        self,
        name: str,
        args: Sequence[Value] = (),
        ops: Sequence[Operation] = (),
        outputs: Sequence[Value] = (),
    ):
        self.name = name
        self.args: list[Value] = list(args)
        self.ops: list[Operation] = list(ops)
        self.outputs: list[Value] = list(outputs)

    @property
    def input_types(self) -> tuple[TensorType, ...]:
        return tuple(v.type for v in self.args)

    @property
    def output_types(self) -> tuple[TensorType, ...]:
        return tuple(v.type for v in self.outputs)

    def users(self) -> dict[Value, list[tuple[Operation, int]]]:
        """Every value's uses as (op, operand index), in op order. Computed, not cached."""
        uses: dict[Value, list[tuple[Operation, int]]] = {}
        for op in self.ops:
            for i, v in enumerate(op.operands):
                uses.setdefault(v, []).append((op, i))
        return uses

    def kernels(self) -> list[tuple[Kernel, list[Operation]]]:
        """The kernel regions in order with their ops (consecutive runs of one kernel)."""
        out: list[tuple[Kernel, list[Operation]]] = []
        for op in self.ops:
            if op.kernel is None:
                continue
            if out and out[-1][0] is op.kernel:
                out[-1][1].append(op)
            else:
                out.append((op.kernel, [op]))
        return out

    def __repr__(self) -> str:
        return f"<Graph @{self.name}: {len(self.ops)} ops>"


@dataclass(frozen=True)
class Param:
    """A search-space decision ``$name``: the values it may take (the first is the default)."""

    name: str
    domain: tuple[Any, ...]

    def __post_init__(self) -> None:
        if not self.domain:
            raise ValueError(f"param ${self.name} has an empty domain")

    @property
    def default(self) -> Any:
        return self.domain[0]


class Module:
    """Named graphs (``main`` plus cells it calls) and search-space params."""

    def __init__(
        self,
        graphs: Sequence[Graph] | Mapping[str, Graph] = (),
        params: Sequence[Param] = (),
    ):
        items = graphs.values() if isinstance(graphs, Mapping) else graphs
        self.graphs: dict[str, Graph] = {}
        for g in items:
            if g.name in self.graphs:
                raise ValueError(f"graph @{g.name} defined twice")
            self.graphs[g.name] = g
        self.params: dict[str, Param] = {p.name: p for p in params}

    @property
    def main(self) -> Graph:
        if "main" in self.graphs:
            return self.graphs["main"]
        if len(self.graphs) == 1:
            return next(iter(self.graphs.values()))
        raise KeyError("module has no @main graph")

    def walk(self) -> Iterator[tuple[Graph, Operation]]:
        for g in self.graphs.values():
            for op in g.ops:
                yield g, op

    @property
    def num_ops(self) -> int:
        return sum(len(g.ops) for g in self.graphs.values())

    def clone(self) -> Module:
        """A deep copy of the structure (new values, ops and kernels); weight arrays are shared."""
        return Module([clone_graph(g) for g in self.graphs.values()], self.params.values())

    def __str__(self) -> str:
        from archir.printer import to_text

        return to_text(self)

    def __repr__(self) -> str:
        return f"<Module {', '.join('@' + n for n in self.graphs)}: {self.num_ops} ops>"


def clone_graph(g: Graph, name: str | None = None) -> Graph:
    vmap: dict[Value, Value] = {a: Value(a.type, None, i, a.name_hint) for i, a in enumerate(g.args)}
    kmap: dict[Kernel, Kernel] = {}
    ops = []
    for op in g.ops:
        kernel = None
        if op.kernel is not None:
            kernel = kmap.get(op.kernel)
            if kernel is None:
                kernel = kmap[op.kernel] = Kernel(**op.kernel.attrs)
        new = Operation(
            op.opdef,
            [vmap.get(v, v) for v in op.operands],
            op.attrs,
            [r.type for r in op.results],
            loc=op.loc,
            kernel=kernel,
            weights=op.weights,
            name_hints=[r.name_hint for r in op.results],
        )
        vmap.update(zip(op.results, new.results))
        ops.append(new)
    return Graph(name or g.name, [vmap[a] for a in g.args], ops, [vmap.get(v, v) for v in g.outputs])
