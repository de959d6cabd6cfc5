"""Analytic (not measured) kernel latency for mobile GPUs that have no device here.

Per launch, a roofline with a latency roof:

    t = dispatch + max(FLOPs / (peak * eff * reuse), bytes / (bandwidth * bw_eff * storage_eff),
                       iterations * iter_us * iter_weight)

peak and bandwidth are spec-sheet figures (analytic_devices.py); eff, bw_eff, iter_us,
iter_weight and dispatch were fitted on nn-Meter's Adreno 640 kernel timings
(analytic_calibration.py); the phases of each implementation (Winograd's three launches, a
mat-vec's split loop, ...) are in analytic_work.py. The third term is why small kernels do not
get faster in proportion to their FLOPs: a thread's dependent loop iterations each wait for
memory when there are too few threads to hide it.

Every figure this module produces is labelled analytic: ``AnalyticEstimate.kind`` and
``AnalyticSummary.kind`` are ``"analytic"``, with the device and calibration in ``source``.
``latency_std_us`` is a fixed fraction of the estimate (the device row's ``rel_std``: 30% on
the Adreno 640 it was fitted on, more where it was transferred) to say the figure is rough.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from archir.ir import Graph, Module, Operation
from archir.ops.structure import choice_cell
from archir.passes.latency.analytic_calibration import CLASSES
from archir.passes.latency.analytic_devices import AnalyticDevice, device_for
from archir.passes.latency.analytic_work import AnalyticModelError, Phase, kernel_phases
from archir.passes.targets import compile_for, get_target
from archir.passes.targets.spec import Target
from archir.types import ParamRef

KIND = "analytic"

__all__ = [
    "KIND", "AnalyticEstimate", "AnalyticModelError", "AnalyticSummary", "analytic_latency_us",
    "analytic_source", "annotate_analytic", "phase_us", "predict_latency_analytic",
]


def analytic_source(target: str | Target) -> str:
    dev = device_for(get_target(target).name)
    return f"analytic roofline, not measured: {dev.describe()}; {dev.calibrated}"


def phase_us(p: Phase, dev: AnalyticDevice, precision: str, storage: str) -> float:
    c = CLASSES[p.cls]
    compute = p.flops / (dev.peak_gflops(precision) * 1e3 * c.eff * p.reuse)  # GFLOPS * 1e3 = FLOP/us
    memory = p.bytes / (dev.bandwidth_gbs * 1e3 * c.bw_eff * dev.storage_eff[storage])  # B/us
    loop = p.iters * dev.iter_us * c.iter_weight
    return dev.dispatch_us + max(compute, memory, loop)


def analytic_latency_us(kernel_ops: Sequence[Operation], kernel_attrs: Mapping[str, Any],
                        target: str | Target) -> float:
    """Analytic latency in microseconds of one selected kernel on ``target``'s GPU."""
    t = get_target(target)
    dev = device_for(t.name)
    ctx = t.context(kernel_attrs["precision"] or None)
    phases = kernel_phases(kernel_ops, kernel_attrs, ctx)
    return sum(phase_us(p, dev, kernel_attrs["precision"], kernel_attrs["storage"]) for p in phases)


@dataclass(frozen=True)
class AnalyticSummary:
    """What ``annotate_analytic`` did: every figure it wrote is analytic, never measured."""

    target: str
    kernels: int  # kernels annotated (call kernels carry their callee's total)
    total_us: float  # one run of the main graph
    kind: str = KIND
    source: str = ""


@dataclass(frozen=True)
class AnalyticEstimate:
    target: str
    ms: float
    std_ms: float
    kind: str = KIND
    source: str = ""


def _callee(op: Operation, module: Module) -> Graph:
    if op.name == "choice":
        raise AnalyticModelError("the module is a search space (it has choice ops); specialize it first")
    ref = op.attrs["callee"]
    if isinstance(ref, ParamRef):
        return module.graphs[choice_cell(module.params[ref.name].default, "")]
    return module.graphs[ref.name]


class _Annotator:
    """Annotates each graph once; a call kernel costs its callee's total per call."""

    def __init__(self, module: Module, target: Target):
        self.module, self.target = module, target
        self.rel_std = device_for(target.name).rel_std
        self.graph_us: dict[str, float] = {}
        self.count = 0

    def graph(self, g: Graph) -> float:
        if g.name in self.graph_us:
            return self.graph_us[g.name]
        self.graph_us[g.name] = 0.0  # recursion guard; the verifier rejects cyclic calls
        total = 0.0
        for kernel, ops in g.kernels():
            if kernel.attrs["target"] != self.target.name:
                raise AnalyticModelError(f"@{g.name} has kernels fused for '{kernel.attrs['target']}', "
                                         f"not '{self.target.name}'")
            calls = [op for op in ops if op.name in ("call", "choice")]
            if calls:
                us = sum(self.graph(_callee(op, self.module)) for op in calls)
            else:
                us = analytic_latency_us(ops, kernel.attrs, self.target)
            kernel.attrs["latency_us"] = round(us, 3)  # ns resolution: readable IR
            kernel.attrs["latency_std_us"] = round(self.rel_std * us, 3)
            kernel.attrs["latency_source"] = "analytic"
            self.count += 1
            total += us
        self.graph_us[g.name] = total
        return total


def _check_fused(module: Module, target: Target) -> None:
    loose = sorted({op.name for _, op in module.walk() if op.kernel is None})
    if loose:
        raise AnalyticModelError(f"ops outside kernels ({', '.join(loose)}); run "
                                 f"fuse{{target={target.name}}},select-kernels{{target={target.name}}} first")


def annotate_analytic(module: Module, target: str | Target) -> AnalyticSummary:
    """Set analytic latency_us / latency_std_us on every kernel of a fused, selected ``module``
    in place (what a pass's run does on the manager's copy)."""
    t = get_target(target)
    _check_fused(module, t)
    a = _Annotator(module, t)
    for g in module.graphs.values():
        a.graph(g)
    return AnalyticSummary(t.name, a.count, a.graph(module.main), source=analytic_source(t))


def predict_latency_analytic(module: Module, target: str | Target) -> AnalyticEstimate:
    """Analytic end-to-end latency of one run of ``module``: the sum of its kernels (serial, as
    nn-Meter sums per-kernel GPU times). An unfused module is compiled for ``target`` on a copy;
    ``module`` itself is never changed."""
    t = get_target(target)
    fused = any(op.kernel is not None for _, op in module.walk())
    work = module.clone() if fused else compile_for(module, t)
    s = annotate_analytic(work, t)
    dev = device_for(t.name)
    return AnalyticEstimate(t.name, s.total_us / 1e3, dev.rel_std * s.total_us / 1e3, source=s.source)
