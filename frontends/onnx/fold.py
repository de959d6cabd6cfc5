"""Constant folding: a node whose inputs are all constants runs in ONNX's numpy reference
implementation, so folded values follow the ONNX spec exactly. ``Shape``/``Size`` fold from
the input's type; symbolic dims stay symbols through the ops of ``symbolic.FOLDS``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from onnx import ValueInfoProto, helper
from onnx.reference import ReferenceEvaluator

from archir.frontends.onnx.context import Context, Node
from archir.frontends.onnx.symbolic import FOLDS, concrete, is_symbolic

# Folding these would freeze one random draw or needs subgraphs; they are converted or rejected.
_NEVER = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial",
          "Bernoulli", "If", "Loop", "Scan", "SequenceMap"}
_FROM_TYPE = {"Shape", "Size"}


def foldable(node: Node, is_const: Callable[[str], bool], has_rank: Callable[[str], bool]) -> bool:
    if node.proto.domain not in ("", "ai.onnx") or node.op_type in _NEVER:
        return False
    if node.op_type == "Constant":
        return True
    if node.op_type in _FROM_TYPE:
        return is_const(node.input(0)) or has_rank(node.input(0))
    present = [n for n in node.inputs if n]
    return bool(present) and all(is_const(n) for n in present)


def fold(ctx: Context, node: Node) -> bool:
    """Fold ``node`` into constants; False leaves it to its converter (symbolic inputs)."""
    if node.op_type in _FROM_TYPE and node.input(0) not in ctx.consts:
        shape = ctx.type_of(node.input(0)).shape
        symbolic = not all(isinstance(d, int) for d in shape)
        if node.op_type == "Size":
            if symbolic:
                raise ctx.error(node, f"the size of {list(shape)} is not a single symbol")
            ctx.consts[node.outputs[0]] = np.array(np.prod(shape), dtype=np.int64)
        else:
            dims = np.array(shape, dtype=object if symbolic else np.int64)
            ctx.consts[node.outputs[0]] = dims[slice(node.attr("start", 0), node.attr("end", len(dims)))]
        return True
    args = [concrete(ctx.consts[n]) if n else None for n in node.inputs]
    if any(is_symbolic(a) for a in args):
        symbolic_fold = FOLDS.get(node.op_type)
        if symbolic_fold is None:
            return False
        ctx.consts[node.outputs[0]] = concrete(np.array(symbolic_fold(ctx, node, args), dtype=object))
        return True
    feeds = {name: a for name, a in zip(node.inputs, args) if name}
    try:
        # a one-node graph, as a bare NodeProto would run at the newest opset, not the model's
        graph = helper.make_graph([node.proto], "fold", [ValueInfoProto(name=n) for n in feeds],
                                  [ValueInfoProto(name=n) for n in node.outputs if n])
        results = ReferenceEvaluator(graph, opsets={"": ctx.opset}).run(None, feeds)
    except Exception as e:  # the reference implementation raises many kinds; all mean "bad node"
        raise ctx.error(node, f"constant folding failed: {type(e).__name__}: {e}") from None
    for name, value in zip([n for n in node.outputs if n], results):
        ctx.consts[name] = np.asarray(value)
    return True
