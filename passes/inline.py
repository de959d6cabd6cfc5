"""The ``inline`` pass: every cell call of a specialised architecture inlined into @main.

Spaces keep cells (a stage's cell is written once and called five times); graph rewrites and
per-op analyses want one graph where every op is a distinct site, so mutations work on the
flat form. Inlined values are named ``<call result>.<inner name>``.
"""

from __future__ import annotations

from dataclasses import dataclass

from archir.ir import Graph, Kernel, Module, Operation, Value
from archir.passes.base import Pass, PassContext, PassError, register


def inline_calls(module: Module) -> Module:
    """A new module whose @main holds every op of every called cell (the input is untouched).

    Raises ``ValueError`` on ``choice`` ops: specialise the space first.
    """
    for g, op in module.walk():
        if op.name == "choice":
            raise ValueError(f"@{g.name} still has a choice ({op.attrs['of']}); specialize first")
    main = module.main
    args = [Value(a.type, None, i, a.name_hint) for i, a in enumerate(main.args)]
    ops: list[Operation] = []
    outputs = _emit(module, main, args, "", ops)
    return Module([Graph("main", args, ops, outputs)])


def _emit(module: Module, g: Graph, inputs: list[Value], prefix: str, ops: list[Operation]) -> list[Value]:
    vmap: dict[Value, Value] = dict(zip(g.args, inputs))
    kernels: dict[Kernel, Kernel] = {}  # one copy per inlined site keeps regions contiguous
    for op in g.ops:
        operands = [vmap[v] for v in op.operands]
        if op.name == "call":
            hint = op.results[0].name_hint if len(op.results) == 1 else None
            inner = prefix + (hint or op.attrs["callee"].name) + "."
            vmap.update(zip(op.results, _emit(module, module.graphs[op.attrs["callee"].name],
                                              operands, inner, ops)))
            continue
        kernel = None
        if op.kernel is not None:
            kernel = kernels.get(op.kernel) or kernels.setdefault(op.kernel, Kernel(**op.kernel.attrs))
        new = Operation(op.opdef, operands, op.attrs, [r.type for r in op.results], loc=op.loc,
                        kernel=kernel, weights=op.weights,
                        name_hints=[prefix + r.name_hint if r.name_hint else None for r in op.results])
        vmap.update(zip(op.results, new.results))
        ops.append(new)
    return [vmap[v] for v in g.outputs]


@register
@dataclass(frozen=True)
class Inline(Pass):
    name = "inline"
    summary = "inline every cell call into @main (a flat graph; choices must be specialised first)"

    def run(self, module: Module, ctx: PassContext) -> bool:
        if len(module.graphs) == 1:
            return False
        try:
            flat = inline_calls(module)
        except ValueError as e:
            raise PassError(f"{self.name}: {e}") from None
        module.graphs = flat.graphs
        return True
