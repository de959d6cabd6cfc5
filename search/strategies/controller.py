"""The NAS-RL controller (Zoph & Le, ICLR 2017; ENAS's form): an LSTM that emits one decision per
step, each from its own softmax head, feeding an embedding of its pick to the next step.

Sampling draws with a Python ``random.Random`` from the softmax probabilities, so the search's
JSON checkpoint holds the whole sampling state; log-probabilities for the update are recomputed
by teacher forcing the recorded picks.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import torch
from torch import nn


class Controller(nn.Module):
    def __init__(self, sizes: Sequence[int], hidden: int = 64, tanh_constant: float = 2.5):
        super().__init__()
        self.sizes = tuple(sizes)
        self.tanh_constant = tanh_constant
        self.start = nn.Parameter(torch.zeros(1, hidden))
        self.cell = nn.LSTMCell(hidden, hidden)
        self.embeds = nn.ModuleList(nn.Embedding(k, hidden) for k in self.sizes)
        self.heads = nn.ModuleList(nn.Linear(hidden, k) for k in self.sizes)
        for p in self.parameters():  # ENAS's initialisation: a near-uniform first policy
            nn.init.uniform_(p, -0.1, 0.1)

    def _logits(self, i: int, h: torch.Tensor) -> torch.Tensor:
        logits = self.heads[i](h)
        # ENAS: bounded logits keep the policy from collapsing onto its first lucky picks.
        return self.tanh_constant * torch.tanh(logits) if self.tanh_constant > 0 else logits

    @torch.no_grad()
    def sample(self, rng: random.Random, k: int = 1) -> list[list[int]]:
        """``k`` independent sequences, run as one batch (rows draw from ``rng`` in order)."""
        h = c = torch.zeros(k, self.start.shape[1])
        x = self.start.expand(k, -1)
        picks: list[list[int]] = [[] for _ in range(k)]
        for i in range(len(self.sizes)):
            h, c = self.cell(x, (h, c))
            probs = torch.softmax(self._logits(i, h).double(), dim=1).tolist()
            step = [_draw(row, rng.random()) for row in probs]
            for seq, pick in zip(picks, step):
                seq.append(pick)
            x = self.embeds[i](torch.tensor(step))
        return picks

    def log_prob_entropy(self, picks: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Per sequence: the summed log-probability of its picks and the summed entropy."""
        actions = torch.tensor(picks, dtype=torch.long)
        n = len(actions)
        h = c = torch.zeros(n, self.start.shape[1])
        x = self.start.expand(n, -1)
        logp = torch.zeros(n)
        entropy = torch.zeros(n)
        for i in range(len(self.sizes)):
            h, c = self.cell(x, (h, c))
            log_probs = torch.log_softmax(self._logits(i, h), dim=1)
            logp = logp + log_probs.gather(1, actions[:, i:i + 1]).squeeze(1)
            entropy = entropy - (log_probs.exp() * log_probs).sum(1)
            x = self.embeds[i](actions[:, i])
        return logp, entropy


def _draw(probs: Sequence[float], u: float) -> int:
    total = 0.0
    for i, p in enumerate(probs):
        total += p
        if u < total:
            return i
    return len(probs) - 1  # rounding left the cumulative sum just under 1
