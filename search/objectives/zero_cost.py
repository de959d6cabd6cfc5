"""Zero-cost proxies: scores of an untrained network that rank architectures without training
(Abdelfattah et al., ICLR 2021; Mellor et al., ICML 2021), computed on ``to_torch`` of the IR.

- synflow: sum over weights of |θ · ∂R/∂θ| with every weight made positive, an all-ones input
  and R the sum of the outputs, in float64 (Tanaka et al., 2020). Data-free. Reported as
  ln(1 + sum) because the sum spans hundreds of orders of magnitude across a space.
- naswot: log|K| of the kernel K = c·cᵀ + (1−c)·(1−c)ᵀ, c the binary activation pattern of
  every rectifier for a batch of real images. The pattern is read by a compiler rewrite: the
  flat IR returns every activation as an extra output, so no hooks are needed (the emitted
  PyTorch calls activations functionally).
- grad_norm: sum over weights of ‖∂L/∂θ‖₂ for cross-entropy on a batch of real images.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from archir.ir import Graph, Module
from archir.search.candidate import Candidate
from archir.search.objectives.base import EvaluationError, Measure, register
from archir.search.objectives.data import NUM_CLASSES, digits
from archir.search.objectives.torch_util import concrete_shape, finite, image_input, seeded_model

# Activations whose output is positive exactly where the unit is "on".
RECTIFIERS = frozenset({"relu", "relu6", "leaky_relu", "hardswish", "gelu", "silu", "elu", "mish", "prelu"})


@register
@dataclass(frozen=True)
class Synflow(Measure):
    kind = "synflow"
    uses_torch = True
    seed: int = 0

    def measure(self, candidate: Candidate) -> dict[str, float]:
        module = candidate.module
        model = seeded_model(module, self.seed).double().eval()  # eval: BN is the identity at init
        with torch.no_grad():
            for p in model.parameters():
                p.abs_()
        inputs = []
        for a in module.main.args:
            shape = concrete_shape(a.type, 1)
            inputs.append(torch.ones(shape, dtype=torch.float64) if a.type.dtype.is_float
                          else torch.ones(shape, dtype=torch.long))
        out = model(*inputs)
        outs = out if isinstance(out, tuple | list) else (out,)
        torch.stack([o.sum() for o in outs]).sum().backward()
        total = sum(float((p.detach() * p.grad).abs().sum())
                    for p in model.parameters() if p.grad is not None)
        return {"synflow": finite("synflow", math.log1p(finite("synflow sum", total)))}


def with_activation_outputs(flat: Module) -> tuple[Module, int]:
    """A copy of the one-graph module that also returns every rectifier's output."""
    work = flat.clone()
    g: Graph = work.main
    acts = [op.results[0] for op in g.ops if op.name in RECTIFIERS]
    n = len(g.outputs)
    g.outputs = [*g.outputs, *acts]
    return work, n


@register
@dataclass(frozen=True)
class Naswot(Measure):
    kind = "naswot"
    uses_torch = True
    seed: int = 0
    batch_size: int = 32

    def measure(self, candidate: Candidate) -> dict[str, float]:
        t = image_input(candidate.module, "naswot")
        module, n_out = with_activation_outputs(candidate.flat)
        if len(module.main.outputs) == n_out:
            raise EvaluationError("naswot: the network has no rectifier activations")
        x, _ = digits("train", concrete_shape(t, 1)[1:], self.batch_size)
        model = seeded_model(module, self.seed).train()  # batch statistics, as at initialisation
        with torch.no_grad():
            outs = model(x)
        codes = torch.cat([(a > 0).flatten(1) for a in outs[n_out:]], dim=1).double()
        k = codes @ codes.T + (1 - codes) @ (1 - codes).T
        sign, logdet = torch.linalg.slogdet(k)
        # A singular K means two images share one activation pattern: the net cannot tell them apart.
        return {"naswot": 0.0 if sign <= 0 else max(0.0, finite("naswot", float(logdet)))}


@register
@dataclass(frozen=True)
class GradNorm(Measure):
    kind = "grad_norm"
    uses_torch = True
    seed: int = 0
    batch_size: int = 64

    def measure(self, candidate: Candidate) -> dict[str, float]:
        module = candidate.module
        t = image_input(module, "grad_norm")
        x, y = digits("train", concrete_shape(t, 1)[1:], self.batch_size)
        model = seeded_model(module, self.seed).train()
        logits = model(x)
        if logits.ndim != 2 or logits.shape[1] < NUM_CLASSES:
            raise ValueError(f"grad_norm needs [N, >= {NUM_CLASSES}] logits, got {tuple(logits.shape)}")
        F.cross_entropy(logits, y).backward()
        total = sum(float(p.grad.norm()) for p in model.parameters() if p.grad is not None and p.ndim > 1)
        return {"grad_norm": finite("grad_norm", total)}
