"""Objectives: measures (latency, cost, zero-cost proxies, proxy training, user callbacks), MnasNet-form
scores under constraints, and Pareto fronts."""

from archir.search.objectives.base import EvaluationError, Measure, measure_from_json
from archir.search.objectives.callback import Callback
from archir.search.objectives.catalog import OBJECTIVES, pareto_axes, standard_objective
from archir.search.objectives.cost import Cost
from archir.search.objectives.latency import NOTE10, NOTE10_LABEL, Latency, note10_latency_ms
from archir.search.objectives.objective import Evaluation, Objective, build_objective
from archir.search.objectives.pareto import Axis, non_dominated_sort, pareto_front
from archir.search.objectives.proxy_train import ProxyTrain
from archir.search.objectives.reward import Constraint, Goal
from archir.search.objectives.zero_cost import GradNorm, Naswot, Synflow

__all__ = [
    "NOTE10", "NOTE10_LABEL", "OBJECTIVES", "Axis", "Callback", "Constraint", "Cost", "Evaluation",
    "EvaluationError", "Goal", "GradNorm", "Latency", "Measure", "Naswot", "Objective", "ProxyTrain",
    "Synflow",
    "build_objective", "measure_from_json", "non_dominated_sort", "note10_latency_ms", "pareto_axes",
    "pareto_front", "standard_objective",
]
