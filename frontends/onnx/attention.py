"""The opset-23 Attention op on (batch, seq, heads·dim) inputs → the IR's ``attention``."""

from __future__ import annotations

import numpy as np

from archir.frontends.onnx.context import Context, Node
from archir.frontends.onnx.registry import converter


@converter("Attention", since=23)
def attention(ctx: Context, node: Node) -> None:
    if any(node.input(i) for i in (4, 5)) or any(ctx.used(o) for o in node.outputs[1:]):
        raise ctx.error(node, "past/present key-value caches are not supported")
    if node.attr("softcap", 0.0) or node.attr("qk_matmul_output_mode", 0):
        raise ctx.error(node, "softcap / qk_matmul_output_mode are not supported")
    q, k, v = (ctx.value(node.input(i), node) for i in range(3))
    if q.type.rank != 3:
        raise ctx.error(node, "only 3-D (batch, seq, heads·dim) inputs are supported")
    operands = [q, k, v]
    if node.input(3):
        mask = ctx.const(node.input(3))
        if mask is not None and mask.dtype == np.bool_:  # True keeps a position
            operands.append(ctx.materialize(np.where(mask, 0.0, -np.inf), node.input(3), like=q))
        elif mask is None and ctx.type_of(node.input(3)).dtype.value == "bool":
            raise ctx.error(node, "a non-constant boolean attn_mask is not supported")
        else:
            operands.append(ctx.value(node.input(3), node))
    y = ctx.emit(node, "attention", *operands, num_heads=node.attr("q_num_heads"),
                 num_kv_heads=node.attr("kv_num_heads"), causal=bool(node.attr("is_causal", 0)),
                 scale=float(node.attr("scale", 0.0)))
    ctx.bind(node.outputs[0], y)
