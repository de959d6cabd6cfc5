"""Objectives by name, as the command line offers them. Every objective also measures params and
MACs (cheap, from the cost pass) and, given a target, latency; the name picks the goal."""

from __future__ import annotations

from archir.search.objectives.base import Measure
from archir.search.objectives.callback import Callback
from archir.search.objectives.cost import Cost
from archir.search.objectives.latency import Latency
from archir.search.objectives.objective import Objective, build_objective
from archir.search.objectives.pareto import Axis
from archir.search.objectives.proxy_train import ProxyTrain
from archir.search.objectives.reward import Goal
from archir.search.objectives.zero_cost import GradNorm, Naswot, Synflow

OBJECTIVES = {
    "latency": "minimise predicted latency (needs a target)",
    "synflow": "maximise the synflow zero-cost proxy (data-free)",
    "naswot": "maximise the NASWOT zero-cost proxy (a batch of digits)",
    "grad-norm": "maximise the grad-norm zero-cost proxy (a batch of digits)",
    "proxy-train": "maximise accuracy after a short proxy training on handwritten digits",
    "macs": "maximise MACs, a capacity proxy (not an accuracy estimate)",
    "params": "maximise parameters, a capacity proxy (not an accuracy estimate)",
}


def standard_objective(name: str, *, target: str | None = None, predictor: str | None = None,
                       force: bool = False, max_latency_ms: float | None = None,
                       max_params: float | None = None, max_macs: float | None = None, reward: str = "hard",
                       seed: int = 0, epochs: int = 2, callback: str | None = None,
                       threads: int = 1) -> Objective:
    """``callback`` (``module:function``) replaces the named goal with the user's metric ``value``."""
    if name not in OBJECTIVES and callback is None:
        raise ValueError(f"unknown objective {name!r} (known: {', '.join(OBJECTIVES)})")
    if target is None and (name == "latency" or max_latency_ms is not None):
        raise ValueError("latency needs a target (--target), e.g. note10-cpu or ort-cpu")
    measures: list[Measure] = []
    if callback is not None:
        measures.append(Callback(callback, ("value",)))
        goal = Goal("value")
    else:
        signals: dict[str, Measure] = {"synflow": Synflow(seed), "naswot": Naswot(seed),
                                       "grad-norm": GradNorm(seed),
                                       "proxy-train": ProxyTrain(epochs=epochs, seed=seed)}
        if name in signals:
            measures.append(signals[name])
            goal = Goal(signals[name].metrics[0])
        else:
            goal = {"latency": Goal("latency_ms", "minimize"), "macs": Goal("macs"),
                    "params": Goal("params")}[name]
    measures.append(Cost())
    if target is not None:
        measures.append(Latency(target, predictor, force))
    return build_objective(measures, goal, max_latency_ms=max_latency_ms, max_params=max_params,
                           max_macs=max_macs, reward=reward, threads=threads)


def pareto_axes(objective: Objective) -> list[Axis]:
    """The goal's metric, then latency and params where measured (each axis once)."""
    names = set(objective.metric_names)
    axes = [Axis(objective.goal.metric, "max" if objective.goal.mode == "maximize" else "min")]
    for metric in ("latency_ms", "params"):
        if metric in names and metric != objective.goal.metric:
            axes.append(Axis(metric, "min"))
    return axes
