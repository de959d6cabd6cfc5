"""Structural ops: constants, parameters, cell calls and search-space choices.

``call`` and ``choice`` are typed by the module (the callee's signature), so their
declarations have no local inference; the verifier checks them against the module.
"""

from __future__ import annotations

from archir.attrs import DIMS, DTYPE, FLOAT, SYM, Attr
from archir.opdef import declare
from archir.types import DType, TensorType

declare(
    "constant", "", lambda ins, a: (TensorType(a["dtype"], a["shape"]),), family="constant",
    attrs={"value": Attr(FLOAT), "dtype": Attr(DTYPE, DType.F32), "shape": Attr(DIMS, ())},
    doc="a tensor filled with value (a scalar by default)",
)
declare(
    "parameter", "", lambda ins, a: (TensorType(a["dtype"], a["shape"]),), family="constant",
    attrs={"shape": Attr(DIMS), "dtype": Attr(DTYPE, DType.F32)},
    params=lambda ins, a: {"value": a["shape"]},
    doc="a learned or stored tensor (positional embeddings, class tokens, tables)",
)
declare("call", "inputs*", None, family="call", attrs={"callee": Attr(SYM)},
        doc="run the cell @callee on the inputs")
declare("choice", "inputs*", None, family="call", attrs={"of": Attr(SYM)},
        doc="one of the cells in the domain of the $param given as `of`; fixed by specialize")
