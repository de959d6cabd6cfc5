"""Emitters for elementwise ops, softmax and reductions."""

from __future__ import annotations

import math

from archir.backends.torch.context import TORCH_DTYPE, Emit, Emitter, literal, tuple_expr
from archir.ops._shapes import axis


def _call(fn: str) -> Emitter:
    return lambda e: f"{fn}({e.x})"


_UNARY = {
    "relu": "F.relu", "relu6": "F.relu6", "sigmoid": "torch.sigmoid", "tanh": "torch.tanh",
    "silu": "F.silu", "hardswish": "F.hardswish", "hardsigmoid": "F.hardsigmoid", "mish": "F.mish",
    "softplus": "F.softplus", "exp": "torch.exp", "log": "torch.log", "sqrt": "torch.sqrt",
    "rsqrt": "torch.rsqrt", "neg": "torch.neg", "abs": "torch.abs", "erf": "torch.erf",
    "sin": "torch.sin", "cos": "torch.cos", "reciprocal": "torch.reciprocal", "floor": "torch.floor",
    "ceil": "torch.ceil", "sign": "torch.sign",
}


def _gelu(e: Emit) -> str:
    return f"F.gelu({e.x})" if e["approximate"] == "none" else f'F.gelu({e.x}, approximate="tanh")'


def _clip(e: Emit) -> str:
    bounds = [f"{k}={literal(e[k])}" for k in ("min", "max") if not math.isinf(e[k])]
    return f"torch.clamp({e.x}, {', '.join(bounds)})" if bounds else e.x


def _prelu(e: Emit) -> str:
    layer = e.submodule(f"nn.PReLU({e['num_parameters']}{e.dtype_kw(e.out_type().dtype)})")
    return f"{layer}({e.x})"


def _infix(symbol: str) -> Emitter:
    return lambda e: f"{e.args[0]} {symbol} {e.args[1]}"


def _div(e: Emit) -> str:
    if e.out_type().dtype.is_float:
        return f"{e.args[0]} / {e.args[1]}"
    # integer division rounds down, as PyTorch's // (the IR keeps the integer dtype)
    return f"torch.div({e.args[0]}, {e.args[1]}, rounding_mode=\"floor\")"


def _dims(e: Emit) -> tuple[int, ...]:
    rank = e.in_type().rank
    return tuple(sorted(axis(a, rank) for a in e["axes"])) if e["axes"] else tuple(range(rank))


def _reduce(fn: str) -> Emitter:
    def emit(e: Emit) -> str:
        keep = ", keepdim=True" if e["keepdims"] else ""
        return f"{fn}({e.x}, dim={tuple_expr(_dims(e))}{keep})"

    return emit


def _reduce_prod(e: Emit) -> str:
    # torch.prod reduces one dim at a time; the highest dim first keeps the lower indices valid
    expr = e.x
    keep = ", keepdim=True" if e["keepdims"] else ""
    for d in reversed(_dims(e)):
        expr = f"torch.prod({expr}, dim={d}{keep})"
    return expr


def _keep_flag(e: Emit) -> str:
    return ", keepdim=True" if e["keepdims"] else ""


EMITTERS: dict[str, Emitter] = {
    **{name: _call(fn) for name, fn in _UNARY.items()},
    "identity": lambda e: e.x,
    "gelu": _gelu,
    "leaky_relu": lambda e: f"F.leaky_relu({e.x}, {literal(e['alpha'])})",
    "elu": lambda e: f"F.elu({e.x}, {literal(e['alpha'])})",
    "clip": _clip,
    "dropout": lambda e: f"F.dropout({e.x}, p={literal(e['p'])}, training=self.training)",
    "prelu": _prelu,
    "cast": lambda e: f"{e.x}.to({TORCH_DTYPE[e['dtype']]})",
    "add": _infix("+"),
    "sub": _infix("-"),
    "mul": _infix("*"),
    "div": _div,
    "pow": lambda e: f"torch.pow({e.args[0]}, {e.args[1]})",
    "maximum": lambda e: f"torch.maximum({e.args[0]}, {e.args[1]})",
    "minimum": lambda e: f"torch.minimum({e.args[0]}, {e.args[1]})",
    "equal": _infix("=="),
    "less": _infix("<"),
    "greater": _infix(">"),
    "where": lambda e: f"torch.where({e.args[0]}, {e.args[1]}, {e.args[2]})",
    "softmax": lambda e: f"F.softmax({e.x}, dim={e['axis']})",
    "log_softmax": lambda e: f"F.log_softmax({e.x}, dim={e['axis']})",
    "reduce_mean": _reduce("torch.mean"),
    "reduce_sum": _reduce("torch.sum"),
    "reduce_max": _reduce("torch.amax"),
    "reduce_min": _reduce("torch.amin"),
    "reduce_prod": _reduce_prod,
    "argmax": lambda e: f"torch.argmax({e.x}, dim={e['axis']}{_keep_flag(e)})",
}
