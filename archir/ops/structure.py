"""Structural ops: constants, parameters, cell calls and search-space choices.

``call`` and ``choice`` are typed by the module (the callee's signature), so their
declarations have no local inference; the verifier checks them against the module.
"""

from __future__ import annotations

from archir.attrs import BOOL, DIMS, DTYPE, FLOAT, STR, SYM, Attr
from archir.opdef import declare
from archir.types import DType, SymbolRef, TensorType

declare(
    "constant", "", lambda ins, a: (TensorType(a["dtype"], a["shape"]),), family="constant",
    attrs={"value": Attr(FLOAT), "dtype": Attr(DTYPE, DType.F32), "shape": Attr(DIMS, ())},
    doc="a tensor filled with value (a scalar by default)",
)
declare(
    "parameter", "", lambda ins, a: (TensorType(a["dtype"], a["shape"]),), family="constant",
    attrs={"shape": Attr(DIMS), "dtype": Attr(DTYPE, DType.F32),
           "trainable": Attr(BOOL, True, doc="false: a stored tensor such as a mask, an index "
                                             "table or a folded constant (a PyTorch buffer), "
                                             "not counted as a parameter")},
    params=lambda ins, a: {"value": a["shape"]},
    doc="a learned or stored tensor (positional embeddings, class tokens, tables)",
)
declare("call", "inputs*", None, family="call", attrs={"callee": Attr(SYM)},
        doc="run the cell @callee on the inputs")
declare("choice", "inputs*", None, family="call",
        attrs={"of": Attr(SYM),
               "variant": Attr(STR, "", doc="suffix naming the cell for this site: pick @x runs "
                                            "@x<variant>, so one decision can pick among cells "
                                            "built for several widths (NAS-Bench-201, DARTS)")},
        doc="one of the cells in the domain of the $param given as `of`; fixed by specialize")


def choice_cell(pick: SymbolRef, variant: str) -> str:
    """The cell a ``choice`` with ``variant`` runs when its param takes the value ``pick``."""
    return pick.name + variant
