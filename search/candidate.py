"""One architecture under evaluation: its space, its assignment, and the IR built on demand."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

from archir.frontends.spaces.space import Space
from archir.ir import Module
from archir.passes.inline import inline_calls
from archir.structural import structural_hash

DEDUPE_MODES = ("hash", "assignment", "none")


class Candidate:
    """``module`` (cells kept) and ``flat`` (one graph) are built once, when first asked for."""

    def __init__(self, space: Space, assignment: Mapping[str, Any]):
        self.space = space
        self.assignment = dict(assignment)

    @cached_property
    def module(self) -> Module:
        return self.space.specialize(self.assignment)

    @cached_property
    def flat(self) -> Module:
        return inline_calls(self.module)

    @cached_property
    def _structural_hash(self) -> str:
        return structural_hash(self.module)

    def key(self, mode: str, index: int) -> str:
        """The identity used to dedupe: the architecture's structural hash (two assignments that
        build one network, e.g. OFA kernels of skipped blocks, are one candidate), the encoded
        assignment, or, with "none", the proposal's own index (nothing is a duplicate)."""
        if mode == "hash":
            return self._structural_hash
        if mode == "assignment":
            return self.space.encode(self.assignment)
        if mode == "none":
            return f"#{index}"
        raise ValueError(f"unknown dedupe mode {mode!r} (known: {', '.join(DEDUPE_MODES)})")
