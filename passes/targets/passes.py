"""The registered target passes: ``gpu-rewrites{target=T}``, ``fuse{target=T}``,
``select-kernels{target=T}`` (``precision=`` overrides the target's)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from archir.ir import Module
from archir.passes.base import Pass, PassContext, PassError, register
from archir.passes.targets.apply import TargetPassError, fuse_inplace, gpu_rewrites_inplace, select_inplace
from archir.passes.targets.pair_fusion import PairFusion
from archir.passes.targets.registry import UnknownTarget, get_target
from archir.passes.targets.rulefile import RuleFileError, load_rules

PRECISIONS = ("", "f32", "f16", "f32_f16")


def _target(name: str, pass_name: str):
    try:
        return get_target(name)
    except UnknownTarget as e:
        raise PassError(f"{pass_name}: {e}") from None


@register
@dataclass(frozen=True)
class GpuRewrites(Pass):
    name = "gpu-rewrites"
    summary = "the TFLite GPU delegate's graph rewrites (pad/BN/mul/add folding, bias, mean, groups)"
    target: str

    def run(self, module: Module, ctx: PassContext) -> bool:
        try:
            gpu_rewrites_inplace(module, _target(self.target, self.name))
        except TargetPassError as e:
            raise PassError(f"{self.name}: {e}") from None
        return True


@register
@dataclass(frozen=True)
class Fuse(Pass):
    name = "fuse"
    summary = "group ops into kernel regions by the target's fusion rules (rules=FILE: a pair-rule file)"
    target: str
    rules: str = ""  # a rule file (nn-Meter format, e.g. from archir detect-fusion) replacing the target's

    def run(self, module: Module, ctx: PassContext) -> bool:
        target = _target(self.target, self.name)
        if self.rules:
            try:
                target = replace(target, fusion=PairFusion(load_rules(self.rules)))
            except RuleFileError as e:
                raise PassError(f"{self.name}: {e}") from None
        fuse_inplace(module, target)
        return True


@register
@dataclass(frozen=True)
class SelectKernels(Pass):
    name = "select-kernels"
    summary = "choose each kernel's implementation (impl, block, work group, splits)"
    target: str
    precision: str = ""

    def run(self, module: Module, ctx: PassContext) -> bool:
        if self.precision not in PRECISIONS:
            raise PassError(f"{self.name}: precision must be one of f32, f16, f32_f16")
        try:
            select_inplace(module, _target(self.target, self.name), self.precision or None)
        except TargetPassError as e:
            raise PassError(f"{self.name}: {e}") from None
        return True
