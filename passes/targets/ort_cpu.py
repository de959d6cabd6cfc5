"""onnxruntime (CPU execution provider) on this machine: ORT_ENABLE_EXTENDED, one thread.

Kernels are onnxruntime's own fused nodes (FusedConv, FusedGemm, QuickGelu, ...); ``impl`` is
the op type onnxruntime runs and ``splits`` how many nodes it runs for the region. EXTENDED
is the last level whose optimised graph is portable; ORT_ENABLE_ALL adds the x86 NCHWc
layout pass (it also folds a residual Add+ReLU into the NCHWc convolution).
"""

from __future__ import annotations

from collections.abc import Sequence

from archir.ir import Operation
from archir.passes.targets.anchor import anchor_of
from archir.passes.targets.ort_rules import CONV_ACTIVATIONS, GEMM_ACTIVATIONS, OrtFusion, launches
from archir.passes.targets.ort_transposes import plan_transposes
from archir.passes.targets.pair_fusion import PairFusion
from archir.passes.targets.rulefile import shipped
from archir.passes.targets.spec import KernelChoice, LatencyModel, SelectContext, Target

# IR op kind -> the ONNX/ORT op type a lone op runs as (to_onnx's emission)
ONNX_TYPE = {
    "conv1d": "Conv", "conv2d": "Conv", "conv_transpose2d": "ConvTranspose", "relu": "Relu",
    "relu6": "Clip", "clip": "Clip", "leaky_relu": "LeakyRelu", "sigmoid": "Sigmoid", "tanh": "Tanh",
    "hardsigmoid": "HardSigmoid", "hardswish": "HardSigmoid+Mul", "silu": "QuickGelu",
    "batch_norm": "BatchNormalization", "layer_norm": "LayerNormalization", "add": "Add",
    "mul": "Mul", "sub": "Sub", "div": "Div", "max_pool2d": "MaxPool", "avg_pool2d": "AveragePool",
    "global_avg_pool": "GlobalAveragePool", "global_max_pool": "GlobalMaxPool",
    "adaptive_avg_pool2d": "AveragePool", "softmax": "Softmax", "log_softmax": "LogSoftmax",
    "concat": "Concat", "split": "Split", "slice": "Slice", "transpose": "Transpose",
    "reshape": "Reshape", "flatten": "Flatten", "squeeze": "Squeeze", "unsqueeze": "Unsqueeze",
    "matmul": "MatMul", "reduce_mean": "ReduceMean", "reduce_sum": "ReduceSum", "pad": "Pad",
    "resize": "Resize", "gather": "Gather", "embedding": "Gather", "erf": "Erf",
    # emitted as several nodes onnxruntime does not fuse back (see ort_rules.SPLITS)
    "gelu": "Gelu", "rms_norm": "ReduceMean+Sqrt+Div (unfused)",
    "attention": "MatMul+Softmax+MatMul (decomposed)", "rsqrt": "Sqrt+Reciprocal",
    "channel_shuffle": "Reshape+Transpose+Reshape",
}


def _impl(ops: Sequence[Operation]) -> str:
    kinds = {op.name for op in ops}
    anchor = anchor_of(ops)
    if anchor.name in ("conv1d", "conv2d"):
        return "FusedConv" if kinds & CONV_ACTIVATIONS else "Conv"
    if anchor.name == "linear":
        if anchor.operands[0].type.rank == 2:
            return "FusedGemm" if kinds & GEMM_ACTIVATIONS else "Gemm"
        return "Reshape+Gemm+Reshape" if anchor.attrs["bias"] else "MatMul"
    if anchor.name == "matmul":
        return "FusedMatMul" if kinds & {"transpose", "mul", "div"} else "MatMul"
    if "erf" in kinds and len(kinds - {"constant", "parameter"}) > 1:
        return "Gelu"
    if kinds >= {"sigmoid", "mul"}:
        return "QuickGelu"
    if kinds >= {"add", "layer_norm"}:
        return "SkipLayerNormalization"
    if len(kinds & {"reshape", "flatten", "squeeze", "unsqueeze"}) > 1:
        return "Reshape"
    if kinds >= {"slice"} and len([op for op in ops if op.name == "slice"]) > 1:
        return "Split"
    if "transpose" in kinds and len(kinds - {"transpose", "constant", "parameter"}) >= 1:
        rest = [op for op in ops if op.name not in ("transpose", "constant", "parameter")]
        return "+".join(ONNX_TYPE.get(op.name, op.name) for op in rest)
    if anchor.name == "gelu" and anchor.attrs["approximate"] == "tanh":
        return "Mul+Tanh+Add (unfused)"  # onnxruntime's CPU provider has no FastGelu fusion
    return ONNX_TYPE.get(anchor.name, anchor.name)


def select_ort(ops: Sequence[Operation], ctx: SelectContext) -> KernelChoice:
    plan = ctx.facts
    running = [op for op in ops if plan is None or op not in plan.folded] or list(ops)
    return KernelChoice(_impl(running), splits=launches(list(ops), plan))


TARGETS = {
    "ort-cpu": Target(
        name="ort-cpu", family="onnxruntime-cpu", device="this machine's CPU (1 thread)",
        runtime="onnxruntime CPU EP, ORT_ENABLE_EXTENDED", fusion=OrtFusion(), selector=select_ort,
        analysis=plan_transposes, precision="f32",
        latency=LatencyModel("measured", "profiled on this machine"), measurable="here",
        notes=("rules checked against the graph onnxruntime saves (benchmarks/ort_fusion_report.py)",),
    ),
}

# The same runtime with the pair rules `archir detect-fusion --target ort-cpu` measured here
# (data/ort_cpu_measured.json): nn-Meter's method, kept to compare against the real graph.
TARGETS["ort-cpu-measured"] = Target(
    name="ort-cpu-measured", family="onnxruntime-cpu", device="this machine's CPU (1 thread)",
    runtime="onnxruntime CPU EP, ORT_ENABLE_EXTENDED", fusion=PairFusion(shipped("ort_cpu_measured.json")),
    selector=select_ort, analysis=plan_transposes, precision="f32",
    latency=LatencyModel("measured", "profiled on this machine"),
    measurable="here", notes=("fusion rules measured by timing op pairs (noisy: see docs/ort_fusion.md)",),
)
