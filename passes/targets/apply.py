"""The target passes as functions: in place on a module the caller owns (``*_inplace``, what the
registered passes call) and pure (``fuse``, ``select_kernels``, ... work on a clone)."""

from __future__ import annotations

from dataclasses import replace

from archir.ir import Graph, Kernel, Module
from archir.passes.targets.gpu_rewrites import rewrite_graph
from archir.passes.targets.registry import get_target
from archir.passes.targets.spec import Precision, Target


class TargetPassError(ValueError):
    pass


def gpu_rewrites_inplace(module: Module, target: str | Target) -> None:
    t = get_target(target)
    if not t.rewrites:
        raise TargetPassError(f"target '{t.name}' ({t.runtime}) has no delegate graph rewrites; "
                              f"they belong to the TFLite GPU targets")
    for g in module.graphs.values():
        for op in g.ops:
            op.kernel = None  # rewrites invalidate any earlier fusion
        rewrite_graph(g)


def fuse_graph(g: Graph, t: Target) -> None:
    for op in g.ops:
        op.kernel = None
    ops = []
    for group in t.fusion.partition(g).groups():
        kernel = Kernel(target=t.name)
        for op in group:
            op.kernel = kernel
        ops.extend(group)
    g.ops = ops


def fuse_inplace(module: Module, target: str | Target) -> None:
    t = get_target(target)
    for g in module.graphs.values():
        fuse_graph(g, t)


def select_inplace(module: Module, target: str | Target, precision: Precision | None = None) -> None:
    t = get_target(target)
    ctx = t.context(precision)
    for g in module.graphs.values():
        loose = [op.name for op in g.ops if op.kernel is None]
        if loose:
            raise TargetPassError(f"select-kernels: @{g.name} has ops outside kernel regions "
                                  f"({', '.join(sorted(set(loose)))}); run fuse{{target={t.name}}} first")
        gctx = replace(ctx, facts=t.analysis(g)) if t.analysis is not None else ctx
        for kernel, ops in g.kernels():
            if kernel.attrs["target"] != t.name:
                raise TargetPassError(f"select-kernels{{target={t.name}}}: a kernel of @{g.name} was "
                                      f"fused for '{kernel.attrs['target']}'")
            choice = t.selector(ops, gctx)
            kernel.attrs.update(impl=choice.impl, block=choice.block, work_group=choice.work_group,
                                splits=choice.splits, precision=ctx.precision, storage=ctx.storage)


def gpu_rewrites(module: Module, target: str | Target) -> Module:
    out = module.clone()
    gpu_rewrites_inplace(out, target)
    return out


def fuse(module: Module, target: str | Target) -> Module:
    out = module.clone()
    fuse_inplace(out, target)
    return out


def select_kernels(module: Module, target: str | Target, precision: Precision | None = None) -> Module:
    out = module.clone()
    select_inplace(out, target, precision)
    return out


def compile_for(module: Module, target: str | Target, precision: Precision | None = None) -> Module:
    """The target's whole pipeline: delegate rewrites (GPU targets), fusion, selection."""
    t = get_target(target)
    out = module.clone()
    if t.rewrites:
        gpu_rewrites_inplace(out, t)
    fuse_inplace(out, t)
    select_inplace(out, t, precision)
    return out
