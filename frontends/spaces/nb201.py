"""NAS-Bench-201 (NATS-Bench "tss"): one 4-node cell, 6 edges, 5 ops; 5^6 = 15,625 networks.

Design. Each edge ``j <- i`` is a param ``$edge.j.i`` whose domain names the five op cells
(``[@none, @skip_connect, @nor_conv_1x1, @nor_conv_3x3, @avg_pool_3x3]``). The genotype is
shared by all 15 cells, which run at three widths, so each choice site carries a ``variant``
(``.c16``, ``.c32``, ``.c64``) and picks ``@nor_conv_3x3.c32`` etc.: one decision, the same
op at every stage, exactly as NAS-Bench-201 (and its DARTS/ENAS supernets) tie them.

Skeleton (xautodl's TinyNetwork): stem conv 3x3 (16) + BN; 3 stages of N=5 cells at
C = 16/32/64 separated by stride-2 ResNet basic blocks; BN, ReLU, global average pool,
linear. ``resolution``/``num_classes`` select the dataset (cifar10: 32/10, cifar100: 32/100,
ImageNet16-120: 16/120).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archir.frontends.spaces import nb201_ops as nb
from archir.frontends.spaces.build import SpaceBuilder, image
from archir.frontends.spaces.space import Decision, Space
from archir.types import SymbolRef

EDGES = tuple((j, i) for j in range(1, 4) for i in range(j))
DATASETS = {"cifar10": (32, 10), "cifar100": (32, 100), "ImageNet16-120": (16, 120)}


def edge_name(j: int, i: int) -> str:
    return f"edge.{j}.{i}"


class NB201Space(Space):
    name = "nas-bench-201"

    def __init__(self, *, num_classes: int = 10, resolution: int = 32, width: int = 16,
                 cells_per_stage: int = 5):
        sb = SpaceBuilder()
        params = {edge_name(j, i): sb.param(edge_name(j, i), sb.cells(nb.OPS)) for j, i in EDGES}
        widths = (width, 2 * width, 4 * width)

        def op_cell(op: str, c: int, size: int) -> None:
            sb.cell(f"{op}.c{c}", [image(c, size)], lambda b, x: nb.apply_op(b, op, x, c))

        def search_cell(c: int, size: int) -> str:
            for op in nb.OPS:
                op_cell(op, c, size)

            def edge(b, j, i, x, out):
                return b.choice(x, of=params[edge_name(j, i)], variant=f".c{c}", name=f"e{j}{i}")

            return sb.cell(f"cell.c{c}", [image(c, size)],
                           lambda b, x: nb.cell(b, x, c, lambda *a: edge(b, *a)))

        def body(b, x):
            y = nb.stem(b, x, width)
            size = resolution
            for stage, c in enumerate(widths):
                if stage:
                    size //= 2
                    red = sb.cell(f"reduce.c{c}", [image(widths[stage - 1], size * 2)],
                                  lambda bb, v, c=c: nb.reduction_block(bb, v, c))
                    y = b.call(y, callee=SymbolRef(red), name=f"reduce{stage}")
                cell_name = search_cell(c, size)
                for k in range(cells_per_stage):
                    y = b.call(y, callee=SymbolRef(cell_name), name=f"stage{stage}.cell{k}")
            return nb.head(b, y, num_classes)

        module = sb.main([("image", image(3, resolution))], body)
        super().__init__(module, tuple(Decision(edge_name(j, i), nb.OPS, "op") for j, i in EDGES))

    @classmethod
    def for_dataset(cls, dataset: str) -> NB201Space:
        if dataset not in DATASETS:
            raise ValueError(f"unknown dataset {dataset!r} (known: {', '.join(DATASETS)})")
        resolution, classes = DATASETS[dataset]
        return cls(num_classes=classes, resolution=resolution)

    def encode(self, assignment: Mapping[str, Any]) -> str:
        """The NATS arch string ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``."""
        self.check(assignment)
        return nb.format_arch([[assignment[edge_name(j, i)] for i in range(j)] for j in range(1, 4)])

    def decode(self, text: str) -> dict[str, Any]:
        genotype = nb.parse_arch(text)
        return {edge_name(j, i): genotype[j - 1][i] for j, i in EDGES}
