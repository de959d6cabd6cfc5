"""What every graph mutation shares: work on a flat clone, reject instead of breaking.

A graph mutation rewrites a *plain* architecture (no params, no choices). It never touches
its input: it inlines cells into a fresh module (or clones a flat one), rewrites that copy,
removes dead ops, re-infers types and verifies. Anything that does not hold, before or after
the rewrite, raises ``Rejected`` with the reason; a returned module always verifies.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from archir.builder import GraphBuilder
from archir.errors import VerifyError
from archir.ir import Graph, Module, Operation, Value
from archir.passes.cleanup import eliminate_dead_code
from archir.passes.inline import inline_calls
from archir.specialize import infer_types
from archir.verifier import verify


class Rejected(Exception):
    """A mutation that does not apply here; the input module is unchanged."""


@dataclass(frozen=True)
class Mutant:
    """A verified result: the new module and what was done."""

    module: Module
    mutation: str
    detail: str


Rewrite = Callable[[Module, Operation, random.Random], str]


@dataclass(frozen=True)
class GraphMutation:
    """``sites`` lists the op indices of @main it may rewrite; ``rewrite`` changes the op of the
    working copy in place and returns a description (or raises ``Rejected``)."""

    name: str
    sites: Callable[[Graph], list[int]]
    rewrite: Rewrite

    def __call__(self, module: Module, rng: random.Random, site: int | None = None) -> Mutant:
        work = prepare(module)
        candidates = self.sites(work.main)
        if not candidates:
            raise Rejected(f"{self.name}: nothing to rewrite in this architecture")
        if site is None:
            site = rng.choice(candidates)
        elif site not in candidates:
            raise Rejected(f"{self.name}: op #{site} is not a site (sites: {candidates[:10]}...)")
        detail = self.rewrite(work, work.main.ops[site], rng)
        finish(work, self.name)
        return Mutant(work, self.name, detail)


def prepare(module: Module) -> Module:
    """A flat copy of a plain architecture."""
    if module.params or any(op.name == "choice" for _, op in module.walk()):
        raise Rejected("graph mutations rewrite plain architectures: specialize the space first "
                       "(or mutate its assignment)")
    if len(module.graphs) > 1:
        return inline_calls(module)
    return module.clone()


def finish(module: Module, name: str) -> None:
    """Drop dead ops, re-infer every type and verify; a failure rejects the mutation."""
    eliminate_dead_code(module.main)
    try:
        infer_types(module)
        verify(module)
    except VerifyError as e:
        raise Rejected(f"{name}: the rewrite does not type-check: {e.message}") from None


def replace_uses(g: Graph, old: Value, new: Value, skip: Iterable[Operation] = ()) -> None:
    """Every use of ``old`` (except by the ops in ``skip``) now uses ``new``."""
    skip = set(skip)
    for op in g.ops:
        if op not in skip and old in op.operands:
            op.operands = tuple(new if v is old else v for v in op.operands)
    g.outputs = [new if v is old else v for v in g.outputs]


def splice(g: Graph, after: Operation | None,
           build: Callable[[GraphBuilder], Value]) -> tuple[Value, list[Operation]]:
    """Build new ops with a builder and insert them right after ``after`` (first if None)."""
    b = GraphBuilder("scratch")
    out = build(b)
    at = 0 if after is None else g.ops.index(after) + 1
    g.ops[at:at] = b.graph.ops
    return out, b.graph.ops


def set_attrs(op: Operation, **changes) -> None:
    """Change attributes, normalised by the op's declaration (a bad value rejects)."""
    from archir.attrs import AttrError

    try:
        op.attrs = op.opdef.normalize_attrs({**op.attrs, **changes})
    except AttrError as e:
        raise Rejected(str(e)) from None


def pick_other(rng: random.Random, options: Iterable, current) -> object:
    others = [o for o in options if o != current]
    if not others:
        raise Rejected(f"no alternative to {current!r}")
    return rng.choice(others)
