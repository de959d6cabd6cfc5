"""The interface every search space offers: its choice IR, its decisions, sampling and
specialisation.

A space's *decisions* are what a searcher sees (``{"edge.1.0": "nor_conv_3x3"}``, ``{"d1": 3}``):
plain values in a fixed domain. Most decisions are IR params of ``space.module`` with the same
name (a value maps to the IR param's domain entry at the same index); a space may add decisions
that are not IR params (OFA's input resolution re-types the input instead) by overriding
``apply_extra``. ``specialize`` always goes through ``archir.specialize`` on the choice IR.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from archir.ir import Module
from archir.specialize import specialize as specialize_ir

Assignment = dict[str, Any]


@dataclass(frozen=True)
class Decision:
    """One decision: its name, its values (the first is the default) and what it changes.

    ``kind`` lets mutations pick what to change: op, input, kernel, expand, depth, resolution,
    width, heads, window, position.
    """

    name: str
    domain: tuple[Any, ...]
    kind: str

    def __post_init__(self) -> None:
        if len(set(self.domain)) != len(self.domain) or not self.domain:
            raise ValueError(f"decision {self.name!r} needs a non-empty domain of distinct values")


class Space:
    """A search space: ``module`` (choice IR with params) and the ``decisions`` over it."""

    name = "space"

    def __init__(self, module: Module, decisions: tuple[Decision, ...]):
        self.module = module
        self.decisions = decisions
        self.by_name = {d.name: d for d in decisions}
        for d in decisions:
            param = module.params.get(d.name)
            if param is not None and len(param.domain) != len(d.domain):
                raise ValueError(f"decision {d.name!r} has {len(d.domain)} values but its IR param "
                                 f"has {len(param.domain)}")

    @property
    def params(self) -> dict[str, tuple[Any, ...]]:
        """Decision name -> domain."""
        return {d.name: d.domain for d in self.decisions}

    def sample(self, rng: random.Random) -> Assignment:
        """A uniformly random valid assignment (rejection sampling over the constraints)."""
        for _ in range(10_000):
            assignment = {d.name: rng.choice(d.domain) for d in self.decisions}
            if self.is_valid(assignment):
                return assignment
        raise ValueError(f"{self.name}: no valid assignment in 10,000 draws; override sample()")

    def default(self) -> Assignment:
        return {d.name: d.domain[0] for d in self.decisions}

    def is_valid(self, assignment: Mapping[str, Any]) -> bool:
        """Constraints across decisions (none unless a space says so)."""
        return True

    def check(self, assignment: Mapping[str, Any]) -> None:
        """Raise ``ValueError`` listing every missing, unknown or out-of-domain decision."""
        problems = [f"missing {d.name!r}" for d in self.decisions if d.name not in assignment]
        problems += [f"unknown {k!r}" for k in assignment if k not in self.by_name]
        problems += [f"{k!r} = {v!r} is not in {list(self.by_name[k].domain)}"
                     for k, v in assignment.items() if k in self.by_name and v not in self.by_name[k].domain]
        if not problems and not self.is_valid(assignment):
            problems.append(f"violates the constraints of {self.name}")
        if problems:
            raise ValueError(f"invalid {self.name} assignment: " + "; ".join(problems))

    def ir_assignment(self, assignment: Mapping[str, Any]) -> dict[str, Any]:
        """The assignment of the IR params (for ``archir.specialize(space.module, ...)``)."""
        self.check(assignment)
        out = {}
        for name, param in self.module.params.items():
            index = self.by_name[name].domain.index(assignment[name])
            out[name] = param.domain[index]
        return out

    def specialize(self, assignment: Mapping[str, Any], *, flat: bool = False) -> Module:
        """The plain architecture for ``assignment``; ``flat`` inlines every cell into @main."""
        module = specialize_ir(self.module, self.ir_assignment(assignment))
        module = self.apply_extra(module, assignment)
        if flat:
            from archir.passes.inline import inline_calls

            module = inline_calls(module)
        return module

    def apply_extra(self, module: Module, assignment: Mapping[str, Any]) -> Module:
        """Apply the decisions that are not IR params (none by default)."""
        return module

    def encode(self, assignment: Mapping[str, Any]) -> str:
        """A compact text form of an assignment (the space's usual notation)."""
        self.check(assignment)
        return ",".join(f"{d.name}={assignment[d.name]}" for d in self.decisions)

    def decode(self, text: str) -> Assignment:
        """Inverse of ``encode``."""
        out: Assignment = {}
        for item in text.split(","):
            name, _, raw = item.partition("=")
            decision = self.by_name.get(name)
            if decision is None:
                raise ValueError(f"unknown decision {name!r} in {text!r}")
            value = next((v for v in decision.domain if str(v) == raw), None)
            if value is None:
                raise ValueError(f"{name}={raw!r} is not in {list(decision.domain)}")
            out[name] = value
        self.check(out)
        return out

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}: {len(self.decisions)} decisions>"
