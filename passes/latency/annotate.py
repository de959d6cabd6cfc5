"""``annotate-latency{target=T}`` and ``archir.predict_latency(module, target)``.

The pass sets ``latency_us`` and ``latency_std_us`` on every kernel: the kernel's predicted
standalone time adjusted by the calibration's per-kernel terms (scale, weight-streaming floor,
dispatch). A model's latency is the sum of
its kernels plus the calibration's per-run intercept; a ``call`` runs its cell's kernels once per
call. A kernel family the predictor has no model for is an error, never a silent zero.
"""

from __future__ import annotations

from dataclasses import dataclass

from archir.ir import Graph, Module
from archir.ops.structure import choice_cell
from archir.passes.base import Pass, PassContext, PassError, register
from archir.passes.latency.analytic import annotate_analytic, predict_latency_analytic
from archir.passes.latency.analytic_devices import NoAnalyticDevice
from archir.passes.latency.kernel_features import kernel_item
from archir.passes.latency.kernel_keys import regions
from archir.passes.latency.kernel_predictor import WEIGHT_BYTES, KernelPredictor, MissingKernelModel
from archir.passes.latency.kernel_registry import load_predictor
from archir.passes.latency.lut_ir import annotate_lut, is_lut_target, predict_latency_lut
from archir.passes.targets import compile_for, get_target
from archir.types import ParamRef

_CALLS = ("call", "choice")


class LatencyError(ValueError):
    pass


def use_analytic(target: str, model: str) -> bool:
    """The analytic model answers when asked (model=analytic) or when it is the target's own
    latency model (kind 'analytic'); model=trained forces the trained predictor."""
    if model not in ("", "trained", "analytic"):
        raise LatencyError(f"model must be 'trained' or 'analytic', not '{model}'")
    return model == "analytic" or (not model and get_target(target).latency.kind == "analytic")


def _callee(op, module: Module) -> Graph:
    if op.name == "choice":
        raise LatencyError("the module is a search space (it has choice ops); specialize it first")
    ref = op.attrs["callee"]
    if isinstance(ref, ParamRef):
        ref = module.params[ref.name].default
        return module.graphs[choice_cell(ref, "")]
    return module.graphs[ref.name]


Regions = dict[str, list]


def _fused_regions(module: Module, target: str) -> Regions | None:
    """Every graph's regions when all ops are in kernels of ``target``; None when no op is in one."""
    out: Regions = {}
    seen = loose = False
    for g in module.graphs.values():
        regs = out[g.name] = regions(g)
        for kernel, _, _ in regs:
            if kernel is None:
                loose = True
            else:
                seen = True
                if kernel.attrs["target"] != target:
                    raise LatencyError(f"@{g.name} has kernels fused for '{kernel.attrs['target']}', "
                                       f"not '{target}'")
    if seen and loose:
        raise LatencyError(f"some ops sit outside kernel regions; run fuse{{target={target}}} on "
                           f"the whole module")
    return out if seen else None


class _Walker:
    """Sums every graph's kernels once (by region key, mostly cache hits); a call adds its
    callee's latency."""

    def __init__(self, module: Module, predictor: KernelPredictor, regs: Regions):
        self.module = module
        self.p = predictor
        self.regions = regs
        self.graph_us: dict[str, float] = {}

    def graph(self, g: Graph) -> float:
        if g.name in self.graph_us:
            return self.graph_us[g.name]
        self.graph_us[g.name] = 0.0  # recursion guard; the verifier rejects cyclic calls
        total = 0.0
        keyed = []
        for _, ops, key in self.regions[g.name]:
            if key is None:
                total += sum(self.graph(_callee(op, self.module)) for op in ops if op.name in _CALLS)
            else:
                keyed.append((key, ops))
        try:
            total += sum(self.p.in_model_us(keyed))
        except MissingKernelModel as e:
            raise LatencyError(str(e)) from None
        self.graph_us[g.name] = total
        return total


def annotate_module(module: Module, predictor: KernelPredictor) -> None:
    """Set latency_us / latency_std_us on every kernel of ``module`` in place."""
    c = predictor.calibration
    for g in module.graphs.values():
        found = [(kernel, kernel_item(ops)) for kernel, ops, key in regions(g) if key is not None]
        try:
            preds = predictor.predict_raw([item for _, item in found], with_std=True)
        except MissingKernelModel as e:
            raise LatencyError(str(e)) from None
        for (kernel, item), (raw, std) in zip(found, preds):
            kernel.attrs["latency_us"] = round(c.in_model(raw, item[2][WEIGHT_BYTES]), 3)
            kernel.attrs["latency_std_us"] = round(c.scale * std, 3) if std == std and raw > 0 else (
                0.0 if raw <= 0 else -1.0)
            kernel.attrs["latency_source"] = "measured"  # a predictor trained on this machine


def prepare(module: Module, target: str) -> Module:
    """``module`` itself when already fused for ``target``, else a fused and selected copy."""
    if _fused_regions(module, target) is not None:
        return module
    return compile_for(module, target)


def predict_latency(module: Module, target: str, *, predictor: KernelPredictor | str | None = None,
                    force: bool = False, model: str = "") -> float:
    """Predicted end-to-end latency in milliseconds of one run of ``module`` on ``target``.

    A module without kernels is fused and selected for ``target`` first (on a copy).
    ``predictor``: a loaded predictor or a path; by default the one trained on this machine.
    ``force`` accepts a predictor trained on another device or runtime version.
    ``model``: "analytic" or "trained"; by default the target's own latency-model kind.
    """
    if is_lut_target(target) and not model:  # imported per-unit tables (note10-cpu), not kernels
        return predict_latency_lut(module, target, predictor)
    if predictor is None and use_analytic(target, model):
        return predict_latency_analytic(module, target).ms
    p = predictor if isinstance(predictor, KernelPredictor) else load_predictor(target, predictor,
                                                                                 force=force)
    regs = _fused_regions(module, target)
    if regs is None:
        module = compile_for(module, target)
        regs = {g.name: regions(g) for g in module.graphs.values()}
    us = _Walker(module, p, regs).graph(module.main)
    return (us + p.calibration.intercept_us) / 1e3


@register
@dataclass(frozen=True)
class AnnotateLatency(Pass):
    name = "annotate-latency"
    summary = "set latency_us / latency_std_us on every kernel from the target's trained predictor"

    target: str
    predictor: str = ""  # a predictor directory; the default home when empty
    force: bool = False  # accept a predictor trained on another device / runtime version
    model: str = ""  # analytic | trained; by default the target's own latency-model kind

    def run(self, module: Module, ctx: PassContext) -> bool:
        try:
            if _fused_regions(module, self.target) is None:
                raise LatencyError(f"the module has no kernels; run fuse{{target={self.target}}},"
                                   f"select-kernels{{target={self.target}}} first")
            if is_lut_target(self.target) and not self.model:  # labelled latency_source = "imported"
                annotate_lut(module, self.target, self.predictor or None)
                return True
            if not self.predictor and use_analytic(self.target, self.model):
                annotate_analytic(module, self.target)  # labelled latency_source = "analytic"
                return True
            p = load_predictor(self.target, self.predictor or None, force=self.force)
            annotate_module(module, p)
        except (LatencyError, FileNotFoundError, ValueError, NoAnalyticDevice) as e:
            raise PassError(f"{self}: {e}") from None
        return True
