"""Convolution, depthwise and fully-connected kernel choice of the GPU delegate (§4, §5).

Each decision is one function over the tables in ``gpu_info``; the reference section it
implements is named beside it.
"""

from __future__ import annotations

from archir.passes.targets import gpu_info as T
from archir.passes.targets.gpu_info import GpuInfo
from archir.passes.targets.shapes import slices
from archir.passes.targets.spec import KernelChoice, SelectContext


def winograd_suitable(g: dict) -> bool:
    """§4.1 IsSuitableForWinograd4x4To6x6: 3x3, stride 1, dilation 1, groups 1 (padding free)."""
    return g["kernel"] == (3, 3) and g["stride"] == (1, 1) and g["dilation"] == (1, 1) and g["groups"] == 1


def winograd_recommended(g: dict, gpu: GpuInfo) -> bool:
    """§4.1 IsRecommendedForWinograd4x4To6x6 (batch ignored)."""
    min_src, min_dst, min_tiles = T.WINOGRAD_MIN[T.winograd_key(gpu)]
    tiles = -(-g["w_out"] // 4) * -(-g["h_out"] // 4)
    return slices(g["cin"]) >= min_src and slices(g["cout"]) >= min_dst and tiles >= min_tiles


def conv_constants_bytes(cin: int, cout: int, kh: int, kw: int, precision: str) -> int:
    """§4.3 constant memory a ConvConstants kernel needs (dot mode when it packs tighter)."""
    dot = cout % 4 != 0 and (cin % 4 == 0 or cout * slices(cin) < cin * slices(cout))
    aligned = cout * 4 * slices(cin) if dot else cin * 4 * slices(cout)
    return aligned * kh * kw * (4 if precision == "f32" else 2)


def conv_constants_supported(g: dict, ctx: SelectContext) -> bool:
    """§4.3 IsConvConstantsSupported."""
    gpu = ctx.gpu
    if g["groups"] != 1 or g["cout"] > T.CONV_CONSTANTS_MAX_COUT or gpu.bad_adreno_driver:
        return False
    limit = T.CONV_CONSTANTS_MAX_BYTES[T.conv_constants_key(gpu)]
    return conv_constants_bytes(g["cin"], g["cout"], *g["kernel"], ctx.precision) <= limit


def adreno_block(task: int, ctx: SelectContext) -> tuple[int, int, int, int]:
    """§4.4 Adreno: block by waves = task / CU / wave size."""
    waves = task / ctx.gpu.compute_units / T.ADRENO_WAVE[ctx.precision]
    return next(block for bound, block in T.ADRENO_BLOCKS if waves <= bound)


def mali_block_size(task: int, ctx: SelectContext) -> int:
    """§4.4 GetRecommendedBlockSizeForConv: 1, 2, 4 or 8 by task per compute unit."""
    t1, t2, t4 = T.MALI_BLOCK_THRESHOLDS[ctx.precision][ctx.gpu.mali_family]
    per_cu = task / ctx.gpu.compute_units
    return 1 if per_cu <= t1 else 2 if per_cu <= t2 else 4 if per_cu <= t4 else 8


MALI_CAPPED_GENERATIONS = frozenset({"mali_midgard", "mali_bifrost_g1", "mali_bifrost_g2",
                                     "mali_bifrost_g3"})


def mali_block(task: int, dst_depth: int, one_by_one: bool, ctx: SelectContext) -> tuple[int, ...]:
    """§4.4 Mali: block size to (x, y, z, w); capped at 4 for non-1x1 on Midgard/Bifrost."""
    blk = mali_block_size(task, ctx)
    if not one_by_one and ctx.gpu.generation in MALI_CAPPED_GENERATIONS:
        blk = min(blk, 4)
    if blk >= 4 and dst_depth in (1, 3):
        return (2, 2, 1, 1)
    if blk == 8:
        return (2, 2, 1, 2)
    if blk == 4:
        valhall = ctx.gpu.generation.startswith("mali_valhall")
        return (2, 2, 1, 1) if valhall and ctx.precision == "f32" else (2, 1, 1, 2)
    return (2, 1, 1, 1) if blk == 2 else (1, 1, 1, 1)


def conv_generic(batch: int, h_out: int, w_out: int, cout: int, one_by_one: bool,
                 ctx: SelectContext) -> KernelChoice:
    """§4.4 ConvGeneric::GuessBestParams for Adreno and Mali."""
    dst_depth = slices(cout)
    task = w_out * batch * h_out * dst_depth
    if ctx.gpu.is_adreno:
        return KernelChoice("conv_generic", adreno_block(task, ctx), T.CONV_GENERIC_WG["adreno"])
    if ctx.gpu.is_mali:
        return KernelChoice("conv_generic", mali_block(task, dst_depth, one_by_one, ctx),
                            T.CONV_GENERIC_WG["mali"])
    raise NotImplementedError(f"ConvGeneric parameters for {ctx.gpu.vendor} are not tabled yet")


def conv(g: dict, ctx: SelectContext) -> KernelChoice:
    """§4 order: Winograd, then the vendor's SelectConvolution."""
    if winograd_suitable(g) and winograd_recommended(g, ctx.gpu):
        return KernelChoice("winograd_4x4_6x6", splits=3)
    if ctx.gpu.vendor in ("adreno", "nvidia") and conv_constants_supported(g, ctx):
        return KernelChoice("conv_constants")
    one_by_one = g["kernel"] == (1, 1)
    return conv_generic(g["batch"], g["h_out"], g["w_out"], g["cout"], one_by_one, ctx)


def dw3x3_eligible(g: dict, gpu: GpuInfo) -> bool:
    """§5 IsDepthwiseConv3x3Supported: multiplier 1, 3x3, stride 1, dilation 1, padding 1."""
    return (g["cout"] == g["cin"] and g["kernel"] == (3, 3) and g["stride"] == (1, 1)
            and g["dilation"] == (1, 1) and g["pads"] == (1, 1, 1, 1) and not gpu.bad_adreno_driver)


DW3X3_MALI_GENERATIONS = frozenset({"mali_bifrost_g1", "mali_bifrost_g2", "mali_bifrost_g3",
                                    "mali_valhall_g1"})


def depthwise(g: dict, ctx: SelectContext) -> KernelChoice:
    """§5 dw_convolution_selector: Mali also needs Bifrost/Valhall G1, no buffer, no F32."""
    ok = dw3x3_eligible(g, ctx.gpu)
    if ctx.gpu.is_mali:
        ok = (ok and ctx.gpu.generation in DW3X3_MALI_GENERATIONS and ctx.storage != "buffer"
              and ctx.precision != "f32")
    return KernelChoice("depthwise_conv_3x3" if ok else "depthwise_conv")


def fc_work_group(gpu: GpuInfo) -> tuple[int, int, int]:
    if gpu.is_adreno:
        return T.FC_WG["adreno_old" if gpu.generation == "adreno3xx" else "adreno"]
    return T.FC_WG["mali" if gpu.vendor in ("mali", "amd") else "default"]


def fully_connected(batch: int, pixels: int, cout: int, ctx: SelectContext) -> KernelChoice:
    """§1 FC on a spatial input runs as a 1x1 conv; §5 B != 1 -> ConvGeneric on (B,1,1,O),
    else the mat-vec kernel."""
    if pixels != 1 or batch != 1:
        return conv_generic(batch, 1, pixels, cout, True, ctx)
    return KernelChoice("fc_matvec", work_group=fc_work_group(ctx.gpu))


def is_conv_on_1x1_map(g: dict) -> bool:
    """§1 make_fully_connected: a 1x1 conv on a 1x1 map (s1, d1, groups 1, no pad) is an FC."""
    return (g["kernel"] == (1, 1) and g["h_out"] == 1 and g["w_out"] == 1 and g["stride"] == (1, 1)
            and g["dilation"] == (1, 1) and g["groups"] == 1 and not any(g["pads"]))


def grouped_conv_native(cin: int, cout: int, groups: int) -> bool:
    """§1 ResolveGroupedConvolution: native iff weights.I % 4 == 0 and (O / groups) % 4 == 0."""
    return (cin // groups) % 4 == 0 and (cout // groups) % 4 == 0


def conv_transposed(g: dict, ctx: SelectContext) -> KernelChoice:
    """§5 convolution_transposed_selector for Adreno (Thin, 3x3Thin, generic) and Mali (generic)."""
    if ctx.gpu.is_adreno:
        if g["cout"] <= 4 and g["kernel"] == g["stride"] and not any(g["pads"]):
            return KernelChoice("conv_transposed_thin")
        if (g["cout"] <= 8 and g["kernel"] == (3, 3) and g["stride"] == (2, 2)
                and g["pads"] == (1, 1, 1, 1)):
            return KernelChoice("conv_transposed_3x3_thin")
    return KernelChoice("conv_transposed")
