"""IR module -> Python source: one ``nn.Module`` class per graph, callees before callers.

Every ``call`` site gets its own instance of the callee's class, so a cell stacked twice
(NASNet's normal cells, a transformer's blocks) trains two sets of weights: the IR describes
an architecture, and a cell is a reusable *shape* of computation, not a tied weight. Weights
stored on a cell's ops in the IR initialise every instance alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from torch import nn

from archir.backends.torch import helpers
from archir.backends.torch.context import BackendError, Emit
from archir.backends.torch.emitters import EMITTERS
from archir.backends.torch.names import RESERVED, Scope, camel, identifier
from archir.ir import Graph, Module, Operation, Value
from archir.ops.structure import choice_cell
from archir.printer import Namer
from archir.types import ParamRef, SymbolRef, TensorType

# attribute names that would shadow nn.Module's own methods and state
_NN_MODULE_NAMES = frozenset(name for name in dir(nn.Module()) if not name.startswith("__"))
MAIN_CLASS = "Model"
LOADER = "load_weights"


@dataclass
class WeightSlot:
    """Where an op's IR weights live inside one instance of its graph's class."""

    op: Operation
    attr: str
    paths: Mapping[str, str]


@dataclass
class ClassInfo:
    graph: Graph
    name: str
    slots: list[WeightSlot] = field(default_factory=list)
    cells: list[tuple[str, str]] = field(default_factory=list)  # (attribute path, callee graph)
    source: str = ""


class ClassWriter:
    """Writes one graph as a class; emitters reach it through ``Emit`` (the ``ClassSink`` API)."""

    def __init__(self, module_writer: ModuleWriter, info: ClassInfo):
        self.mw = module_writer
        self.info = info
        self.graph = info.graph
        self.init_lines: list[str] = []
        self.attrs = Scope(RESERVED | _NN_MODULE_NAMES | {"archir_source", "select_cells"})
        self.locals = Scope(RESERVED | module_writer.global_names)
        self.printed = Namer()
        self.names: dict[Value, str] = {}
        self.bound_symbols: dict[str, str] = {}
        self.prelude: list[str] = []

    # names ---------------------------------------------------------------------------------
    def _local(self, v: Value, kind: str) -> str:
        printed = self.printed(v)
        wanted = identifier(printed) if not printed.replace(".", "").isdigit() else (
            f"{kind}_{printed.replace('.', '_')}")
        name = self.names[v] = self.locals.take(wanted)
        return name

    def _attr_name(self, op: Operation) -> str:
        printed = self.printed(op.results[0]) if op.results else op.name
        base = printed.rsplit(".", 1)[0] if len(op.results) > 1 else printed
        if base.isdigit():
            return self.attrs.take(f"{op.name}_{base}")
        return self.attrs.take(identifier(base))

    # ClassSink -----------------------------------------------------------------------------
    def add_submodule(self, op: Operation, ctor: str, weights: Mapping[str, str]) -> str:
        attr = self._attr_name(op)
        self.init_lines.append(f"self.{attr} = {ctor}")
        if op.weights:
            self.info.slots.append(WeightSlot(op, attr, dict(weights)))
        return f"self.{attr}"

    def add_buffer(self, op: Operation, init: str, persistent: bool = False) -> str:
        attr = self._attr_name(op)
        if persistent:
            self.init_lines.append(f'self.register_buffer("{attr}", {init})')
            if op.weights:
                self.info.slots.append(WeightSlot(op, attr, {name: "" for name in op.weights}))
        else:
            self.init_lines.append(f'self.register_buffer("{attr}", {init}, persistent=False)')
        return f"self.{attr}"

    def device(self) -> str:
        if not self.graph.args:
            raise BackendError(f"to_torch: @{self.graph.name} builds a tensor of symbolic shape but has "
                               "no argument to take its device from")
        return f"{self.names[self.graph.args[0]]}.device"

    def add_cell(self, op: Operation, callee: str) -> str:
        attr = self._attr_name(op)
        self.init_lines.append(f"self.{attr} = {self.mw.class_of[callee]}()")
        self.info.cells.append((attr, callee))
        return f"self.{attr}"

    def add_choice(self, op: Operation, param: str, options: dict[str, str]) -> str:
        """A supernet decision point: one instance per option (value -> cell), the active one
        picked at run time."""
        attr = self._attr_name(op)
        choice = self.mw.use_helper("Choice")
        items = ", ".join(f'"{value}": {self.mw.class_of[cell]}()' for value, cell in options.items())
        self.init_lines.append(f'self.{attr} = {choice}("{param}", {{{items}}})')
        for value, cell in options.items():
            self.info.cells.append((f"{attr}.options.{option_key(value)}", cell))
        return f"self.{attr}"

    def use_helper(self, name: str) -> str:
        return self.mw.use_helper(name)

    def param_domain(self, name: str) -> tuple:
        return self.mw.module.params[name].domain

    def symbol(self, name: str, near: list[tuple[str, TensorType]]) -> str:
        for expr, t in near:
            if name in t.shape:
                return f"{expr}.shape[{t.shape.index(name)}]"
        if name not in self.bound_symbols:
            for a in self.graph.args:
                if name in a.type.shape:
                    var = self.locals.take(name)
                    self.prelude.append(f"{var} = {self.names[a]}.shape[{a.type.shape.index(name)}]")
                    self.bound_symbols[name] = var
                    break
            else:
                raise BackendError(f"to_torch: symbol {name} in @{self.graph.name} is not a dimension of "
                                   f"any of its arguments, so its runtime value is unknown")
        return self.bound_symbols[name]

    # writing -------------------------------------------------------------------------------
    def write(self) -> str:
        g = self.graph
        params = [self._local(a, "arg") for a in g.args]
        body: list[str] = []
        for op in g.ops:
            body.append(self._op_line(op))
        outs = [self.names[v] for v in g.outputs]
        body.append("return " + ", ".join(outs))
        ret_hint = "torch.Tensor" if len(outs) == 1 else (
            "tuple[" + ", ".join(["torch.Tensor"] * len(outs)) + "]")
        signature = ", ".join(f"{p}: torch.Tensor" for p in params)
        doc = (f"@{g.name}({', '.join(f'{p}: {a.type}' for p, a in zip(params, g.args))}) -> "
               f"({', '.join(str(t) for t in g.output_types)})")
        lines = [f"class {self.info.name}(nn.Module):", f'    """{doc}"""', ""]
        if self.init_lines:
            lines += ["    def __init__(self) -> None:", "        super().__init__()"]
            lines += ["        " + line for line in self.init_lines]
            lines.append("")
        lines.append(f"    def forward(self, {signature}) -> {ret_hint}:" if signature
                     else f"    def forward(self) -> {ret_hint}:")
        lines += ["        " + line for line in self.prelude + body]
        return "\n".join(lines) + "\n"

    def _op_line(self, op: Operation) -> str:
        args = [self.names[v] for v in op.operands]
        emitter = EMITTERS.get(op.name)
        if emitter is None:
            raise BackendError(f"to_torch: no emitter for op '{op.name}'")
        for key, value in op.attrs.items():
            if isinstance(value, ParamRef) and op.name != "choice":
                raise BackendError(
                    f"to_torch: '{op.name}' in @{self.graph.name} has attribute {key} = ${value.name}, "
                    f"a search-space decision; fix it first with archir.specialize(module, {{...}})")
        # name results before emitting so the op's own attribute name follows its printed name
        for r in op.results:
            self.printed(r)
        expr = emitter(Emit(op, args, self))
        results = [self._local(r, op.name) for r in op.results]
        types = ", ".join(str(r.type) for r in op.results)
        return f"{', '.join(results)} = {expr}  # {types}"


class ModuleWriter:
    """Orders the graphs, names their classes, writes them and the helpers they use."""

    def __init__(self, module: Module):
        self.module = module
        self.used_helpers: list[str] = []
        self.global_names = frozenset(helpers.HELPERS) | {MAIN_CLASS, LOADER}
        self.order = self._order()
        scope = Scope(RESERVED | self.global_names)
        self.class_of: dict[str, str] = {}
        for name in self.order:
            self.class_of[name] = MAIN_CLASS if name == module.main.name else scope.take(camel(name))
        self.classes: dict[str, ClassInfo] = {}

    def _order(self) -> list[str]:
        """Graphs reachable from main, every callee before its callers."""
        order: list[str] = []

        def visit(name: str) -> None:
            if name in order:
                return
            for op in self.module.graphs[name].ops:
                for callee in callees(op, self.module):
                    visit(callee)
            order.append(name)

        visit(self.module.main.name)
        return order

    def use_helper(self, name: str) -> str:
        for dep in helpers.requires(name):
            if dep not in self.used_helpers:
                self.used_helpers.append(dep)
        return name

    def write(self) -> str:
        for name in self.order:
            info = self.classes[name] = ClassInfo(self.module.graphs[name], self.class_of[name])
            info.source = ClassWriter(self, info).write()
        graphs = ", ".join("@" + n for n in self.order)
        parts = [
            f"# Generated by archir from {graphs} ({self.module.num_ops} ops). Plain PyTorch: edit freely.",
            "# Weights: load_weights(model, 'weights.npz') reads an archir .npz export (needs numpy).",
            "from __future__ import annotations",
            "",
        ]
        body = [helpers.source(h) for h in sorted(self.used_helpers, key=helpers.order_key)]
        body += [self.classes[n].source for n in self.order]
        body.append(helpers.source(LOADER))
        text = "\n\n".join(body)
        imports = (["import math", ""] if "math." in text else []) + [
            "import torch", "import torch.nn.functional as F", "from torch import nn"]
        return "\n".join(parts + imports) + "\n\n\n" + text


def option_key(graph_name: str) -> str:
    """The ``nn.ModuleDict`` key of a choice option (keys may not contain dots)."""
    return graph_name.replace(".", "_")


def callees(op: Operation, module: Module) -> list[str]:
    if op.name == "call":
        return [op.attrs["callee"].name]
    if op.name == "choice":
        ref = op.attrs["of"]
        return [choice_cell(c, op.attrs["variant"]) for c in module.params[ref.name].domain
                if isinstance(c, SymbolRef)]
    return []
