"""NATS-Bench size space ("sss"): the fixed best NAS-Bench-201 cell, 5 layer widths searched.

``"8:8:8:8:8"`` gives the widths of: cell, reduction block, cell, reduction block, cell
(one cell per stage; the stem has the first width). Each width is in {8, 16, ..., 64}:
8^5 = 32,768 networks. This module builds the plain architecture for one width string; it is
not a choice IR because a width change turns a skip edge into a 1x1 conv (xautodl's stride-1
FactorizedReduce), a structural tie a ``$param`` cannot express.
"""

from __future__ import annotations

from collections.abc import Sequence

from archir.builder import GraphBuilder
from archir.frontends.spaces import nb201_ops as nb
from archir.frontends.spaces.build import image
from archir.ir import Module

GENOTYPE = nb.parse_arch(
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|")
WIDTHS = tuple(range(8, 65, 8))


def parse_widths(text: str | Sequence[int]) -> tuple[int, ...]:
    widths = tuple(int(w) for w in text.split(":")) if isinstance(text, str) else tuple(text)
    if len(widths) != 5 or any(w not in WIDTHS for w in widths):
        raise ValueError(f"a NATS sss arch is 5 widths in {list(WIDTHS)} joined by ':', got {text!r}")
    return widths


def sss_network(widths: str | Sequence[int], *, num_classes: int = 10, resolution: int = 32) -> Module:
    """The plain architecture for ``widths`` (e.g. ``"8:16:32:32:64"``)."""
    widths = parse_widths(widths)
    b = GraphBuilder("main")
    y = nb.stem(b, b.arg(image(3, resolution), "image"), widths[0])
    for layer, c in enumerate(widths):
        if layer % 2:
            y = nb.reduction_block(b, y, c)
        else:
            y = nb.cell(b, y, c, nb.genotype_edge(GENOTYPE, b))
    b.ret(nb.head(b, y, num_classes))
    return Module([b.graph])
