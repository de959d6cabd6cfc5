"""Pattern rewrites and the worklist driver that applies them to a fixed point.

A ``Pattern`` is a small object: a name, the op kinds it is rooted at, and a function
``rewrite(op, rw) -> bool`` that either leaves the IR alone (False) or changes it through the
``Rewriter`` (True). The driver indexes patterns by op kind, keeps its own use lists for the
run (``Graph.users`` is computed, not cached, so a long rewrite loop cannot afford it),
revisits the ops a rewrite touched, erases ops that became dead, and stops when no pattern
applies anywhere.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from archir.attrs import AttrError
from archir.ir import Graph, Module, Operation, Value
from archir.opdef import OPS, InferError
from archir.passes.base import PassError

Rewrite = Callable[[Operation, "Rewriter"], bool]


@dataclass(frozen=True)
class Pattern:
    name: str
    kinds: tuple[str, ...]
    rewrite: Rewrite

    def __repr__(self) -> str:
        return f"<Pattern {self.name} on {', '.join(self.kinds)}>"


def pattern(name: str, *kinds: str) -> Callable[[Rewrite], Pattern]:
    """Decorator: ``@pattern("drop-identity", "identity", "dropout")`` over a rewrite function."""
    unknown = [k for k in kinds if k not in OPS]
    if unknown:
        raise ValueError(f"pattern '{name}' is rooted at undeclared ops {unknown}")
    return lambda fn: Pattern(name, tuple(kinds), fn)


class Rewriter:
    """Mutations a pattern may make, with the driver's use lists kept up to date."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self._uses: dict[Value, list[Operation]] = {}
        for op in graph.ops:
            for v in op.operands:
                self._uses.setdefault(v, []).append(op)
        self._outputs = Counter(graph.outputs)
        self._erased: set[Operation] = set()
        self._before: dict[Operation, list[Operation]] = {}
        self._queue: deque[Operation] = deque()
        self._queued: set[Operation] = set()
        for op in graph.ops:
            self.revisit(op)

    # queries --------------------------------------------------------------------------------
    def users(self, v: Value) -> list[Operation]:
        """Ops using ``v`` (an op using it twice appears twice)."""
        return list(self._uses.get(v, ()))

    def is_output(self, v: Value) -> bool:
        return self._outputs[v] > 0

    def num_uses(self, v: Value) -> int:
        return len(self._uses.get(v, ())) + self._outputs[v]

    def sole_user(self, v: Value) -> Operation | None:
        """The one op using ``v`` once, when ``v`` has no other use and is not returned."""
        uses = self._uses.get(v, ())
        return uses[0] if len(uses) == 1 and not self._outputs[v] else None

    def producer(self, v: Value) -> Operation | None:
        return v.owner if v.owner is not None and v.owner not in self._erased else None

    def is_dead(self, op: Operation) -> bool:
        return not any(self.num_uses(r) for r in op.results)

    # mutations ------------------------------------------------------------------------------
    def create(self, kind: str, operands: Sequence[Value], attrs: Mapping[str, Any] | None = None, *,
               before: Operation, name: str | None = None,
               weights: Mapping[str, np.ndarray] | None = None, loc: str | None = None) -> Operation:
        """A new op of ``kind`` placed before ``before``; its result types are inferred."""
        opdef = OPS[kind]
        try:
            norm = opdef.normalize_attrs(dict(attrs or {}))
            if opdef.infer is None:
                raise InferError(f"'{kind}' cannot be created by a pattern")
            types = opdef.infer(tuple(v.type for v in operands), norm)
        except (AttrError, InferError) as e:
            raise PassError(f"a rewrite built an invalid '{kind}': {e}") from None
        op = Operation(opdef, operands, norm, types, loc=loc if loc is not None else before.loc,
                       kernel=before.kernel, weights=weights, name_hints=[name] if name else ())
        for v in operands:
            self._uses.setdefault(v, []).append(op)
        self._before.setdefault(before, []).append(op)
        self.revisit(op)
        return op

    def copy_op(self, op: Operation, changes: Mapping[str, Any] | None = None, *, before: Operation,
                weights: Mapping[str, np.ndarray] | None = None, same_types: bool = False) -> Operation:
        """A copy of ``op`` (same operands) with some attributes changed, placed before ``before``.

        Only the changed attributes are checked: the rest are already normalised. With
        ``same_types`` the caller vouches that the change cannot alter the result types (a conv's
        bias flag), which saves re-inference; the verifier still checks it when asked.
        """
        attrs = dict(op.attrs)
        try:
            for key, value in (changes or {}).items():
                decl = op.opdef.attrs.get(key)
                if decl is None:
                    raise AttrError(f"'{op.name}' has no attribute '{key}'")
                attrs[key] = decl.check(value)
            types = ([r.type for r in op.results] if same_types
                     else op.opdef.infer(tuple(v.type for v in op.operands), attrs))
        except (AttrError, InferError) as e:
            raise PassError(f"a rewrite built an invalid '{op.name}': {e}") from None
        new = Operation(op.opdef, op.operands, attrs, types, loc=op.loc, kernel=before.kernel,
                        weights=weights, name_hints=[r.name_hint for r in op.results])
        for v in new.operands:
            self._uses.setdefault(v, []).append(new)
        self._before.setdefault(before, []).append(new)
        self.revisit(new)
        return new

    def replace_uses(self, old: Value, new: Value) -> None:
        """Every use of ``old`` (operands and graph outputs) now uses ``new``."""
        if old is new:
            return
        if old.type != new.type:
            raise PassError(f"a rewrite replaced a {old.type} value by a {new.type} one")
        users = self._uses.pop(old, [])
        for op in dict.fromkeys(users):
            op.operands = tuple(new if v is old else v for v in op.operands)
            self.revisit(op)
        self._uses.setdefault(new, []).extend(users)
        if self._outputs[old]:
            self.graph.outputs = [new if v is old else v for v in self.graph.outputs]
            self._outputs[new] += self._outputs.pop(old)
            if new.name_hint is None and new.owner is not None:
                new.name_hint = old.name_hint  # a returned value keeps its printed name
        if new.owner is not None:
            self.revisit(new.owner)

    def replace_op(self, op: Operation, values: Sequence[Value]) -> None:
        if len(values) != len(op.results):
            raise PassError(f"a rewrite replaced '{op.name}' ({len(op.results)} results) by "
                            f"{len(values)} values")
        for r, v in zip(op.results, values):
            self.replace_uses(r, v)
        self.erase(op)

    def erase(self, op: Operation) -> None:
        if not self.is_dead(op):
            raise PassError(f"a rewrite erased '{op.name}' while its results are still used")
        self._erased.add(op)
        for v in op.operands:
            uses = self._uses.get(v)
            if uses is not None and op in uses:
                uses.remove(op)
            if v.owner is not None:
                self.revisit(v.owner)  # may have become dead

    def revisit(self, op: Operation) -> None:
        if op not in self._queued and op not in self._erased:
            self._queued.add(op)
            self._queue.append(op)

    # driver internals -----------------------------------------------------------------------
    def _pop(self) -> Operation | None:
        while self._queue:
            op = self._queue.popleft()
            self._queued.discard(op)
            if op not in self._erased:
                return op
        return None

    def _materialize(self) -> list[Operation]:
        out: list[Operation] = []

        def emit(op: Operation) -> None:
            for new in self._before.get(op, ()):
                emit(new)
            if op not in self._erased:
                out.append(op)

        for op in self.graph.ops:
            emit(op)
        return out


def apply_patterns_to_graph(graph: Graph, patterns: Iterable[Pattern], *, dce: bool = True,
                            max_rewrites: int | None = None) -> bool:
    """Apply ``patterns`` until none applies; with ``dce`` also erase ops nobody uses."""
    table: dict[str, list[Pattern]] = {}
    for p in patterns:
        for kind in p.kinds:
            table.setdefault(kind, []).append(p)
    rw = Rewriter(graph)
    limit = max_rewrites if max_rewrites is not None else 20 * len(graph.ops) + 100
    changed, count = False, 0
    while (op := rw._pop()) is not None:
        if dce and rw.is_dead(op):
            rw.erase(op)
            changed = True
            continue
        for p in table.get(op.name, ()):
            if p.rewrite(op, rw):
                changed = True
                count += 1
                if count > limit:
                    raise PassError(f"pattern rewriting of @{graph.name} did not converge after "
                                    f"{limit} rewrites (last: '{p.name}' on '{op.name}')")
                rw.revisit(op)
                break
    if changed:
        graph.ops = rw._materialize()
    return changed


def apply_patterns(module: Module, patterns: Iterable[Pattern], *, dce: bool = True) -> bool:
    patterns = list(patterns)
    changed = False
    for g in module.graphs.values():
        changed |= apply_patterns_to_graph(g, patterns, dce=dce)
    return changed
