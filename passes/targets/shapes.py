"""Shape facts kernel selectors read, in the GPU delegate's terms (BHWC, 4-channel slices).

Symbolic dims (the batch ``N``) count as 1: selection describes one sample, as nn-Meter and
the delegate's benchmarks do.
"""

from __future__ import annotations

from archir.ir import Operation
from archir.ops._shapes import pads_of
from archir.types import Dim, TensorType


def dim(d: Dim) -> int:
    return d if isinstance(d, int) else 1


def slices(channels: int) -> int:
    """S(C) = ceil(C / 4): the delegate works on groups of 4 channels."""
    return -(-channels // 4)


def bhwc(t: TensorType) -> tuple[int, int, int, int]:
    """The delegate's (B, H, W, C) view of an archir tensor (NCHW, or (B, W, C) / (B, C))."""
    s = [dim(d) for d in t.shape]
    if t.rank == 4:
        return s[0], s[2], s[3], s[1]
    if t.rank == 3:
        return s[0], 1, s[1], s[2]
    if t.rank == 2:
        return s[0], 1, 1, s[1]
    if t.rank == 1:
        return 1, 1, 1, s[0]
    if t.rank == 0:
        return 1, 1, 1, 1
    n = 1
    for d in s[1:-1]:
        n *= d
    return s[0], 1, n, s[-1]


def conv_geometry(op: Operation) -> dict[str, int | tuple[int, ...]]:
    """Kernel, stride, dilation, padding and channel counts of a conv1d/conv2d, as 2-D."""
    x, y = op.operands[0].type, op.results[0].type
    kernel, stride, dilation = op.attrs["kernel"], op.attrs["stride"], op.attrs["dilation"]
    pads = pads_of(op.attrs["padding"], kernel, dilation)
    if len(kernel) == 1:  # conv1d runs as a conv2d of height 1
        kernel, stride, dilation = (1, *kernel), (1, *stride), (1, *dilation)
        pads = (0, pads[0], 0, pads[1])
        h_out, w_out = 1, dim(y.shape[2])
    else:
        h_out, w_out = dim(y.shape[2]), dim(y.shape[3])
    return {
        "batch": dim(x.shape[0]), "cin": dim(x.shape[1]), "cout": dim(y.shape[1]),
        "kernel": tuple(kernel), "stride": tuple(stride), "dilation": tuple(dilation),
        "pads": tuple(pads), "h_out": h_out, "w_out": w_out, "groups": op.attrs["groups"],
    }
