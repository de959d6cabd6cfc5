"""archir dtypes → ONNX element types and numpy dtypes."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto

from archir.types import DType

ONNX_TYPE = {
    DType.F32: TensorProto.FLOAT, DType.F64: TensorProto.DOUBLE, DType.F16: TensorProto.FLOAT16,
    DType.BF16: TensorProto.BFLOAT16, DType.I64: TensorProto.INT64, DType.I32: TensorProto.INT32,
    DType.I8: TensorProto.INT8, DType.U8: TensorProto.UINT8, DType.BOOL: TensorProto.BOOL,
}


def numpy_dtype(dtype: DType) -> np.dtype:
    if dtype == DType.BF16:
        import ml_dtypes  # onnx's own dependency; numpy has no bfloat16

        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype({DType.F32: np.float32, DType.F64: np.float64, DType.F16: np.float16,
                     DType.I64: np.int64, DType.I32: np.int32, DType.I8: np.int8, DType.U8: np.uint8,
                     DType.BOOL: np.bool_}[dtype])
