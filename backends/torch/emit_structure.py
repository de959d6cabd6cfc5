"""Emitters for constants, parameters, cell calls and supernet choices."""

from __future__ import annotations

from archir.backends.torch.context import TORCH_DTYPE, Emit, Emitter, literal
from archir.ops.structure import choice_cell


def _constant(e: Emit) -> str:
    t = e.out_type()
    dtype = e.dtype_kw(t.dtype)
    if t.is_static:
        return e.buffer(f"torch.full({e.shape(t.shape)}, {literal(e['value'])}{dtype})")
    return f"torch.full({e.shape(t.shape)}, {literal(e['value'])}{dtype}, device={e.sink.device()})"


def _parameter(e: Emit) -> str:
    t = e.out_type()
    if not t.is_static:
        raise e.fail(f"a parameter needs a static shape, got {t}")
    shape = e.shape(t.shape)
    if t.dtype.is_float and e.op.attrs.get("trainable", True):
        # no PyTorch default exists for a bare tensor; 0.02 is the usual transformer init
        init = f"nn.init.trunc_normal_(torch.empty({shape}{e.dtype_kw(t.dtype)}), std=0.02)"
        return e.submodule(f"nn.Parameter({init})", {"value": ""})
    # a stored tensor (trainable = false, or an index table): a buffer in the state dict
    return e.buffer(f"torch.zeros({shape}, dtype={TORCH_DTYPE[t.dtype]})", persistent=True)


def _call(e: Emit) -> str:
    return f"{e.sink.add_cell(e.op, e['callee'].name)}({', '.join(e.args)})"


def _choice(e: Emit) -> str:
    param = e["of"].name
    # options are keyed by the decision's value; `variant` names the cell this site runs for it
    options = {c.name: choice_cell(c, e["variant"]) for c in e.sink.param_domain(param)}
    return f"{e.sink.add_choice(e.op, param, options)}({', '.join(e.args)})"


EMITTERS: dict[str, Emitter] = {
    "constant": _constant,
    "parameter": _parameter,
    "call": _call,
    "choice": _choice,
}
