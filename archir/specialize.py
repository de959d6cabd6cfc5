"""Type re-inference and search-space specialisation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archir.attrs import AttrError, format_value
from archir.errors import VerifyError
from archir.ir import Graph, Module, clone_graph
from archir.opdef import OPS
from archir.ops.structure import choice_cell
from archir.types import ParamRef, SymbolRef


def infer_types(module: Module) -> Module:
    """Recompute every result type in place, in op order, from the argument types.

    A cell whose callers now pass other types is re-typed to them (all its callers must agree).
    Used after changing input shapes or attributes; raises ``VerifyError`` naming the op that
    no longer fits.
    """
    from archir.verifier import resolved_attrs

    done: set[str] = set()

    def visit(g: Graph) -> None:
        for op in g.ops:
            ins = tuple(v.type for v in op.operands)
            if op.opdef.infer is not None:
                try:
                    types = op.opdef.infer(ins, resolved_attrs(op, module))
                except ValueError as e:  # InferError, or a type with a bad dim
                    raise VerifyError(f"infer: error: '{op.name}' in @{g.name}"
                                      f"{f' ({op.loc})' if op.loc else ''}: {e}") from None
            else:
                callee = module.graphs[_callee(op, module)]
                if callee.input_types != ins:
                    if callee.name in done:
                        raise VerifyError(f"infer: error: @{callee.name} is called with "
                                          f"different types from @{g.name}")
                    for a, t in zip(callee.args, ins):
                        a.type = t
                if callee.name not in done:
                    done.add(callee.name)
                    visit(callee)
                types = callee.output_types
            for r, t in zip(op.results, types):
                r.type = t

    done.add(module.main.name)
    visit(module.main)
    for g in module.graphs.values():
        if g.name not in done:
            done.add(g.name)
            visit(g)
    return module


def _callee(op, module: Module) -> str:
    ref = op.attrs["callee" if op.name == "call" else "of"]
    if isinstance(ref, ParamRef):
        return choice_cell(module.params[ref.name].default, op.attrs["variant"])
    return ref.name


def specialize(space: Module, assignment: Mapping[str, Any]) -> Module:
    """A plain architecture: every ``$param`` fixed, every ``choice`` a call to its pick.

    Raises ``ValueError`` listing every missing, unknown or out-of-domain decision.
    """
    # A list means the tuple a domain holds: kernel [5, 5] is (5, 5).
    assignment = {name: _frozen(value) for name, value in assignment.items()}
    problems = [f"missing ${p}" for p in space.params if p not in assignment]
    problems += [f"unknown ${p}" for p in assignment if p not in space.params]
    for name, value in assignment.items():
        param = space.params.get(name)
        if param is not None and value not in param.domain and SymbolRef(str(value)) not in param.domain:
            problems.append(f"${name} = {_show(value)} is not in {_show(param.domain)}")
    if problems:
        raise ValueError("cannot specialize: " + "; ".join(problems))

    # Clone only the cells this assignment runs: a space holds every alternative.
    module = Module([clone_graph(space.graphs[n]) for n in _reachable(space, assignment)])
    for _, op in module.walk():
        for key, v in op.attrs.items():
            if not isinstance(v, ParamRef):
                continue
            value = assignment[v.name]
            if op.name == "choice":
                pick = value if isinstance(value, SymbolRef) else SymbolRef(value)
                op.opdef = OPS["call"]
                op.attrs = {"callee": SymbolRef(choice_cell(pick, op.attrs["variant"]))}
                break
            try:
                op.attrs[key] = op.opdef.attrs[key].kind(value)
            except AttrError as e:
                raise ValueError(f"cannot specialize: ${v.name} on '{op.name}': {e}") from None
    infer_types(module)
    return module


def _frozen(value: Any) -> Any:
    return tuple(_frozen(v) for v in value) if isinstance(value, (list, tuple)) else value


def _show(value: Any) -> str:
    try:
        return format_value(value)
    except TypeError:  # not an attribute value at all
        return repr(value)


def _reachable(space: Module, assignment: Mapping[str, Any]) -> list[str]:
    """Names of the graphs that ``main`` runs under ``assignment``, in the space's order."""
    seen, todo = set(), [space.main.name]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for op in space.graphs[name].ops:
            if op.name == "call":
                todo.append(op.attrs["callee"].name)
            elif op.name == "choice":
                value = assignment[op.attrs["of"].name]
                pick = value if isinstance(value, SymbolRef) else SymbolRef(value)
                todo.append(choice_cell(pick, op.attrs["variant"]))
    return [n for n in space.graphs if n in seen]
