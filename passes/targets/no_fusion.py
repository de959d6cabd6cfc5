"""No fusion: every op is its own kernel (PyTorch eager dispatches one ATen call per op)."""

from __future__ import annotations

from dataclasses import dataclass

from archir.ir import Graph
from archir.passes.targets.partition import Partition


@dataclass(frozen=True)
class OneKernelPerOp:
    def partition(self, g: Graph) -> Partition:
        return Partition(g)
