"""Accuracy from short proxy training: a few epochs on the handwritten digits (real, offline),
then top-1 accuracy on a fixed held-out third. Every candidate gets the same data, order,
initialisation seed and schedule, so differences come from the architecture.

Before evaluation the batch-norm statistics are recomputed over the training images with the
final weights (as Once-for-All does for every subnet): after a few hundred fast Adam steps the
running averages still describe the early weights, and a net scoring 94% with batch statistics
can score 22% with its running ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from archir.search.candidate import Candidate
from archir.search.objectives.base import EvaluationError, Measure, register
from archir.search.objectives.data import NUM_CLASSES, digits
from archir.search.objectives.torch_util import concrete_shape, image_input, seeded_model


@register
@dataclass(frozen=True)
class ProxyTrain(Measure):
    kind = "proxy-train"
    uses_torch = True
    epochs: int = 2
    batch_size: int = 64
    lr: float = 3e-3
    train_limit: int | None = None  # the first N training images (None: all 1,198)
    seed: int = 0

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0:
            raise ValueError("proxy-train needs epochs >= 1, batch_size >= 1 and lr > 0")

    @property
    def metrics(self) -> tuple[str, ...]:
        return ("accuracy", "train_loss")

    def describe(self) -> str:
        return f"proxy-train ({self.epochs} epochs on handwritten digits)"

    def measure(self, candidate: Candidate) -> dict[str, float]:
        module = candidate.module
        chw = concrete_shape(image_input(module, "proxy-train"), 1)[1:]
        x, y = digits("train", chw, self.train_limit)
        xv, yv = digits("val", chw)
        model = seeded_model(module, self.seed).train()
        opt = torch.optim.Adam(model.parameters(), lr=self.lr)
        steps = self.epochs * math.ceil(len(x) / self.batch_size)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
        order = torch.Generator().manual_seed(self.seed)
        for _ in range(self.epochs):
            loss_sum, seen = 0.0, 0  # the last epoch's mean is the reported training loss
            perm = torch.randperm(len(x), generator=order)
            for i in range(0, len(x), self.batch_size):
                batch = perm[i:i + self.batch_size]
                logits = model(x[batch])
                if logits.ndim != 2 or logits.shape[1] < NUM_CLASSES:
                    raise ValueError(f"proxy-train needs [N, >= {NUM_CLASSES}] logits, got "
                                     f"{tuple(logits.shape)}")
                loss = F.cross_entropy(logits, y[batch])
                if not torch.isfinite(loss):
                    raise EvaluationError("proxy-train: the loss diverged")
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                loss_sum, seen = loss_sum + loss.item() * len(batch), seen + len(batch)
        recalibrate_batch_norm(model, x, self.batch_size)
        model.eval()
        with torch.no_grad():
            correct = sum(int((model(xv[i:i + 256]).argmax(1) == yv[i:i + 256]).sum())
                          for i in range(0, len(xv), 256))
        return {"accuracy": correct / len(xv), "train_loss": loss_sum / seen}


def recalibrate_batch_norm(model: torch.nn.Module, x: torch.Tensor, batch_size: int) -> None:
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average over every batch below
    model.train()
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            model(x[i:i + batch_size])
