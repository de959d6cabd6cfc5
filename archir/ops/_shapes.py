"""Shape arithmetic shared by op declarations (symbolic dims included)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from archir.opdef import InferError
from archir.types import Dim, TensorType


def axis(a: int, rank: int) -> int:
    """Normalise a possibly negative axis."""
    if not -rank <= a < max(rank, 1):
        raise InferError(f"axis {a} out of range for rank {rank}")
    return a % rank if rank else 0


def dim_axis(a: int, rank: int) -> int:
    """An axis that must name a dimension: a scalar has none (``axis`` lets softmax and
    reductions take axis 0 or -1 of a scalar, as PyTorch does)."""
    if rank == 0:
        raise InferError(f"axis {a} of a scalar: it has no dimensions")
    return axis(a, rank)


def static(d: Dim, what: str) -> int:
    if not isinstance(d, int):
        raise InferError(f"{what} must be static, got symbolic '{d}'")
    return d


def same_dim(a: Dim, b: Dim, what: str) -> Dim:
    if a != b:
        raise InferError(f"{what}: {a} != {b}")
    return a


def broadcast(*types: TensorType) -> tuple[Dim, ...]:
    """NumPy broadcasting; a symbol only matches itself or 1."""
    rank = max(t.rank for t in types)
    out: list[Dim] = []
    for i in range(rank):
        dims = {t.shape[i - rank + t.rank] for t in types if i - rank + t.rank >= 0}
        dims.discard(1)
        if len(dims) > 1:
            shapes = " and ".join(str(list(t.shape)) for t in types)
            raise InferError(f"cannot broadcast {shapes}")
        out.append(dims.pop() if dims else 1)
    return tuple(out)


def pads_of(padding: Any, kernel: Sequence[int], dilation: Sequence[int]) -> tuple[int, ...]:
    """Begin values then end values, one per spatial dim."""
    n = len(kernel)
    if padding == "same":
        total = [(k - 1) * d for k, d in zip(kernel, dilation)]
        return tuple(t // 2 for t in total) + tuple(t - t // 2 for t in total)
    return tuple(padding) * 2 if len(padding) == n else tuple(padding)


def window_out(
    size: Dim, kernel: int, stride: int, pad_begin: int, pad_end: int, dilation: int = 1,
    ceil_mode: bool = False,
) -> int:
    """Output length of a sliding window (convolution or pooling)."""
    size = static(size, "spatial size")
    span = size + pad_begin + pad_end - dilation * (kernel - 1) - 1
    if span < 0:
        raise InferError(
            f"window {kernel} (dilation {dilation}) does not fit input {size} padded by "
            f"{pad_begin}+{pad_end}"
        )
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    # PyTorch/ONNX rule: the last window must start inside the input or left padding.
    if ceil_mode and (out - 1) * stride >= size + pad_begin:
        out -= 1
    return out


def numel(shape: Sequence[Dim]) -> tuple[int, list[str]]:
    """Product of the static dims, and the symbolic dims left over."""
    n, syms = 1, []
    for d in shape:
        if isinstance(d, int):
            n *= d
        else:
            syms.append(d)
    return n, sorted(syms)
