"""The verifier: a total check of a module, derived from the op declarations.

It re-infers every op's result types (search-space params at their default values), checks
SSA dominance, attributes, kernel regions, weights, cell calls and choices, and reports the
first problem with the op shown in printed context.
"""

from __future__ import annotations

from typing import Any

import archir.ops  # noqa: F401  (registers the op set)
from archir.attrs import AttrError
from archir.errors import VerifyError
from archir.ir import KERNEL_ATTRS, Graph, Module, Operation
from archir.opdef import OPS, InferError
from archir.ops.structure import choice_cell
from archir.printer import Namer, format_op
from archir.types import ParamRef, SymbolRef


def _context(g: Graph, bad: Operation, radius: int = 3) -> str:
    name = Namer()
    for a in g.args:
        name(a)
    lines = [format_op(op, name) for op in g.ops]
    at = next(i for i, op in enumerate(g.ops) if op is bad)
    shown = [
        (">>  " if i == at else "    ") + lines[i]
        for i in range(max(0, at - radius), min(len(lines), at + radius + 1))
    ]
    return f"  in graph @{g.name}, op #{at}:\n" + "\n".join(shown)


def resolved_attrs(op: Operation, module: Module) -> dict[str, Any]:
    """The op's attributes with every ``$param`` at its default value."""
    attrs = op.attrs
    if not any(isinstance(v, ParamRef) for v in attrs.values()):
        return attrs
    out = dict(attrs)
    for key, v in attrs.items():
        if isinstance(v, ParamRef):
            out[key] = op.opdef.attrs[key].kind(module.params[v.name].default)
    return out


class _Verifier:
    def __init__(self, module: Module):
        self.module = module

    def fail(self, g: Graph, op: Operation, message: str) -> VerifyError:
        return VerifyError(f"verify: error: '{op.name}': {message}", _context(g, op))

    def run(self) -> None:
        m = self.module
        if not m.graphs:
            raise VerifyError("verify: error: module has no graphs")
        if "main" not in m.graphs and len(m.graphs) > 1:
            raise VerifyError("verify: error: a module with several graphs needs @main")
        for g in m.graphs.values():
            self.graph(g)
        self.acyclic_calls()

    def graph(self, g: Graph) -> None:
        defined = set()
        for i, a in enumerate(g.args):
            if a.owner is not None or a in defined:
                raise VerifyError(f"verify: error: argument {i} of @{g.name} is not a fresh value")
            defined.add(a)
        current, closed = None, set()
        for op in g.ops:
            if op.kernel is not current:
                closed.add(current)
                if op.kernel is not None and op.kernel in closed:
                    raise self.fail(g, op, "its kernel region is not contiguous")
                current = op.kernel
            self.op(g, op, defined)
            defined.update(op.results)
        if not g.outputs:
            raise VerifyError(f"verify: error: @{g.name} returns nothing")
        for v in g.outputs:
            if v not in defined:
                raise VerifyError(f"verify: error: @{g.name} returns a value it does not define")

    def op(self, g: Graph, op: Operation, defined: set) -> None:
        d = op.opdef
        if OPS.get(d.name) is not d:
            raise self.fail(g, op, "is not a declared op")
        problem = d.check_arity(len(op.operands))
        if problem:
            raise self.fail(g, op, problem)
        for i, v in enumerate(op.operands):
            if v not in defined:
                raise self.fail(g, op, f"operand {i} is not defined before this op in @{g.name}")
        self.attrs(g, op)
        for i, r in enumerate(op.results):
            if r.owner is not op or r.index != i:
                raise self.fail(g, op, f"result {i} does not belong to this op")
        attrs = resolved_attrs(op, self.module)
        ins = tuple(v.type for v in op.operands)
        if d.infer is not None:
            try:
                inferred = d.infer(ins, attrs)
            except ValueError as e:  # InferError, or a type with a bad dim (out_channels = -1)
                raise self.fail(g, op, str(e)) from None
            self.expect_types(g, op, inferred)
        else:
            self.call_like(g, op)
        if op.weights is not None:
            self.weights(g, op, ins, attrs)

    def attrs(self, g: Graph, op: Operation) -> None:
        decls = op.opdef.attrs
        if set(op.attrs) != set(decls):
            missing = sorted(set(decls) - set(op.attrs))
            extra = sorted(set(op.attrs) - set(decls))
            raise self.fail(g, op, f"attributes missing {missing}, unknown {extra}")
        for key, value in op.attrs.items():
            decl = decls[key]
            try:
                if isinstance(value, ParamRef):
                    param = self.module.params.get(value.name)
                    if param is None:
                        raise AttrError(f"undeclared param ${value.name}")
                    for choice in param.domain:
                        decl.kind(choice)
                else:
                    normalised = decl.check(value)
                    # `is` first: nan is normalised but never equal to itself
                    if normalised is not value and normalised != value:
                        raise AttrError(f"value {value!r} is not normalised")
            except AttrError as e:
                raise self.fail(g, op, f"attribute '{key}': {e}") from None
        if op.kernel is not None:
            for key, decl in KERNEL_ATTRS.items():
                try:
                    decl.check(op.kernel.attrs.get(key))
                except AttrError as e:
                    raise self.fail(g, op, f"kernel attribute '{key}': {e}") from None

    def expect_types(self, g: Graph, op: Operation, inferred) -> None:
        actual = [r.type for r in op.results]
        if list(inferred) != actual:
            shown = ", ".join(map(str, inferred))
            raise self.fail(
                g, op, f"result type {', '.join(map(str, actual))} does not match the "
                f"inferred {shown}")

    def callees(self, g: Graph, op: Operation) -> list[str]:
        attr = op.attrs["callee" if op.name == "call" else "of"]
        if op.name == "call":
            if isinstance(attr, ParamRef):
                raise self.fail(g, op, "callee must be a cell (@name), use 'choice' for a $param")
            return [attr.name]
        if not isinstance(attr, ParamRef):
            raise self.fail(g, op, "'of' must name a $param whose domain lists the cells")
        domain = self.module.params[attr.name].domain
        if not all(isinstance(c, SymbolRef) for c in domain):
            raise self.fail(g, op, f"${attr.name} must list cells (@name)")
        if not isinstance(op.attrs["variant"], str):
            raise self.fail(g, op, "'variant' must be a string, not a $param")
        return [choice_cell(c, op.attrs["variant"]) for c in domain]

    def call_like(self, g: Graph, op: Operation) -> None:
        for name in self.callees(g, op):
            callee = self.module.graphs.get(name)
            if callee is None:
                raise self.fail(g, op, f"calls undefined graph @{name}")
            ins = [v.type for v in op.operands]
            if list(callee.input_types) != ins:
                raise self.fail(
                    g, op, f"operand types ({', '.join(map(str, ins))}) do not match @{name}'s "
                    f"arguments ({', '.join(map(str, callee.input_types))})")
            self.expect_types(g, op, callee.output_types)

    def weights(self, g: Graph, op: Operation, ins, attrs) -> None:
        try:
            want = op.opdef.params(ins, attrs) if op.opdef.params else {}
        except InferError as e:  # e.g. layer_norm weights over a symbolic dim
            raise self.fail(g, op, f"weights: {e}") from None
        have = {k: tuple(w.shape) for k, w in op.weights.items()}
        if have != {k: tuple(s) for k, s in want.items()}:
            raise self.fail(g, op, f"weights {have} do not match the declared {want}")

    def acyclic_calls(self) -> None:
        edges = {
            name: {c for op in g.ops if op.opdef.infer is None
                   for c in self.callees(g, op)}
            for name, g in self.module.graphs.items()
        }
        state: dict[str, int] = {}

        def visit(name: str, path: list[str]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                raise VerifyError("verify: error: recursive cell calls: " + " -> ".join(
                    "@" + p for p in path + [name]))
            state[name] = 1
            for callee in sorted(edges.get(name, ())):
                visit(callee, path + [name])
            state[name] = 2

        for name in edges:
            visit(name, [])


def verify(module: Module) -> None:
    """Raise ``VerifyError`` naming the first invalid op, shown in printed context."""
    _Verifier(module).run()
