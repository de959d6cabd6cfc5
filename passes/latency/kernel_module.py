"""A kernel as a standalone module: the unit the profiler times and the predictor learns from.

The kernel's boundary values become the module's arguments, the values it hands to the rest of
the graph its outputs; constants it reads from outside are copied in (they are weights, not
run-time inputs). Weights are dropped: backends draw deterministic ones and latency does not
depend on their values. Every op sits in one kernel region carrying the kernel's target and
implementation, so the module's text and its structural hash name the configuration exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from archir.ir import Graph, Kernel, Module, Operation, Value
from archir.passes.targets.anchor import kernel_type
from archir.passes.targets.opclass import op_class
from archir.printer import to_text
from archir.structural import structural_hash

# Kernel attributes that describe the configuration; latency fields are results, not inputs.
CONFIG_KERNEL_ATTRS = ("target", "impl", "block", "work_group", "precision", "storage", "splits")


class KernelModuleError(ValueError):
    pass


@dataclass(frozen=True)
class KernelConfig:
    """One kernel configuration: its standalone module and what names it."""

    module: Module
    kind: str  # op-class signature, nn-Meter style: conv-relu

    @cached_property
    def key(self) -> str:
        return structural_hash(self.module)

    @cached_property
    def text(self) -> str:
        return to_text(self.module)

    @property
    def ops(self) -> list[Operation]:
        return self.module.main.ops

    @property
    def impl(self) -> str:
        k = self.ops[0].kernel
        return k.attrs["impl"] if k is not None else ""


def _is_constant(v: Value) -> bool:
    return v.owner is not None and op_class(v.owner) == "constant" and not v.owner.operands


def kernel_module(ops: Sequence[Operation], outside_users: set[Value], graph_outputs: set[Value],
                  kernel: Kernel | None = None) -> Module:
    """The standalone module of ``ops`` (consecutive ops of one kernel region, in order).

    ``outside_users`` holds the values that ops outside the region read; with the graph's
    outputs they become the module's outputs (the region's last results when none is used).
    """
    if not ops:
        raise KernelModuleError("a kernel needs at least one op")
    for op in ops:
        if op.name in ("call", "choice"):
            raise KernelModuleError(f"a kernel cannot hold '{op.name}'; inline cells first")
    kernel = kernel if kernel is not None else ops[0].kernel
    new_kernel = None
    if kernel is not None:
        new_kernel = Kernel(**{k: kernel.attrs[k] for k in CONFIG_KERNEL_ATTRS})
    vmap: dict[Value, Value] = {}
    args: list[Value] = []
    new_ops: list[Operation] = []
    inside = {r for op in ops for r in op.results}

    def operand(v: Value) -> Value:
        if v in vmap:
            return vmap[v]
        if v not in inside and _is_constant(v):
            c = v.owner
            copy = Operation(c.opdef, (), c.attrs, [r.type for r in c.results], kernel=new_kernel)
            new_ops.append(copy)
            vmap.update(zip(c.results, copy.results))
            return vmap[v]
        arg = Value(v.type, None, len(args), f"in{len(args)}")
        args.append(arg)
        vmap[v] = arg
        return arg

    for op in ops:
        operands = [operand(v) for v in op.operands]
        new = Operation(op.opdef, operands, op.attrs, [r.type for r in op.results], kernel=new_kernel)
        vmap.update(zip(op.results, new.results))
        new_ops.append(new)
    outputs = [r for op in ops for r in op.results if r in outside_users or r in graph_outputs]
    if not outputs:
        outputs = list(ops[-1].results)
    for v in args:
        if not v.type.is_static:
            raise KernelModuleError(f"kernel input {v.type} has a symbolic shape; give the model a "
                                    f"static input shape first (set-input-shape)")
    return Module([Graph("main", args, new_ops, [vmap[v] for v in outputs])])


def graph_kernel_configs(g: Graph) -> list[tuple[KernelConfig, list[Operation]]]:
    """Every kernel region of ``g`` as a configuration, with the region's ops."""
    users = g.users()
    out = []
    for kernel, ops in g.kernels():
        members = set(ops)
        outside = {r for op in ops for r in op.results
                   if any(u not in members for u, _ in users.get(r, ()))}
        module = kernel_module(ops, outside, set(g.outputs), kernel)
        out.append((KernelConfig(module, kernel_type(ops)), ops))
    return out


def kernel_configs(module: Module) -> list[KernelConfig]:
    """The configurations of every kernel of every graph (main first)."""
    graphs = [module.main] + [g for g in module.graphs.values() if g is not module.main]
    return [cfg for g in graphs for cfg, _ in graph_kernel_configs(g)]


def op_configs(module: Module) -> list[KernelConfig]:
    """Each op of the main graph on its own (no fusion): the per-op baseline's unit."""
    g = module.main
    users = g.users()
    out = []
    for op in g.ops:
        if op_class(op) in ("constant", "noop"):
            continue
        k = op.kernel
        cfg_kernel = Kernel(target=k.attrs["target"], impl=k.attrs["impl"]) if k is not None else None
        outside = {r for r in op.results if users.get(r)}
        out.append(KernelConfig(kernel_module([op], outside, set(g.outputs), cfg_kernel),
                                kernel_type([op])))
    return out
