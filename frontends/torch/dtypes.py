"""torch dtypes ↔ IR dtypes, and torch tensors → numpy arrays for weights."""

from __future__ import annotations

import numpy as np
import torch

from archir.types import DType

_TO_IR = {
    torch.float64: DType.F64, torch.float32: DType.F32, torch.float16: DType.F16,
    torch.bfloat16: DType.BF16, torch.int64: DType.I64, torch.int32: DType.I32,
    torch.int8: DType.I8, torch.uint8: DType.U8, torch.bool: DType.BOOL,
}
_TO_TORCH = {v: k for k, v in _TO_IR.items()}


def ir_dtype(dtype: torch.dtype) -> DType | None:
    """The IR dtype of a torch dtype; None when the IR has none (complex, int16, fp8...)."""
    return _TO_IR.get(dtype)


def torch_dtype(dtype: DType) -> torch.dtype:
    return _TO_TORCH[dtype]


_NUMPY = {DType.F64: np.float64, DType.F32: np.float32, DType.F16: np.float16,
          DType.BF16: np.float32, DType.I64: np.int64, DType.I32: np.int32, DType.I8: np.int8,
          DType.U8: np.uint8, DType.BOOL: np.bool_}


def numpy_dtype(dtype: DType) -> type:
    """The numpy dtype weights of an IR dtype are stored in (bf16 widened to float32)."""
    return _NUMPY[DType(dtype)]


def to_numpy(t: torch.Tensor) -> np.ndarray:
    """A read-only numpy view of a tensor's data.

    Weights are not copied: a model's arrays can be gigabytes, and copying them dominated
    lowering time. The view is read-only so that nothing downstream writes into the model;
    training the model after lowering does change the module's weights (lower a copy of the
    model to keep a snapshot). numpy has no bfloat16, so bf16 tensors are widened to float32.
    """
    t = t.detach().cpu()
    if t.dtype == torch.bfloat16:
        t = t.float()
    if not t.is_contiguous():
        t = t.contiguous()
    array = t.numpy()
    array.flags.writeable = False
    return array
