"""Tensor types and reference values: immutable, validated when built."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

_SYMBOL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

Dim = int | str
"""A dimension: a non-negative int, or a symbol such as ``N`` that stands for any size."""


class DType(StrEnum):
    F64 = "f64"
    F32 = "f32"
    F16 = "f16"
    BF16 = "bf16"
    I64 = "i64"
    I32 = "i32"
    I8 = "i8"
    U8 = "u8"
    BOOL = "bool"

    @property
    def itemsize(self) -> int:
        return _ITEMSIZE[self]

    @property
    def is_float(self) -> bool:
        return self in (DType.F64, DType.F32, DType.F16, DType.BF16)

    def __str__(self) -> str:
        return self.value


_ITEMSIZE = {"f64": 8, "f32": 4, "f16": 2, "bf16": 2, "i64": 8, "i32": 4, "i8": 1, "u8": 1, "bool": 1}


def is_symbol(dim: object) -> bool:
    return isinstance(dim, str) and _SYMBOL.match(dim) is not None


@dataclass(frozen=True, slots=True)
class TensorType:
    dtype: DType
    shape: tuple[Dim, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "dtype", DType(self.dtype))
        object.__setattr__(self, "shape", tuple(self.shape))
        for dim in self.shape:
            if isinstance(dim, bool) or not (
                (isinstance(dim, int) and dim >= 0) or is_symbol(dim)
            ):
                raise ValueError(f"invalid dimension {dim!r} in shape {self.shape}")

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def is_static(self) -> bool:
        return all(isinstance(d, int) for d in self.shape)

    def numel(self) -> int:
        """Element count; symbolic dims count as 1 (a per-sample figure for batch N)."""
        n = 1
        for d in self.shape:
            n *= d if isinstance(d, int) else 1
        return n

    def nbytes(self) -> int:
        return self.numel() * self.dtype.itemsize

    def with_shape(self, shape: tuple[Dim, ...] | list[Dim]) -> TensorType:
        return TensorType(self.dtype, tuple(shape))

    def with_dtype(self, dtype: DType | str) -> TensorType:
        return TensorType(DType(dtype), self.shape)

    def __str__(self) -> str:
        return f"{self.dtype}[{', '.join(str(d) for d in self.shape)}]"


@dataclass(frozen=True, slots=True)
class SymbolRef:
    """``@name``: a reference to a graph (cell) of the module."""

    name: str

    def __str__(self) -> str:
        return f"@{self.name}"


@dataclass(frozen=True, slots=True)
class ParamRef:
    """``$name``: an attribute whose value is a search-space decision, fixed by ``specialize``."""

    name: str

    def __str__(self) -> str:
        return f"${self.name}"
