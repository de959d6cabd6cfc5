"""``annotate-latency{target=T}`` and ``archir.predict_latency(module, target)``.

The pass sets ``latency_us`` and ``latency_std_us`` on every kernel: the kernel's predicted
standalone time adjusted by the calibration's per-kernel terms. A model's latency is the sum of
its kernels plus the calibration's per-run intercept; a ``call`` runs its cell's kernels once per
call. A kernel family the predictor has no model for is an error, never a silent zero.
"""

from __future__ import annotations

from dataclasses import dataclass

from archir.passes.base import Pass, PassContext, PassError, register
from archir.passes.latency.kernel_features import kernel_item
from archir.passes.latency.kernel_predictor import KernelPredictor, MissingKernelModel
from archir.passes.latency.kernel_registry import load_predictor
from archir.passes.targets import compile_for

from archir.ir import Graph, Module
from archir.ops.structure import choice_cell
from archir.types import ParamRef


class LatencyError(ValueError):
    pass


def _callee(op, module: Module) -> Graph:
    if op.name == "choice":
        raise LatencyError("the module is a search space (it has choice ops); specialize it first")
    ref = op.attrs["callee"]
    if isinstance(ref, ParamRef):
        ref = module.params[ref.name].default
        return module.graphs[choice_cell(ref, "")]
    return module.graphs[ref.name]


def _check_kernels(module: Module, target: str) -> bool:
    """True when every op is in a kernel of ``target``; False when none is in any kernel."""
    seen = loose = False
    for g in module.graphs.values():
        for op in g.ops:
            k = op.kernel
            if k is None:
                loose = True
            else:
                seen = True
                if k.attrs["target"] != target:
                    raise LatencyError(f"@{g.name} has kernels fused for '{k.attrs['target']}', "
                                       f"not '{target}'")
    if seen and loose:
        raise LatencyError(f"some ops sit outside kernel regions; run fuse{{target={target}}} on "
                           f"the whole module")
    return seen


class _Walker:
    """Predicts every graph's kernels once; a call adds its callee's latency."""

    def __init__(self, module: Module, predictor: KernelPredictor, with_std: bool):
        self.module = module
        self.p = predictor
        self.with_std = with_std
        self.graph_us: dict[str, float] = {}

    def kernels(self, g: Graph):
        regions = g.kernels()
        items, calls = [], []
        for i, (_, ops) in enumerate(regions):
            if any(op.name in ("call", "choice") for op in ops):
                calls.append(i)
                items.append(None)
            else:
                items.append(kernel_item(ops))
        plain = [it for it in items if it is not None]
        try:
            preds = iter(self.p.predict_raw(plain, self.with_std))
        except MissingKernelModel as e:
            raise LatencyError(str(e)) from None
        return regions, items, preds

    def graph(self, g: Graph) -> float:
        if g.name in self.graph_us:
            return self.graph_us[g.name]
        self.graph_us[g.name] = 0.0  # recursion guard; the verifier rejects cyclic calls
        c = self.p.calibration
        total = 0.0
        regions, items, preds = self.kernels(g)
        for (_, ops), item in zip(regions, items):
            if item is None:
                calls = [op for op in ops if op.name in ("call", "choice")]
                total += sum(self.graph(_callee(op, self.module)) for op in calls)
                continue
            raw, _ = next(preds)
            if raw > 0:
                total += max(c.scale * raw + c.per_kernel_us, 0.0)
        self.graph_us[g.name] = total
        return total


def annotate_module(module: Module, predictor: KernelPredictor) -> None:
    """Set latency_us / latency_std_us on every kernel of ``module`` in place."""
    walker = _Walker(module, predictor, with_std=True)
    c = predictor.calibration
    for g in module.graphs.values():
        regions, items, preds = walker.kernels(g)
        for (kernel, _), item in zip(regions, items):
            if item is None:
                continue
            raw, std = next(preds)
            value = max(c.scale * raw + c.per_kernel_us, 0.0) if raw > 0 else 0.0
            kernel.attrs["latency_us"] = value
            kernel.attrs["latency_std_us"] = c.scale * std if std == std else -1.0


def prepare(module: Module, target: str) -> Module:
    """``module`` itself when already fused for ``target``, else a fused and selected copy."""
    if _check_kernels(module, target):
        return module
    return compile_for(module, target)


def predict_latency(module: Module, target: str, *, predictor: KernelPredictor | str | None = None,
                    force: bool = False) -> float:
    """Predicted end-to-end latency in milliseconds of one run of ``module`` on ``target``.

    A module without kernels is fused and selected for ``target`` first (on a copy).
    ``predictor``: a loaded predictor or a path; by default the one trained on this machine.
    ``force`` accepts a predictor trained on another device or runtime version.
    """
    p = predictor if isinstance(predictor, KernelPredictor) else load_predictor(target, predictor,
                                                                                 force=force)
    module = prepare(module, target)
    us = _Walker(module, p, with_std=False).graph(module.main)
    return (us + p.calibration.intercept_us) / 1e3


@register
@dataclass(frozen=True)
class AnnotateLatency(Pass):
    name = "annotate-latency"
    summary = "set latency_us / latency_std_us on every kernel from the target's trained predictor"

    target: str
    predictor: str = ""  # a predictor directory; the default home when empty
    force: bool = False  # accept a predictor trained on another device / runtime version

    def run(self, module: Module, ctx: PassContext) -> bool:
        try:
            if not _check_kernels(module, self.target):
                raise LatencyError(f"the module has no kernels; run fuse{{target={self.target}}},"
                                   f"select-kernels{{target={self.target}}} first")
            p = load_predictor(self.target, self.predictor or None, force=self.force)
            annotate_module(module, p)
        except (LatencyError, FileNotFoundError, ValueError) as e:
            raise PassError(f"{self}: {e}") from None
        return True
