"""``canonicalize``: no-op removal, constant folding, CSE and DCE, to a fixed point."""

from __future__ import annotations

from dataclasses import dataclass

from archir.ir import Module
from archir.passes.base import Pass, PassContext, PassError, register
from archir.passes.cleanup import eliminate_common_subexpressions, eliminate_dead_code
from archir.passes.fold_constants import FOLD_PATTERNS
from archir.passes.noop_patterns import NOOP_PATTERNS
from archir.passes.rewrite import apply_patterns_to_graph

_MAX_ROUNDS = 20


@register
@dataclass(frozen=True)
class Canonicalize(Pass):
    name = "canonicalize"
    summary = "remove no-ops, fold constants, merge common subexpressions, drop dead ops"

    fold_constants: bool = True
    cse: bool = True

    def run(self, module: Module, ctx: PassContext) -> bool:
        patterns = NOOP_PATTERNS + (FOLD_PATTERNS if self.fold_constants else ())
        changed = False
        for g in module.graphs.values():
            # CSE can expose new patterns (two equal reshapes feeding one add) and vice versa;
            # the driver leaves the patterns at a fixed point, so only a CSE/DCE change calls
            # for another round
            for _ in range(_MAX_ROUNDS):
                changed |= apply_patterns_to_graph(g, patterns)
                again = self.cse and eliminate_common_subexpressions(g)
                again |= eliminate_dead_code(g)
                changed |= again
                if not again:
                    break
            else:
                raise PassError(f"canonicalize: @{g.name} did not reach a fixed point "
                                f"in {_MAX_ROUNDS} rounds")
        return changed
