"""Every graph mutation, and a random pick among those that apply."""

from __future__ import annotations

import random
from collections.abc import Sequence

from archir.ir import Module
from archir.search.mutations.attention import change_heads, change_window
from archir.search.mutations.base import GraphMutation, Mutant, Rejected
from archir.search.mutations.blocks import insert_block, remove_block
from archir.search.mutations.kernel import change_kernel
from archir.search.mutations.op_swap import swap_op
from archir.search.mutations.rewire import rewire
from archir.search.mutations.width import change_width

MUTATIONS: dict[str, GraphMutation] = {m.name: m for m in (
    swap_op, change_kernel, change_width, insert_block, remove_block, rewire, change_window, change_heads)}


def random_mutation(module: Module, rng: random.Random, mutations: Sequence[GraphMutation] | None = None,
                    attempts: int = 20) -> Mutant:
    """Apply a random applicable mutation at a random site; ``Rejected`` after ``attempts``
    rejections (each listed), never a module that does not verify."""
    pool = list(mutations or MUTATIONS.values())
    reasons = []
    for _ in range(attempts):
        mutation = rng.choice(pool)
        try:
            return mutation(module, rng)
        except Rejected as e:
            reasons.append(str(e))
    raise Rejected(f"no mutation applied in {attempts} attempts: " + "; ".join(sorted(set(reasons))[:8]))
