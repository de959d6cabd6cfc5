"""``fold-bn``: fold an inference-mode batch_norm into the conv / linear that feeds it.

    y = gamma * (W x + b - mean) / sqrt(var + eps) + beta
      = (s W) x + (s (b - mean) + beta),   s = gamma / sqrt(var + eps)

The producer must be the batch_norm's operand with no other use, and its output channels must
be the batch_norm's axis 1 (always for conv1d/conv2d; for linear only on (N, features)
inputs). With weights on both ops the folded weights are computed (in float64, stored in the
producer's dtype); with weights on neither (an architecture without numbers) the fold is
structural: the producer gains a bias. A producer with weights and a batch_norm without (or
the reverse) is left alone, since there is nothing sound to compute.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from archir.ir import Module, Operation
from archir.passes.base import Pass, PassContext, register
from archir.passes.rewrite import Rewriter, apply_patterns, pattern

_PRODUCERS = ("conv1d", "conv2d", "linear")


def _folded_weights(producer: Operation, bn: Operation) -> dict[str, np.ndarray]:
    w = producer.weights["weight"]
    bias = producer.weights.get("bias")
    p = {k: v.astype(np.float64) for k, v in bn.weights.items()}  # per-channel vectors: cheap
    scale = p["weight"] / np.sqrt(p["running_var"] + bn.attrs["eps"])
    b = bias.astype(np.float64) if bias is not None else np.zeros(w.shape[0])
    new_b = (b - p["running_mean"]) * scale + p["bias"]
    # the weight tensor is the bulk of the work: one multiply in its own dtype, as a runtime's
    # fusion does (one rounding per element)
    new_w = w * scale.astype(w.dtype).reshape((-1,) + (1,) * (w.ndim - 1))
    return {"weight": new_w, "bias": new_b.astype(w.dtype)}


def _fold(bn: Operation, rw: Rewriter, weightless: bool) -> bool:
    producer = rw.producer(bn.operands[0])
    if producer is None or producer.name not in _PRODUCERS or rw.sole_user(producer.result) is not bn:
        return False
    if producer.name == "linear" and producer.result.type.rank != 2:
        return False  # batch_norm normalises axis 1, which is not the features axis here
    if (producer.weights is None) != (bn.weights is None):
        return False
    if producer.weights is None and not weightless:
        return False
    weights = _folded_weights(producer, bn) if producer.weights is not None else None
    # a bias never changes a conv's or linear's result type
    new = rw.copy_op(producer, {"bias": True}, before=bn, weights=weights, same_types=True)
    if new.result.name_hint is None:
        new.result.name_hint = bn.result.name_hint
    rw.replace_op(bn, [new.result])
    rw.erase(producer)
    return True


@register
@dataclass(frozen=True)
class FoldBatchNorm(Pass):
    name = "fold-bn"
    summary = "fold batch_norm into the preceding conv1d / conv2d / linear"

    weightless: bool = True  # also fold (structurally) when neither op carries weights

    def run(self, module: Module, ctx: PassContext) -> bool:
        weightless = self.weightless

        @pattern("fold-bn", "batch_norm")
        def fold(op: Operation, rw: Rewriter) -> bool:
            return _fold(op, rw, weightless)

        return apply_patterns(module, [fold], dce=False)
