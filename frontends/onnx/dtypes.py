"""ONNX element types ↔ archir dtypes."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto

from archir.frontends.errors import FrontendError
from archir.types import DType

_FROM_ONNX = {
    TensorProto.FLOAT: DType.F32,
    TensorProto.DOUBLE: DType.F64,
    TensorProto.FLOAT16: DType.F16,
    TensorProto.BFLOAT16: DType.BF16,
    TensorProto.INT64: DType.I64,
    TensorProto.INT32: DType.I32,
    TensorProto.INT8: DType.I8,
    TensorProto.UINT8: DType.U8,
    TensorProto.BOOL: DType.BOOL,
}

_FROM_NUMPY = {
    np.dtype(np.float32): DType.F32,
    np.dtype(np.float64): DType.F64,
    np.dtype(np.float16): DType.F16,
    np.dtype(np.int64): DType.I64,
    np.dtype(np.int32): DType.I32,
    np.dtype(np.int8): DType.I8,
    np.dtype(np.uint8): DType.U8,
    np.dtype(np.bool_): DType.BOOL,
}

_TO_NUMPY = {v: k for k, v in _FROM_NUMPY.items()}


def from_onnx_type(elem_type: int, where: str) -> DType:
    dtype = _FROM_ONNX.get(elem_type)
    if dtype is None:
        known = elem_type in TensorProto.DataType.values()
        name = TensorProto.DataType.Name(elem_type) if known else elem_type
        raise FrontendError(f"{where}: element type {name} has no archir dtype "
                            f"(supported: {', '.join(d.value for d in _FROM_ONNX.values())})")
    return dtype


def from_numpy(dtype: np.dtype, where: str) -> DType:
    out = _FROM_NUMPY.get(np.dtype(dtype))
    if out is None:
        if np.dtype(dtype).name == "bfloat16":
            return DType.BF16
        raise FrontendError(f"{where}: constant of numpy dtype {dtype} has no archir dtype")
    return out


def to_numpy(dtype: DType) -> np.dtype:
    if dtype == DType.BF16:
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    return _TO_NUMPY[dtype]
