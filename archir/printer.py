"""Deterministic printer for the generic text syntax (the inverse of ``archir.parser``).

Names exist only here: a value prints as its hint when it has a usable, unused one, else as
the next number. Attributes print in declaration order, defaults omitted.
"""

from __future__ import annotations

import math
import re

from archir.attrs import format_value
from archir.ir import KERNEL_ATTRS, Graph, Module, Operation, Value
from archir.names import claim

_BAD_CHARS = re.compile(r"[^A-Za-z0-9_.]")


class Namer:
    """Assigns each value of one graph its printed name."""

    def __init__(self) -> None:
        self.names: dict[Value, str] = {}
        self._taken: set[str] = set()
        self._next = 0

    def __call__(self, v: Value) -> str:
        name = self.names.get(v)
        if name is None:
            name = self.names[v] = self._fresh(v.name_hint)
        return name

    def _fresh(self, hint: str | None) -> str:
        if hint:
            hint = _BAD_CHARS.sub("_", hint)
        if not hint or hint.isdigit():
            while str(self._next) in self._taken:
                self._next += 1
            hint = str(self._next)
            self._next += 1
        return claim(hint, self._taken)


def _differs(value: object, default: object) -> bool:
    # -0.0 == 0.0, yet it prints and hashes differently: omitting it would read back as 0.0.
    return value != default or (type(value) is float and math.copysign(1.0, value) != math.copysign(
        1.0, default))


def format_attrs(attrs: dict, decls: dict) -> str:
    parts = [
        f"{key} = {format_value(attrs[key])}"
        for key, decl in decls.items()
        if key in attrs and (decl.required or _differs(attrs[key], decl.default))
    ]
    return " {" + ", ".join(parts) + "}" if parts else ""


def format_op(op: Operation, name: Namer) -> str:
    results = ", ".join("%" + name(r) for r in op.results)
    operands = ", ".join("%" + name(v) for v in op.operands)
    types = ", ".join(str(r.type) for r in op.results)
    loc = f" loc({format_value(op.loc)})" if op.loc is not None else ""
    attrs = format_attrs(op.attrs, op.opdef.attrs)
    return f"{results} = {op.name}({operands}){attrs} : {types}{loc}"


def print_graph(g: Graph, lines: list[str]) -> Namer:
    name = Namer()
    args = ", ".join(f"%{name(a)}: {a.type}" for a in g.args)
    outs = ", ".join(str(v.type) for v in g.outputs)
    lines.append(f"graph @{g.name}({args}) -> ({outs}) {{")
    open_kernel = None
    for op in g.ops:
        if op.kernel is not open_kernel:
            if open_kernel is not None:
                lines.append("  }")
            if op.kernel is not None:
                lines.append(f"  kernel{format_attrs(op.kernel.attrs, KERNEL_ATTRS)} {{")
            open_kernel = op.kernel
        indent = "    " if open_kernel is not None else "  "
        lines.append(indent + format_op(op, name))
    if open_kernel is not None:
        lines.append("  }")
    lines.append("  return " + ", ".join("%" + name(v) for v in g.outputs))
    lines.append("}")
    return name


def print_module(module: Module) -> tuple[str, dict[str, Namer]]:
    """The module's text and, per graph, the names its values were printed with."""
    lines: list[str] = []
    for p in module.params.values():
        lines.append(f"param ${p.name} = {format_value(p.domain)}")
    namers = {}
    for g in module.graphs.values():
        if lines:
            lines.append("")
        namers[g.name] = print_graph(g, lines)
    return "\n".join(lines) + "\n", namers


def to_text(module: Module) -> str:
    return print_module(module)[0]
