"""``archir.kernels(module)``: the kernel regions in order, as plain frozen records."""

from __future__ import annotations

from dataclasses import dataclass

from archir.ir import Module, Operation
from archir.passes.targets.anchor import kernel_type


@dataclass(frozen=True)
class KernelView:
    graph: str
    op_names: tuple[str, ...]  # op kinds, in order
    kind: str  # op classes joined, nn-Meter style: conv-bn-relu
    target: str
    impl: str  # "" until select-kernels
    block: tuple[int, ...]
    work_group: tuple[int, ...]
    splits: int
    precision: str
    storage: str
    latency_us: float | None  # None until a latency pass annotates it
    latency_std_us: float | None
    ops: tuple[Operation, ...]


def kernels(module: Module) -> list[KernelView]:
    """Every kernel region of every graph (main first), in program order."""
    graphs = [module.main] + [g for g in module.graphs.values() if g is not module.main]
    out = []
    for g in graphs:
        for kernel, ops in g.kernels():
            a = kernel.attrs
            std = a["latency_std_us"]
            out.append(KernelView(
                g.name, tuple(op.name for op in ops), kernel_type(ops), a["target"], a["impl"],
                tuple(a["block"]), tuple(a["work_group"]), a["splits"], a["precision"], a["storage"],
                kernel.latency_us, None if std < 0 else std, tuple(ops)))
    return out
