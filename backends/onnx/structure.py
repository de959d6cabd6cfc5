"""constant and parameter (call is inlined by the exporter; choice must be specialised)."""

from __future__ import annotations

import numpy as np
from onnx import numpy_helper

from archir.backends.onnx.context import Emitter
from archir.backends.onnx.dtypes import numpy_dtype
from archir.backends.onnx.registry import emitter
from archir.ir import Operation


@emitter("constant")
def constant(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    a = op.attrs
    shape, _ = em.shape(a["shape"])
    value = numpy_helper.from_array(np.array([a["value"]], dtype=numpy_dtype(a["dtype"])))
    return em.node("ConstantOfShape", [shape], em.outs(op), value=value)


@emitter("parameter")
def parameter(em: Emitter, op: Operation, ins: list[str]) -> list[str]:
    return [em.weight(op, "value")]
