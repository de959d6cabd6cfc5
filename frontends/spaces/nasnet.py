"""The NASNet cell space (Zoph et al., CVPR 2018): 5 blocks per cell, each adding two states
(any earlier ones, possibly the same) through one of NASNet's 13 ops, as NNI's hub lists them.

One deviation, stated: NASNet concatenates only the *unused* block outputs ("loose ends"),
which makes a cell's width depend on its wiring; here, as in DARTS, every block output is
concatenated so each cell keeps one signature across the space. Skeleton: see ``cell_space``.
"""

from __future__ import annotations

from archir.frontends.spaces.cell_space import CellSpace

OPS = ("skip_connect", "conv_3x1_1x3", "conv_7x1_1x7", "dil_conv_3x3", "avg_pool_3x3", "max_pool_3x3",
       "max_pool_5x5", "max_pool_7x7", "conv_1x1", "conv_3x3", "sep_conv_3x3", "sep_conv_5x5",
       "sep_conv_7x7")


class NasNetSpace(CellSpace):
    name = "nasnet"

    def __init__(self, *, width: int = 16, layers: int = 8, num_classes: int = 10, resolution: int = 32):
        super().__init__(OPS, nodes=5, distinct_inputs=False, width=width, layers=layers,
                         num_classes=num_classes, resolution=resolution)
