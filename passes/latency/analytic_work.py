"""What one selected kernel asks of the GPU: its launches ("phases"), each with FLOPs, bytes moved
and the dependent inner-loop iterations of one thread.

FLOPs, element counts and weights come from ``kernel_features`` (the same figures the trained
predictors see, cost.py's conventions); bytes are counted at the kernel's storage precision
(F16 and F32_F16 store 2 bytes), not the IR's dtype. The implementation (``impl``, set by
select-kernels) decides the phases: Winograd F(4x4, 3x3) is an input transform, a batched
GEMM with 4x fewer multiplies than the direct conv (36 products per 4x4 tile instead of
16 * 9) and an output transform, three launches; a mat-vec splits its input loop over 4
work-group rows; a depthwise 3x3 kernel unrolls its taps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from math import ceil, prod
from typing import Any

from archir.ir import Operation
from archir.passes.latency.analytic_calibration import (
    DW3X3_LOADS_PER_OUTPUT,
    DW_GENERIC_LOADS_PER_OUTPUT,
    REF_BLOCK,
    REUSE_EXPONENT,
)
from archir.passes.latency.kernel_features import feature_index, kernel_features
from archir.passes.targets import gpu_conv
from archir.passes.targets import gpu_info as T
from archir.passes.targets.anchor import anchor_of
from archir.passes.targets.shapes import bhwc, conv_geometry, dim, slices
from archir.passes.targets.spec import SelectContext

ITEMSIZE = {"f16": 2, "f32_f16": 2, "f32": 4, "int8": 1}
_FEATS = {n: feature_index(n) for n in ("macs", "flops", "in_elems", "out_elems", "weight_bytes")}


class AnalyticModelError(ValueError):
    pass


@dataclass(frozen=True)
class Phase:
    cls: str  # a row of analytic_calibration.CLASSES
    flops: float
    bytes: float
    iters: float = 1.0  # dependent inner-loop iterations of one thread
    reuse: float = 1.0  # efficiency factor of the thread's block (data reuse)


@dataclass(frozen=True)
class _Kernel:
    anchor: Operation
    impl: str
    block: tuple[int, ...]
    splits: int
    isz: int  # bytes per stored element
    flops: float
    macs: float
    in_elems: float
    out_elems: float
    weight_elems: float
    ctx: SelectContext

    @property
    def bytes(self) -> float:
        return (self.in_elems + self.out_elems + self.weight_elems) * self.isz


def block_reuse(block: Sequence[int]) -> float:
    """Efficiency of a (x, y, z, w) block relative to REF_BLOCK: each iteration loads x*y input
    texels and 4*w weight texels for x*y*w*16 MACs."""
    if len(block) != 4:
        return 1.0

    def macs_per_load(b: Sequence[int]) -> float:
        return b[0] * b[1] * b[3] * 16 / (b[0] * b[1] + 4 * b[3])

    return (macs_per_load(block) / macs_per_load(REF_BLOCK)) ** REUSE_EXPONENT


def _conv_iters(k: _Kernel) -> float:
    """A ConvGeneric / ConvConstants thread loops over its group's input slices and the taps."""
    a = k.anchor
    if a.name in ("conv2d", "conv1d"):
        g = conv_geometry(a)
        return slices(g["cin"] // g["groups"]) * prod(g["kernel"])
    return slices(dim(a.operands[0].type.shape[-1]))  # linear / matmul as a 1x1 conv


def _conv(k: _Kernel) -> list[Phase]:
    reuse = block_reuse(k.block) if k.impl.startswith("conv_generic") else 1.0
    return [Phase("conv", k.flops, k.bytes, _conv_iters(k), reuse)]


def _grouped_unsupported(k: _Kernel) -> list[Phase]:
    # §1 ResolveGroupedConvolution: split(C) -> one conv per group -> concat(C)
    groups = k.anchor.attrs["groups"]
    act_in, act_out = k.in_elems * k.isz, k.out_elems * k.isz
    conv = Phase("conv", k.flops / groups, k.bytes / groups, _conv_iters(k), block_reuse(k.block))
    return [Phase("stream", 0, 2 * act_in), *[conv] * groups, Phase("stream", 0, 2 * act_out)]


def _winograd(k: _Kernel) -> list[Phase]:
    g = conv_geometry(k.anchor)
    tiles = g["batch"] * ceil(g["h_out"] / 4) * ceil(g["w_out"] / 4)
    t_in, t_out = 36 * tiles * g["cin"], 36 * tiles * g["cout"]
    x_elems = k.anchor.operands[0].type.numel()
    gemm_macs = 36 * tiles * g["cin"] * g["cout"]
    gemm_block = gpu_conv.conv_generic(1, 36, tiles, g["cout"], True, k.ctx).block
    epilogue = max(0.0, k.flops - 2 * k.macs)  # bias and linked elementwise ops
    return [
        Phase("stream", 0, (x_elems + t_in) * k.isz),
        Phase("conv", 2 * gemm_macs, (t_in + t_out + k.weight_elems * 4) * k.isz,  # 6x6 weights: 4x 3x3
              slices(g["cin"]), block_reuse(gemm_block)),
        Phase("stream", epilogue, (t_out + k.out_elems + k.in_elems - x_elems) * k.isz),
    ]


def _depthwise(k: _Kernel) -> list[Phase]:
    if k.impl == "depthwise_conv_3x3":  # taps unrolled: one dependent round per thread
        return [Phase("depthwise", k.flops, k.bytes, 1.0)]
    reuse = (DW3X3_LOADS_PER_OUTPUT / DW_GENERIC_LOADS_PER_OUTPUT) ** REUSE_EXPONENT
    return [Phase("depthwise", k.flops, k.bytes, prod(k.anchor.attrs["kernel"]), reuse)]


def _matvec(k: _Kernel) -> list[Phase]:
    # §5 FullyConnected: the input loop is split over the work group's 4 rows
    return [Phase("conv", k.flops, k.bytes, ceil(slices(dim(k.anchor.operands[0].type.shape[-1])) / 4))]


def _dynamic_weights(k: _Kernel) -> list[Phase]:
    # §4 BATCH_MATMUL: a converter kernel re-lays the runtime weights, then a pointwise ConvGeneric
    w = k.anchor.operands[1].type.numel() * k.isz
    return [Phase("stream", 0, 2 * w), Phase("conv", k.flops, k.bytes, _conv_iters(k), block_reuse(k.block))]


def _convtrans(k: _Kernel) -> list[Phase]:
    g = conv_geometry(k.anchor)
    taps = prod(ceil(kk / s) for kk, s in zip(g["kernel"], g["stride"]))
    cls = "convtrans" if k.impl == "conv_transposed" else "conv"  # thin variants: assumed conv-like
    return [Phase(cls, k.flops, k.bytes, slices(g["cin"]) * taps)]


def _pool_taps(op: Operation) -> float:
    if "kernel" in op.attrs:
        return prod(op.attrs["kernel"])
    x, y = op.operands[0].type, op.results[0].type
    return max(1, x.numel() // max(1, y.numel()))  # global / adaptive: the window covers the map


def _pooling(k: _Kernel) -> list[Phase]:
    return [Phase("pool", k.flops, k.bytes, _pool_taps(k.anchor))]


def _max_wg(ctx: SelectContext) -> int:
    gpu = ctx.gpu
    if gpu.generation == "adreno3xx":
        return T.REDUCE_MAX_WG["adreno_old"]
    if gpu.generation == "mali_midgard":
        return T.REDUCE_MAX_WG["mali_midgard"]
    return T.REDUCE_MAX_WG.get(gpu.vendor, T.REDUCE_MAX_WG["default"])


def _reduce(k: _Kernel) -> list[Phase]:
    a = k.anchor
    t = a.operands[0].type
    axes = (a.attrs["axis"],) if a.name == "argmax" else (a.attrs.get("axes") or tuple(range(t.rank)))
    size = prod(dim(t.shape[ax % t.rank]) for ax in axes) if a.name != "global_avg_pool" else _pool_taps(a)
    iters = ceil(size / _max_wg(k.ctx)) if k.impl == "reduce_wg" else size
    return [Phase("pool", k.flops, k.bytes, iters)]


def _softmax(k: _Kernel) -> list[Phase]:
    passes = {"softmax_1x1": 1, "softmax_2pass": 2, "softmax_3pass": 3}[k.impl]
    channels = bhwc(k.anchor.operands[0].type)[3]
    reads = passes * k.in_elems * k.isz
    return [Phase("stream", k.flops, reads + k.out_elems * k.isz, passes * slices(channels))]


def _norm(k: _Kernel) -> list[Phase]:
    channels = bhwc(k.anchor.operands[0].type)[3]  # mean, then variance: two passes over C
    return [Phase("stream", k.flops, (2 * k.in_elems + k.out_elems) * k.isz, 2 * slices(channels))]


def _attention(k: _Kernel) -> list[Phase]:
    a = k.anchor
    q, kk, v = (o.type for o in a.operands[:3])
    heads = a.attrs["num_heads"]
    b, s, t = dim(q.shape[0]), dim(q.shape[1]), dim(kk.shape[1])
    t_eff = min(t, a.attrs["window"]) if a.attrs["window"] else t
    dk, dv = dim(q.shape[2]) // heads, dim(v.shape[2]) // a.attrs["num_kv_heads"]
    scores = b * heads * s * t_eff
    isz = k.isz
    return [  # converters for K and V, Q.K^T, softmax, P.V (§4 runtime weights, no fused op)
        Phase("stream", 0, 2 * kk.numel() * isz), Phase("stream", 0, 2 * v.numel() * isz),
        Phase("conv", 2 * scores * dk, (q.numel() + kk.numel() + scores) * isz, slices(dk)),
        Phase("stream", 3 * scores, 3 * scores * isz, 2 * slices(t_eff)),
        Phase("conv", 2 * scores * dv, (scores + v.numel() + k.out_elems) * isz, slices(t_eff)),
    ]


def _stream(cls: str) -> Callable[[_Kernel], list[Phase]]:
    def rule(k: _Kernel) -> list[Phase]:
        if k.splits <= 1:
            return [Phase(cls, k.flops, k.bytes)]
        # transpose chains (channel shuffle) move the whole tensor per launch; chained concats and
        # per-output slices share the traffic among their launches
        each = k.bytes if k.impl == "transpose" else k.bytes / k.splits
        return [Phase(cls, k.flops / k.splits, each)] * k.splits

    return rule


IMPLS: dict[str, Callable[[_Kernel], list[Phase]]] = {
    "conv_generic": _conv, "conv_generic_grouped": _conv, "conv_constants": _conv,
    "conv_generic_grouped_unsupported": _grouped_unsupported, "winograd_4x4_6x6": _winograd,
    "conv_generic_dynamic_weights": _dynamic_weights, "fc_matvec": _matvec,
    "depthwise_conv_3x3": _depthwise, "depthwise_conv": _depthwise,
    "conv_transposed": _convtrans, "conv_transposed_thin": _convtrans, "conv_transposed_3x3_thin": _convtrans,
    "pooling": _pooling, "reduce": _reduce, "reduce_wg": _reduce,
    "softmax_1x1": _softmax, "softmax_2pass": _softmax, "softmax_3pass": _softmax,
    "mean_stddev_normalization": _norm, "attention_decomposed": _attention,
    "reshape": _stream("reshape"), "reshapex4": _stream("reshape"), "transpose": _stream("reshape"),
    **{impl: _stream("stream") for impl in ("elementwise", "concat_z", "concat_xy", "split", "strided_slice",
                                              "padding", "resize", "tile", "gather")},
    "constant": lambda k: [],
}


def kernel_phases(ops: Sequence[Operation], attrs: Mapping[str, Any], ctx: SelectContext) -> list[Phase]:
    """The launches of one selected kernel; [] for a kernel of constants only."""
    impl, precision = attrs["impl"], attrs["precision"]
    if not impl or not precision:
        raise AnalyticModelError(f"kernel {'-'.join(op.name for op in ops)} has no implementation or "
                                 f"precision; run select-kernels{{target={attrs['target']}}} first")
    if any(op.name in ("call", "choice") for op in ops):
        raise AnalyticModelError("a call kernel costs what its callee's kernels cost; predict the module")
    rule = IMPLS.get(impl)
    if rule is None:
        raise AnalyticModelError(f"the analytic model has no rule for implementation '{impl}' "
                                 f"(known: {', '.join(sorted(IMPLS))})")
    family, f = kernel_features(ops)
    if family == "free":
        return []
    anchor = anchor_of(ops)
    ir_isz = anchor.results[0].type.dtype.itemsize if anchor.results else 4
    k = _Kernel(anchor, impl, tuple(attrs["block"]), attrs["splits"], ITEMSIZE[precision],
                f[_FEATS["flops"]], f[_FEATS["macs"]], f[_FEATS["in_elems"]], f[_FEATS["out_elems"]],
                f[_FEATS["weight_bytes"]] / ir_isz, ctx)
    return rule(k)
