"""NATS-Bench's own params/FLOPs conventions, computed on IR.

NATS-Bench (xautodl ``get_model_infos``) reports
- params: learnable parameters (``named_parameters``), so batch-norm running statistics,
  which are buffers, do not count;
- "FLOPs": per-sample multiply-accumulates of Conv2d and Linear layers plus one per bias
  element and output position; pooling (even the avg-pool edges and the 2x2 shortcut pools,
  checked: counting them overshoots the published figures by exactly their k·k·outputs),
  batch norm, activations and adds count nothing.
Both are reported in millions. These rules reproduce its published numbers exactly.
"""

from __future__ import annotations

import math

from archir.ir import Module
from archir.passes.inline import inline_calls

_BUFFERS = {"running_mean", "running_var"}


def _flat(module: Module) -> Module:
    return module if len(module.graphs) == 1 else inline_calls(module)


def nats_params(module: Module) -> int:
    """Learnable parameter count (every op's declared weights except BN running stats)."""
    total = 0
    for _, op in _flat(module).walk():
        if op.opdef.params is None:
            continue
        shapes = op.opdef.params(tuple(v.type for v in op.operands), op.attrs)
        total += sum(math.prod(s) for k, s in shapes.items() if k not in _BUFFERS)
    return total


def nats_flops(module: Module) -> int:
    """NATS-Bench 'FLOPs' for one sample (batch dims count 1)."""
    total = 0
    for _, op in _flat(module).walk():
        out = op.results[0].type
        if op.name == "conv2d":
            cin = op.operands[0].type.shape[1]
            positions = out.numel() // out.shape[1]
            k = math.prod(op.attrs["kernel"])
            total += positions * out.shape[1] * (k * cin // op.attrs["groups"] + op.attrs["bias"])
        elif op.name == "linear":
            rows = out.numel() // out.shape[-1]
            fin = op.operands[0].type.shape[-1]
            total += rows * out.shape[-1] * (fin + op.attrs["bias"])
    return total
