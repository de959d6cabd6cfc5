"""Runtime helpers for resizing, padding, pooling and gathering (copied into generated files;
they may use only ``torch``, ``F``, ``math`` and each other)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def resize_axis(x: torch.Tensor, axis: int, size: int, mode: str, coordinates: str) -> torch.Tensor:
    """Resize one axis. Source coordinate of output index o, for input length n and output m:
    asymmetric o·n/m; half_pixel (o + 0.5)·n/m - 0.5; pytorch_half_pixel the same but 0 when
    m == 1; align_corners o·(n - 1)/(m - 1) (0 when m == 1). nearest takes floor(x) clamped to
    [0, n - 1]; linear clamps x to [0, n - 1]; cubic uses Keys' kernel with a = -0.75 and
    repeats the edge values past the border.
    """
    n = x.shape[axis]
    o = torch.arange(size, device=x.device, dtype=torch.int64)
    if mode == "nearest":
        # exact integer arithmetic: float rounding would move indices at ties
        if coordinates == "asymmetric":
            idx = o * n // size
        elif coordinates == "align_corners":
            idx = o * (n - 1) // (size - 1) if size > 1 else o * 0
        elif coordinates == "pytorch_half_pixel" and size == 1:
            idx = o * 0
        else:
            idx = ((2 * o + 1) * n - size) // (2 * size)
        return x.index_select(axis, idx.clamp(0, n - 1))
    of = o.to(torch.float64)
    if coordinates == "asymmetric":
        src = of * (n / size)
    elif coordinates == "align_corners" or (coordinates == "pytorch_half_pixel" and size == 1):
        src = of * ((n - 1) / (size - 1)) if size > 1 else of * 0
    else:
        src = (of + 0.5) * (n / size) - 0.5
    shape = [1] * x.dim()
    shape[axis] = size
    if mode == "linear":
        src = src.clamp(0, n - 1)
        lo = src.floor().long()
        w = (src - lo).to(x.dtype).view(shape)
        hi = (lo + 1).clamp(max=n - 1)
        return x.index_select(axis, lo) * (1 - w) + x.index_select(axis, hi) * w
    a = -0.75
    start = src.floor()
    out = None
    for tap in (-1, 0, 1, 2):
        d = (src - start - tap).abs()
        near = ((a + 2) * d - (a + 3)) * d * d + 1
        far = ((a * d - 5 * a) * d + 8 * a) * d - 4 * a
        w = torch.where(d <= 1, near, torch.where(d < 2, far, 0.0)).to(x.dtype).view(shape)
        term = x.index_select(axis, (start + tap).long().clamp(0, n - 1)) * w
        out = term if out is None else out + term
    return out


def resize(x: torch.Tensor, size: tuple[int, ...], *, mode: str = "nearest",
           coordinates: str = "asymmetric") -> torch.Tensor:
    """Resize the spatial dims (2..) to size, one axis at a time (every mode is separable)."""
    for axis, m in enumerate(size, start=2):
        if x.shape[axis] != m:
            x = resize_axis(x, axis, m, mode, coordinates)
    return x


def pad(x: torch.Tensor, pads: tuple[int, ...], mode: str) -> torch.Tensor:
    """Pad (or, for negative values, crop) every dim: pads are all begins, then all ends.

    edge repeats the border value; reflect mirrors about the border without repeating it.
    """
    rank = x.dim()
    for axis in range(rank):
        begin, end = pads[axis], pads[rank + axis]
        if begin == 0 and end == 0:
            continue
        n = x.shape[axis]
        idx = torch.arange(-begin, n + end, device=x.device)
        if mode == "edge" or n == 1:
            idx = idx.clamp(0, n - 1)
        else:
            period = 2 * (n - 1)
            idx = idx.abs() % period
            idx = torch.where(idx >= n, period - idx, idx)
        x = x.index_select(axis, idx)
    return x


def avg_pool2d_padded(x: torch.Tensor, kernel: tuple[int, int], stride: tuple[int, int],
                      pads: tuple[int, int, int, int], ceil_mode: bool, count_include_pad: bool,
                      size: tuple[int, int]) -> torch.Tensor:
    """Average pooling with asymmetric padding (top, left, bottom, right: IR order begins, ends).

    The divisor counts the window's positions inside the padded input (count_include_pad) or
    inside the input only, as PyTorch does for symmetric padding; size crops the windows that
    ceil_mode adds past the IR's last window.
    """
    pairs = (pads[1], pads[3], pads[0], pads[2])
    padded = F.pad(x, pairs)
    total = F.avg_pool2d(padded, kernel, stride, ceil_mode=ceil_mode, divisor_override=1)
    ones = torch.ones_like(padded[:1, :1]) if count_include_pad else F.pad(torch.ones_like(x[:1, :1]), pairs)
    count = F.avg_pool2d(ones, kernel, stride, ceil_mode=ceil_mode, divisor_override=1)
    return (total / count)[..., : size[0], : size[1]]


def take(x: torch.Tensor, indices: torch.Tensor, axis: int) -> torch.Tensor:
    """numpy.take: out = x[:axis] + indices.shape + x[axis + 1:]; negative indices count from the end."""
    axis = axis % x.dim()  # the reshape below slices the shape by position
    n = x.shape[axis]
    flat = indices.reshape(-1).long()
    flat = torch.where(flat < 0, flat + n, flat)
    return x.index_select(axis, flat).reshape(x.shape[:axis] + indices.shape + x.shape[axis + 1:])
