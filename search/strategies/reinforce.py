"""REINFORCE with an RNN controller (NAS-RL, Zoph & Le 2017), rewarded by the objective's score,
which is MnasNet's ACC·(LAT/T)^w when the objective has an accuracy goal and a latency limit
(soft: w = −0.07; hard: w = 0 under T, −1 over it).

After each batch: loss = −mean((R − b)·log π(a)) − λ·mean(H), one Adam step; the baseline b
is an exponential moving average of rewards (decay 0.95; starts at the first batch's mean).
A failed evaluation is rewarded 0. Duplicates are rewarded with their first evaluation and
spend no budget, so a converged controller ends the search by the duplicate limit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from archir.frontends.spaces.space import Space
from archir.search.history import Proposal, Record
from archir.search.objectives.torch_util import torch_threads
from archir.search.strategies.base import Claim, Strategy
from archir.search.strategies.controller import Controller


class Reinforce(Strategy):
    name = "reinforce"

    def __init__(self, space: Space, seed: int, *, hidden: int = 64, lr: float = 3.5e-3,
                 baseline_decay: float = 0.95, entropy_weight: float = 1e-4, tanh_constant: float = 2.5,
                 valid_tries: int = 1000):
        super().__init__(space, seed)
        if not 0 <= baseline_decay < 1:
            raise ValueError(f"baseline_decay must be in [0, 1), got {baseline_decay}")
        self.hidden, self.lr, self.baseline_decay = hidden, lr, baseline_decay
        self.entropy_weight, self.tanh_constant, self.valid_tries = entropy_weight, tanh_constant, valid_tries
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.controller = Controller([len(d.domain) for d in space.decisions], hidden, tanh_constant)
        self.optimizer = torch.optim.Adam(self.controller.parameters(), lr=lr)
        self.baseline: float | None = None
        self.expected = 0  # results still to come for the last ask
        self.batch: list[tuple[list[int], float]] = []
        self.updates = 0

    def options(self) -> dict[str, Any]:
        return {"hidden": self.hidden, "lr": self.lr, "baseline_decay": self.baseline_decay,
                "entropy_weight": self.entropy_weight, "tanh_constant": self.tanh_constant,
                "valid_tries": self.valid_tries}

    def ask(self, n: int, claim: Claim) -> list[Proposal]:
        out: list[Proposal] = []
        drawn = 0
        # A space with constraints across decisions (DARTS: two distinct inputs per node, ~4% of
        # unconstrained draws) gets the policy conditioned on validity, by rejection, in batches.
        with torch_threads(1):
            while len(out) < n:
                if drawn >= self.valid_tries * n:
                    raise RuntimeError(f"the controller sampled {len(out)} valid {self.space.name} "
                                       f"architectures in {drawn} draws, not {n}")
                k = max(4 * (n - len(out)), 16)
                for picks in self.controller.sample(self.rng, k):
                    assignment = {d.name: d.domain[p] for d, p in zip(self.space.decisions, picks)}
                    if len(out) < n and self.space.is_valid(assignment):
                        claim(assignment)
                        out.append(Proposal(assignment, {"origin": "controller", "picks": picks}))
                drawn += k
        self.expected += n
        return out

    def tell(self, proposal: Proposal, record: Record) -> None:
        reward = record.score if record.score is not None else 0.0
        self.batch.append((list(proposal.info["picks"]), float(reward)))
        self.expected -= 1
        if self.expected == 0:
            self._update()

    def _update(self) -> None:
        picks = [p for p, _ in self.batch]
        rewards = torch.tensor([r for _, r in self.batch], dtype=torch.float64)
        if self.baseline is None:
            self.baseline = float(rewards.mean())
        advantage = (rewards - self.baseline).float()
        with torch_threads(1):
            logp, entropy = self.controller.log_prob_entropy(picks)
            loss = -(advantage * logp).mean() - self.entropy_weight * entropy.mean()
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
        for r in rewards.tolist():
            self.baseline = self.baseline_decay * self.baseline + (1 - self.baseline_decay) * r
        self.batch = []
        self.updates += 1

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, arrays = super().state()
        arrays = {f"controller/{k}": v.detach().numpy().copy()
                  for k, v in self.controller.state_dict().items()}
        opt = self.optimizer.state_dict()
        for pid, slots in opt["state"].items():
            for name, value in slots.items():
                arrays[f"adam/{pid}/{name}"] = value.detach().numpy().copy()
        state.update(baseline=self.baseline, expected=self.expected, batch=self.batch, updates=self.updates,
                     adam_groups=opt["param_groups"])
        return state, arrays

    def load_state(self, state: Mapping[str, Any], arrays: Mapping[str, np.ndarray],
                   records: Sequence[Record]) -> None:
        super().load_state(state, arrays, records)
        own = self.controller.state_dict()
        weights = {k[len("controller/"):]: torch.from_numpy(np.array(v)) for k, v in arrays.items()
                   if k.startswith("controller/")}
        if set(weights) != set(own) or any(weights[k].shape != own[k].shape for k in own):
            raise ValueError("the checkpoint's controller weights do not fit this space's controller")
        self.controller.load_state_dict(weights)
        slots: dict[int, dict[str, torch.Tensor]] = {}
        for k, v in arrays.items():
            if k.startswith("adam/"):
                _, pid, name = k.split("/")
                slots.setdefault(int(pid), {})[name] = torch.from_numpy(np.array(v))
        # JSON turned tuples (Adam's betas) into lists; give the optimizer back what it saved.
        groups = [{k: v if k == "params" or not isinstance(v, list) else tuple(v) for k, v in g.items()}
                  for g in state["adam_groups"]]
        self.optimizer.load_state_dict({"state": slots, "param_groups": groups})
        self.baseline, self.expected, self.updates = state["baseline"], state["expected"], state["updates"]
        self.batch = [(list(p), float(r)) for p, r in state["batch"]]
