"""Does archir's ``ort-cpu`` fusion reproduce the graph onnxruntime runs?

Match means: the same number of kernels, and every group of IR ops that onnxruntime runs
together (ops joined by a fused node, with the nodes that group takes) is covered by archir
kernels lying wholly inside it that launch the same number of kernels. Free ops (constants,
identities, dropout) and common subexpressions after their first are left out on both sides:
onnxruntime folds them away.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from archir.backends.profile.ort_truth import ort_graph
from archir.ir import Module, Operation
from archir.passes.targets.anchor import FREE_CLASSES
from archir.passes.targets.apply import compile_for
from archir.passes.targets.fusion import constant_folded
from archir.passes.targets.opclass import op_class
from archir.passes.targets.ort_rules import duplicates


@dataclass
class Comparison:
    archir_kernels: int
    ort_kernels: int
    onnx_nodes: int
    differences: list[str] = field(default_factory=list)

    @property
    def match(self) -> bool:
        return not self.differences and self.archir_kernels == self.ort_kernels

    def summary(self) -> str:
        verdict = "match" if self.match else f"MISMATCH ({len(self.differences)} groups differ)"
        return f"archir {self.archir_kernels} kernels, onnxruntime {self.ort_kernels}: {verdict}"


def _twin(a: Operation, b: Operation) -> bool:
    return a.name == b.name and a.attrs == b.attrs and all(x is y for x, y in zip(a.operands, b.operands))


def _describe(ops, order) -> str:
    return "-".join(op.name for op in sorted(ops, key=order.__getitem__))


def compare(module: Module, level: str = "extended") -> Comparison:
    fused = compile_for(module, "ort-cpu")
    truth = ort_graph(fused, level)
    order = {op: i for i, op in enumerate(fused.main.ops)}

    # CSE: onnxruntime runs each set of twins once (as whichever twin it keeps), so twins are
    # compared by count only
    first = duplicates(fused.main.ops)
    removed = first | {op for op in fused.main.ops if any(_twin(op, d) for d in first)}
    removed |= constant_folded(fused.main)  # ops reading only constants: onnxruntime folds them

    def real(ops) -> frozenset[Operation]:
        return frozenset(op for op in ops if op_class(op) not in FREE_CLASSES and op not in removed)

    regions = [(real(ops), kernel.attrs["splits"]) for kernel, ops in fused.main.kernels()]
    result = Comparison(sum(n for _, n in regions), len(truth.kernels), truth.onnx_nodes)
    kernel_of: dict[Operation, int] = {op: i for i, (ops, _) in enumerate(regions) for op in ops}
    covered: set[Operation] = set()
    for ops, count, types in truth.groups():
        group = real(ops)
        covered |= group
        if not group:
            if not ops & removed:
                result.differences.append(f"onnxruntime runs {'+'.join(types)} for folded ops only")
            continue
        touching = {kernel_of[op] for op in group}
        inside = all(regions[i][0] <= group for i in touching)
        launches = sum(regions[i][1] for i in touching)
        if not inside or launches != count:
            archir = " | ".join(_describe(regions[i][0], order) for i in sorted(touching))
            result.differences.append(
                f"onnxruntime {_describe(group, order)} as {count} ({'+'.join(types)}); archir {archir} "
                f"as {launches}")
    for ops, n in regions:
        if ops and not ops & covered:
            result.differences.append(f"archir {_describe(ops, order)} ({n}) was folded away by onnxruntime")
    return result
