"""Kernel selection for the CPU runtimes and PyTorch eager: tables from op class to kernel name.

These runtimes pick one implementation per op type (TFLite 2.1's optimized_ops, ORT's CPU
kernels, ATen); what varies is named in the table, the rest is the op class itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from archir.ir import Operation
from archir.passes.targets.anchor import anchor_of, kernel_type
from archir.passes.targets.opclass import op_class
from archir.passes.targets.shapes import conv_geometry
from archir.passes.targets.spec import KernelChoice, SelectContext


def _tflite_conv(op: Operation) -> str:
    g = conv_geometry(op)
    # optimized_ops::Conv skips im2col for a 1x1, stride-1 kernel (a plain GEMM)
    pointwise = g["kernel"] == (1, 1) and g["stride"] == (1, 1) and g["dilation"] == (1, 1)
    return "conv_gemm" if pointwise else "conv_im2col_gemm"


TFLITE_CPU: dict[str, str | Callable[[Operation], str]] = {
    "conv": _tflite_conv, "conv1d": _tflite_conv, "gconv": "conv_grouped_reference",
    "dwconv": "depthwise_conv", "convtrans": "transpose_conv", "dense": "fully_connected",
    "matmul": "batch_matmul", "pooling": lambda op: op.name.replace("2d", ""), "gap": "mean",
    "reduce": "reduce", "softmax": "softmax", "concat": "concatenation", "split": "split",
    "reshape": "reshape", "transpose": "transpose", "pad": "pad", "resize": "resize",
    "layernorm": "layer_norm_decomposed", "attention": "attention_decomposed", "se": "se",
}

ATEN: dict[str, str] = {
    "conv2d": "aten::convolution", "conv1d": "aten::convolution",
    "conv_transpose2d": "aten::convolution", "linear": "aten::linear", "matmul": "aten::matmul",
    "batch_norm": "aten::batch_norm", "layer_norm": "aten::layer_norm",
    "attention": "aten::scaled_dot_product_attention", "max_pool2d": "aten::max_pool2d",
    "avg_pool2d": "aten::avg_pool2d", "adaptive_avg_pool2d": "aten::adaptive_avg_pool2d",
    "global_avg_pool": "aten::mean", "softmax": "aten::softmax", "concat": "aten::cat",
}

CUDA: dict[str, str] = {
    "conv": "cudnn_conv", "dwconv": "cudnn_conv_depthwise", "gconv": "cudnn_conv_grouped",
    "conv1d": "cudnn_conv", "convtrans": "cudnn_conv_transpose", "dense": "cublas_gemm",
    "matmul": "cublas_gemm", "attention": "flash_attention", "layernorm": "layer_norm",
    "softmax": "softmax", "pooling": "cudnn_pooling", "gap": "reduce", "reduce": "reduce",
    "bn": "cudnn_batch_norm",
}


TEMPLATE_KINDS = frozenset({"se"})


def _table_selector(table: dict, default: Callable[[Operation], str]) -> Callable:
    def select(ops: Sequence[Operation], ctx: SelectContext) -> KernelChoice:
        kind = kernel_type(ops).split("-")[0]
        if kind in TEMPLATE_KINDS and kind in table:
            return KernelChoice(table[kind])
        anchor = anchor_of(ops)
        entry = table.get(op_class(anchor), table.get(anchor.name))
        if entry is None:
            return KernelChoice(default(anchor))
        return KernelChoice(entry(anchor) if callable(entry) else entry)

    return select


select_tflite_cpu = _table_selector(TFLITE_CPU, lambda op: "elementwise")
select_torch = _table_selector(ATEN, lambda op: f"aten::{op.name}")
select_cuda = _table_selector(CUDA, lambda op: "elementwise" if op_class(op) != "constant" else "constant")
