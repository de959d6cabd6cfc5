"""Ground truth for ``ort-cpu``: the graph onnxruntime actually runs, mapped back to IR ops.

The module is emitted with ``archir.to_onnx`` (tensor names are the printed value names) and
optimised by onnxruntime, which saves the graph it will run. Every node of that graph is a
kernel; the IR ops it covers are found by names: a fused node keeps the output name of the
last op it swallowed and the names in between disappear, so walking back from its outputs
through vanished tensors reaches every original node it absorbed. Nodes that onnxruntime
invents (the Reshape/Gemm/Reshape of a 3-D MatMul+Add) cover what their consumers cover.
IR ops that no node covers were folded away (constants, identities, shape arithmetic).
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from archir.backends.onnx import to_onnx
from archir.ir import Module, Operation
from archir.passes.targets.node_cover import cover
from archir.printer import print_module

LEVELS = ("basic", "extended", "all")


@dataclass(frozen=True)
class OrtKernel:
    op_type: str  # domain-qualified when not the default domain: com.microsoft.FusedConv
    name: str
    ops: frozenset[Operation]


@dataclass(frozen=True)
class OrtGraph:
    kernels: tuple[OrtKernel, ...]
    onnx_nodes: int  # nodes before optimisation

    def groups(self) -> list[tuple[frozenset[Operation], int, tuple[str, ...]]]:
        """IR op groups onnxruntime runs together, with the kernels each takes and their types."""
        parent: dict[Operation, Operation] = {}

        def find(op: Operation) -> Operation:
            while parent.setdefault(op, op) is not op:
                op = parent[op]
            return op

        for k in self.kernels:
            ops = list(k.ops)
            for op in ops[1:]:
                parent[find(op)] = find(ops[0])
        members: dict[Operation, set[Operation]] = defaultdict(set)
        for k in self.kernels:
            for op in k.ops:
                members[find(op)].add(op)
        counts: dict[Operation, list[str]] = defaultdict(list)
        for k in self.kernels:
            if k.ops:
                counts[find(next(iter(k.ops)))].append(k.op_type)
        return [(frozenset(members[root]), len(types), tuple(types)) for root, types in counts.items()]


def _session(model_path: Path, level: str, out_path: Path, external: bool = False) -> None:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = {
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    }[level]
    so.optimized_model_filepath = str(out_path)
    so.intra_op_num_threads = 1
    so.log_severity_level = 3
    if external:  # the optimised graph is written with its weights beside it, like the input
        so.add_session_config_entry("session.optimized_model_external_initializers_file_name",
                                    "optimized_weights.bin")
        so.add_session_config_entry("session.optimized_model_external_initializers_min_size_in_bytes",
                                    "1024")
    ort.InferenceSession(str(model_path), so, providers=["CPUExecutionProvider"])


def ort_graph(module: Module, level: str = "extended") -> OrtGraph:
    """The kernels onnxruntime (CPU EP) runs for ``module``'s main graph at ``level``."""
    import onnx

    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}")
    main = module.main
    if any(op.name in ("call", "choice") for op in main.ops):
        raise ValueError("ground truth needs a flat main graph (inline cells first)")
    model = to_onnx(module, check=False)  # onnxruntime checks what it loads; onnx's checker stops at 2 GB
    _, namers = print_module(module)
    by_name: dict[str, Operation] = {namers[main.name](r): op for op in main.ops for r in op.results}
    with tempfile.TemporaryDirectory() as tmp:
        source, path = Path(tmp) / "model.onnx", Path(tmp) / "optimized.onnx"
        # past protobuf's 2 GB the weights must live beside the model (vit_h_14, regnet_y_128gf)
        big = sum(len(t.raw_data) for t in model.graph.initializer) > 1 << 30
        onnx.save_model(model, str(source), save_as_external_data=big, location="weights.bin")
        _session(source, level, path, external=big)
        optimized = onnx.load(str(path), load_external_data=False)
    return OrtGraph(_map(model.graph, optimized.graph, by_name), len(model.graph.node))


def _map(orig, opt, by_name: dict[str, Operation]) -> tuple[OrtKernel, ...]:
    kept = {o.name for o in opt.output}
    covered = cover(orig.node, opt.node, kept, by_name)
    return tuple(
        OrtKernel(f"{n.domain}.{n.op_type}" if n.domain else n.op_type, n.name, frozenset(ops))
        for n, ops in zip(opt.node, covered)
    )
