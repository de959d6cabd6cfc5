"""Latency of a candidate on a target, in ms.

- ``note10-cpu``: Once-for-All MobileNetV3 subnets only. The subnet's blocks become OFA's table
  keys (``lut_ofa.subnet_keys``) and ``archir.passes.latency``'s LUT model answers them: measured
  means for keys in the tables, its prediction for the others. Label: measured on Samsung Note10
  by OFA, predicted by archir's LUT model.
- any other target: ``archir.predict_latency(module, target)``, the per-kernel predictor trained
  for that target (``archir profile``), optionally from an explicit predictor path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from archir.frontends.spaces.space import Space
from archir.passes.latency.lut_cache import note10_predictor  # noqa: F401  (re-exported)
from archir.search.candidate import Candidate
from archir.search.objectives.base import Measure, register

NOTE10 = "note10-cpu"
NOTE10_LABEL = "measured on Samsung Note10 by OFA, predicted by archir's LUT model"
_STAGES, _BLOCKS = 5, 4


@register
@dataclass(frozen=True)
class Latency(Measure):
    kind = "latency"
    target: str
    predictor: str | None = None  # a saved predictor (LUT JSON for note10-cpu, a directory otherwise)
    force: bool = False  # accept a kernel predictor trained on another device

    @property
    def metrics(self) -> tuple[str, ...]:
        return ("latency_ms",)

    def describe(self) -> str:
        return f"latency on {self.target} ({self.provenance()})"

    def provenance(self) -> str:
        """Where the figures come from, as the target states it: no prediction passes for a measurement."""
        if self.target == NOTE10:
            return NOTE10_LABEL
        from archir.passes.targets import get_target

        model = get_target(self.target).latency
        return f"archir.predict_latency; {model.kind}: {model.source}"

    def measure(self, candidate: Candidate) -> dict[str, float]:
        if self.target == NOTE10:
            return {"latency_ms": note10_latency_ms(candidate.space, candidate.assignment, self.predictor)}
        from archir.passes.latency import predict_latency

        return {"latency_ms": float(predict_latency(candidate.module, self.target, predictor=self.predictor,
                                                    force=self.force))}


def check_note10_space(space: Space) -> None:
    """The tables measure the w1.2 OFA supernet: any other space or width would be mislabelled."""
    from archir.frontends.spaces.ofa_mbv3 import OFAMobileNetV3Space
    from archir.passes.latency.lut_ofa import STEM

    if not isinstance(space, OFAMobileNetV3Space):
        raise ValueError(f"target {NOTE10} has latency tables for Once-for-All MobileNetV3 subnets only, "
                         f"not for the {space.name} space; use a target with a trained predictor")
    stem = next(op for _, op in space.module.walk() if op.name == "conv2d").attrs["out_channels"]
    if stem != STEM:
        raise ValueError(f"the {NOTE10} tables measure the w1.2 OFA supernet (stem {STEM} channels); this "
                         f"space has a {stem}-channel stem: build it with width_mult=1.2")


def note10_latency_ms(space: Space, assignment: Mapping[str, Any], predictor: str | None = None) -> float:
    from archir.passes.latency.lut_ofa import OfaSubnet, subnet_keys

    check_note10_space(space)
    depths = tuple(assignment[f"s{s}.depth"] for s in range(1, _STAGES + 1))
    present = [f"s{s}.b{i}" for s, d in zip(range(1, _STAGES + 1), depths) for i in range(d)]
    net = OfaSubnet(assignment["resolution"], depths, tuple(assignment[f"{b}.kernel"] for b in present),
                    tuple(assignment[f"{b}.expand"] for b in present))
    return float(sum(note10_predictor(predictor).predict_keys(subnet_keys(net))))
