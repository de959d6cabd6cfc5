"""Kernel selection for the TFLite/LiteRT GPU delegate: one entry per op class (§4, §5).

A kernel region is selected by its anchor, the op whose GPU operation the others were linked
into (§2); a region of linked elementwise ops alone is an ``elementwise`` kernel.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from archir.ir import Operation
from archir.passes.targets import gpu_conv
from archir.passes.targets import gpu_info as T
from archir.passes.targets.anchor import anchor_of
from archir.passes.targets.opclass import op_class
from archir.passes.targets.shapes import bhwc, conv_geometry, dim
from archir.passes.targets.spec import KernelChoice, SelectContext

Rule = Callable[[Operation, SelectContext], KernelChoice]


def _conv(op: Operation, ctx: SelectContext) -> KernelChoice:
    g = conv_geometry(op)
    if gpu_conv.is_conv_on_1x1_map(g):
        return gpu_conv.fully_connected(g["batch"], 1, g["cout"], ctx)
    return gpu_conv.conv(g, ctx)


def _dwconv(op: Operation, ctx: SelectContext) -> KernelChoice:
    return gpu_conv.depthwise(conv_geometry(op), ctx)


def _gconv(op: Operation, ctx: SelectContext) -> KernelChoice:
    # gpu-rewrites splits the non-native ones; what is left runs as a grouped ConvGeneric
    g = conv_geometry(op)
    choice = gpu_conv.conv_generic(g["batch"], g["h_out"], g["w_out"], g["cout"],
                                   g["kernel"] == (1, 1), ctx)
    native = gpu_conv.grouped_conv_native(g["cin"], g["cout"], g["groups"])
    return KernelChoice("conv_generic_grouped" if native else "conv_generic_grouped_unsupported",
                        choice.block, choice.work_group)


def _dense(op: Operation, ctx: SelectContext) -> KernelChoice:
    b, h, w, _ = bhwc(op.operands[0].type)
    return gpu_conv.fully_connected(b, h * w, dim(op.results[0].type.shape[-1]), ctx)


def _matmul(op: Operation, ctx: SelectContext) -> KernelChoice:
    # §4 runtime weights: BATCH_MATMUL is a converter kernel plus a pointwise ConvGeneric
    b, h, w, c = bhwc(op.results[0].type)
    choice = gpu_conv.conv_generic(b, h, w, c, True, ctx)
    return KernelChoice("conv_generic_dynamic_weights", choice.block, choice.work_group, splits=2)


def _convtrans(op: Operation, ctx: SelectContext) -> KernelChoice:
    return gpu_conv.conv_transposed(conv_geometry(op), ctx)


def _softmax(op: Operation, ctx: SelectContext) -> KernelChoice:
    """§5 SelectSoftmax: Softmax1x1 iff W·H <= 256 and W·H <= C."""
    t = op.operands[0].type
    axis = op.attrs["axis"] % t.rank
    channels = dim(t.shape[axis])
    pixels = 1
    for i, d in enumerate(t.shape):
        if i not in (0, axis):
            pixels *= dim(d)
    if pixels <= T.SOFTMAX_1X1_MAX_PIXELS and pixels <= channels:
        return KernelChoice("softmax_1x1")
    two_pass = ctx.gpu.generation in ("adreno6xx", "adreno7xx") or ctx.gpu.vendor == "apple"
    return KernelChoice("softmax_2pass" if two_pass else "softmax_3pass")


def _concat(op: Operation, ctx: SelectContext) -> KernelChoice:
    """§5 SelectConcat: ConcatZ on channels, ConcatXY otherwise; chained past max inputs."""
    t = op.results[0].type
    channel_axis = {4: 1, 3: 2, 2: 1}.get(t.rank, t.rank - 1)
    impl = "concat_z" if op.attrs["axis"] % t.rank == channel_axis else "concat_xy"
    limit = T.CONCAT_MAX_INPUTS["mali" if ctx.gpu.is_mali else "default"]
    n = len(op.operands)
    # chained: ceil(n / limit) partial concats, then one that joins them
    splits = 1 if n < limit else -(-n // limit) + 1
    return KernelChoice(impl, splits=splits)


def _split(op: Operation, ctx: SelectContext) -> KernelChoice:
    """§5 SelectSplit: Mali runs one StridedSlice per output."""
    if op.name == "slice":
        return KernelChoice("strided_slice")
    if ctx.gpu.is_mali:
        return KernelChoice("strided_slice", splits=len(op.results))
    return KernelChoice("split")


def _reduce(op: Operation, ctx: SelectContext) -> KernelChoice:
    """§5 SelectReduce: a work-group reduction when the reduced size reaches max_wg / 4."""
    t = op.operands[0].type
    axes = op.attrs.get("axes") or tuple(range(t.rank))
    if op.name == "argmax":
        axes = (op.attrs["axis"],)
    size = 1
    for a in axes:
        size *= dim(t.shape[a % t.rank])
    gpu = ctx.gpu
    if gpu.generation == "adreno3xx":
        key = "adreno_old"
    elif gpu.generation == "mali_midgard":
        key = "mali_midgard"
    else:
        key = gpu.vendor if gpu.vendor in T.REDUCE_MAX_WG else "default"
    return KernelChoice("reduce_wg" if size >= T.REDUCE_MAX_WG[key] / 4 else "reduce")


def _reshape(op: Operation, ctx: SelectContext) -> KernelChoice:
    """§5 SelectReshape: Reshapex4 iff both channel counts are multiples of 4."""
    c_in, c_out = bhwc(op.operands[0].type)[3], bhwc(op.results[0].type)[3]
    return KernelChoice("reshapex4" if c_in % 4 == 0 and c_out % 4 == 0 else "reshape")


def _fixed(impl: str, splits: int = 1) -> Rule:
    return lambda op, ctx: KernelChoice(impl, splits=splits)


GPU_RULES: dict[str, Rule] = {
    "conv": _conv, "conv1d": _conv, "dwconv": _dwconv, "gconv": _gconv, "dense": _dense,
    "matmul": _matmul, "convtrans": _convtrans, "softmax": _softmax, "concat": _concat,
    "split": _split, "reduce": _reduce, "reshape": _reshape, "gap": _fixed("pooling"),
    "pooling": _fixed("pooling"), "pad": _fixed("padding"), "resize": _fixed("resize"),
    "transpose": _fixed("transpose"), "layernorm": _fixed("mean_stddev_normalization"),
    "groupnorm": _fixed("mean_stddev_normalization"), "gather": _fixed("gather"),
    "expand": _fixed("tile"), "roll": _fixed("strided_slice", splits=2),
    # TFLite converts it to reshape -> transpose -> reshape
    "channelshuffle": _fixed("transpose", splits=3),
    # no fused op: Q·Kᵀ and ·V as batch matmuls (converter + ConvGeneric each) and a softmax
    "attention": _fixed("attention_decomposed", splits=5),
    "position": _fixed("elementwise"), "constant": _fixed("constant"), "call": _fixed("call"),
}


def select_gpu(ops: Sequence[Operation], ctx: SelectContext) -> KernelChoice:
    anchor = anchor_of(ops)
    rule = GPU_RULES.get(op_class(anchor))
    return rule(anchor, ctx) if rule is not None else KernelChoice("elementwise")
