"""The DARTS cell space (Liu et al., ICLR 2019): 4 nodes per cell, each summing two different
earlier states through one of 8 ops. See ``cell_space`` for the IR design and skeleton.

Defaults are the search network (C=16, 8 cells); the evaluation network of the paper is
``DartsSpace(width=36, layers=20)``.
"""

from __future__ import annotations

from archir.frontends.spaces.cell_space import CellSpace

OPS = ("none", "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5",
       "dil_conv_3x3", "dil_conv_5x5")
"""DARTS's PRIMITIVES, in its order."""

DARTS_V2 = (
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
    "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], "
    "normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), "
    "('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), "
    "('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])")
"""The cell DARTS (second order) found, as its genotypes.py lists it."""


class DartsSpace(CellSpace):
    name = "darts"

    def __init__(self, *, width: int = 16, layers: int = 8, num_classes: int = 10, resolution: int = 32):
        super().__init__(OPS, nodes=4, distinct_inputs=True, width=width, layers=layers,
                         num_classes=num_classes, resolution=resolution)
