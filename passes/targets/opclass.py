"""The canonical op-class vocabulary that fusion rules are written in.

Every declared op kind maps to exactly one class (``op_class``); rule files name classes, and a
rule file that names anything outside ``CLASSES`` is an error (nn-Meter silently ignored its
``pooling``/``dense``/``convtrans`` rules because its IR said ``maxpool``/``fc``). Grouped
convolutions get their own class (``gconv``): nn-Meter treated them as dense.
"""

from __future__ import annotations

from collections.abc import Callable

from archir.ir import Operation

# op kind -> class; ops whose class depends on attributes or shapes are in _DYNAMIC.
_STATIC: dict[str, str] = {
    "conv1d": "conv1d", "conv_transpose2d": "convtrans", "linear": "dense", "matmul": "matmul",
    "embedding": "gather", "gather": "gather",
    "batch_norm": "bn", "layer_norm": "layernorm", "rms_norm": "layernorm",
    "group_norm": "groupnorm", "instance_norm": "groupnorm", "lrn": "lrn",
    "relu": "relu", "relu6": "relu", "clip": "relu", "leaky_relu": "prelu", "prelu": "prelu",
    "hardswish": "hswish", "hardsigmoid": "hsigmoid", "sigmoid": "sigmoid", "tanh": "tanh",
    "silu": "silu", "gelu": "gelu", "mish": "activation", "softplus": "activation",
    "elu": "activation", "exp": "activation", "log": "activation", "sqrt": "activation",
    "rsqrt": "activation", "neg": "activation", "abs": "activation", "erf": "activation",
    "sin": "activation", "cos": "activation", "reciprocal": "activation", "floor": "activation",
    "ceil": "activation", "sign": "activation", "cast": "activation",
    "identity": "noop", "dropout": "noop",
    "add": "add", "mul": "mul", "sub": "sub", "div": "div",
    "maximum": "binary", "minimum": "binary", "pow": "binary", "equal": "binary",
    "less": "binary", "greater": "binary", "where": "binary",
    "softmax": "softmax", "log_softmax": "softmax",
    "reduce_mean": "reduce", "reduce_sum": "reduce", "reduce_max": "reduce",
    "reduce_min": "reduce", "reduce_prod": "reduce", "argmax": "reduce",
    "max_pool2d": "pooling", "avg_pool2d": "pooling",
    "global_avg_pool": "gap", "global_max_pool": "gap",
    "pad": "pad", "resize": "resize",
    "reshape": "reshape", "flatten": "reshape", "squeeze": "reshape", "unsqueeze": "reshape",
    "expand": "expand", "transpose": "transpose", "concat": "concat", "split": "split",
    "slice": "split", "channel_shuffle": "channelshuffle",
    "attention": "attention", "rotary": "position", "alibi": "position",
    "constant": "constant", "parameter": "constant", "call": "call", "choice": "call",
}


def _conv2d(op: Operation) -> str:
    cin = op.operands[0].type.shape[1]
    groups = op.attrs["groups"]
    if groups == 1:
        return "conv"
    if groups == cin:
        return "dwconv"
    return "gconv"


def _adaptive(op: Operation) -> str:
    if tuple(op.attrs["output_size"]) == tuple(op.operands[0].type.shape[2:]):
        return "noop"  # pools every pixel to itself
    return "gap" if tuple(op.attrs["output_size"]) == (1, 1) else "pooling"


def _roll(op: Operation) -> str:
    shape = op.operands[0].type.shape
    moved = any(isinstance(shape[a], int) and shape[a] and s % shape[a] for s, a in
                zip(op.attrs["shifts"], op.attrs["axes"]))
    return "roll" if moved else "noop"  # shifting by whole turns moves nothing


_DYNAMIC: dict[str, Callable[[Operation], str]] = {
    "roll": _roll,
    "conv2d": _conv2d,
    "adaptive_avg_pool2d": _adaptive,
    "adaptive_max_pool2d": _adaptive,
}

# Classes only a multi-op template produces (nn-Meter's squeeze-excitation kernel).
TEMPLATE_CLASSES = frozenset({"se"})

CLASSES: frozenset[str] = frozenset(
    set(_STATIC.values()) | {"conv", "dwconv", "gconv", "pooling", "gap", "roll", "noop"} | TEMPLATE_CLASSES
)

# Classes a kernel can apply on its way out (an epilogue).
ELEMENTWISE = frozenset({"relu", "prelu", "bn", "hswish", "hsigmoid", "sigmoid", "tanh", "silu", "gelu",
                         "activation", "add", "mul", "sub", "div", "binary"})

# Classes that do the heavy arithmetic of a kernel; a kernel holds at most one of them.
HEAVY = frozenset({"conv", "dwconv", "gconv", "conv1d", "convtrans", "dense", "matmul", "attention"})

# nn-Meter's IR names -> canonical classes (its OP_ALIAS plus the names its rule files use).
NNMETER_ALIASES: dict[str, str] = {
    "conv": "conv", "dwconv": "dwconv", "convtrans": "convtrans", "dense": "dense", "fc": "dense",
    "pooling": "pooling", "maxpool": "pooling", "avgpool": "pooling", "gap": "gap",
    "bn": "bn", "relu": "relu", "relu6": "relu", "hswish": "hswish", "add": "add",
    "concat": "concat", "reshape": "reshape", "se": "se", "split": "split",
    "channelshuffle": "channelshuffle",
}


def op_class(op: Operation) -> str:
    dynamic = _DYNAMIC.get(op.name)
    if dynamic is not None:
        return dynamic(op)
    cls = _STATIC.get(op.name)
    if cls is None:
        raise KeyError(f"op '{op.name}' has no fusion class; add it to passes/targets/opclass.py")
    return cls


def check_class(name: str, where: str) -> str:
    if name not in CLASSES:
        raise ValueError(f"{where}: unknown op class '{name}' (known: {', '.join(sorted(CLASSES))})")
    return name
