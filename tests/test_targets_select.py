"""Kernel selection at every vendor threshold of mobile-gpu-rules.md: one below, at, one above."""

from __future__ import annotations

import pytest

from archir import GraphBuilder, Module, TensorType
from archir.passes.targets import compile_for, kernels
from archir.passes.targets.gpu_conv import conv_constants_bytes, conv_constants_supported
from archir.passes.targets.gpu_info import GpuInfo
from archir.passes.targets.spec import SelectContext


def one_op(in_shape, kind, **attrs):
    b = GraphBuilder("main")
    x = b.arg(TensorType("f32", in_shape), "x")
    y = b.op(kind, x, **attrs)
    b.ret(*(y if isinstance(y, tuple) else (y,)))
    return Module([b.graph])


def many_inputs(n, shape, kind, **attrs):
    b = GraphBuilder("main")
    xs = [b.arg(TensorType("f32", shape), f"x{i}") for i in range(n)]
    b.ret(b.op(kind, *xs, **attrs))
    return Module([b.graph])


def only_kernel(module, target, precision=None):
    (k,) = [k for k in kernels(compile_for(module, target, precision))]
    return k


def conv(cin, cout, h, w, k=3, **attrs):
    attrs.setdefault("padding", k // 2)
    return one_op((1, cin, h, w), "conv2d", out_channels=cout, kernel=k, bias=False, **attrs)


# --- Winograd F(4x4, 3x3): min src slices / min dst slices / min tiles per vendor -----------
WINOGRAD = {"adreno640": (32, 32, 128), "adreno7xx": (32, 32, 64), "mali-g76": (16, 16, 32)}


@pytest.mark.parametrize("target", sorted(WINOGRAD))
@pytest.mark.parametrize("which", ["src", "dst", "tiles"])
def test_winograd_thresholds(target, which):
    min_src, min_dst, min_tiles = WINOGRAD[target]
    for delta, expect in ((-1, False), (0, True), (1, True)):
        src, dst, tiles = 4 * (min_src + 2), 4 * (min_dst + 2), min_tiles + 2
        if which == "src":
            src = 4 * (min_src + delta)
        elif which == "dst":
            dst = 4 * (min_dst + delta)
        else:
            tiles = min_tiles + delta
        k = only_kernel(conv(src, dst, 4, 4 * tiles), target)
        assert (k.impl == "winograd_4x4_6x6") is expect, (which, delta, k.impl)
        assert k.splits == (3 if expect else 1)


def test_winograd_needs_stride_1_and_dense_3x3():
    assert only_kernel(conv(256, 256, 64, 64, stride=2), "adreno640").impl != "winograd_4x4_6x6"
    assert only_kernel(conv(256, 256, 64, 64, k=5), "adreno640").impl != "winograd_4x4_6x6"
    assert only_kernel(conv(256, 256, 64, 64, k=3, padding=0), "adreno640").impl == "winograd_4x4_6x6"


# --- ConvConstants: Cout <= 32 and the constant-memory budget per vendor --------------------
@pytest.mark.parametrize("cout, expect", [(31, True), (32, True), (33, False)])
def test_conv_constants_cout_limit(cout, expect):
    assert (only_kernel(conv(4, cout, 8, 8, k=1), "adreno640").impl == "conv_constants") is expect


def test_conv_constants_example_from_the_reference():
    assert conv_constants_bytes(3, 32, 3, 3, "f16") == 1728
    assert conv_constants_bytes(3, 32, 3, 3, "f32") == 3456


# 1x1, Cout 32 (not dot mode): bytes = Cin * 4 * 8 * itemsize
BUDGETS = [("adreno6xx", "adreno", "f16", 3584), ("adreno7xx", "adreno", "f16", 3584),
           ("adreno5xx", "adreno", "f16", 2560), ("adreno6xx", "adreno", "f32", 3584),
           ("nvidia", "nvidia", "f16", 1024), ("amd", "amd", "f16", 4096)]


@pytest.mark.parametrize("generation, vendor, precision, budget", BUDGETS)
def test_conv_constants_memory_budget(generation, vendor, precision, budget):
    ctx = SelectContext(GpuInfo(vendor, generation, generation, 2), precision, "texture_2d")
    per_cin = 32 * (4 if precision == "f32" else 2)
    at = budget // per_cin
    assert at * per_cin == budget
    for cin, expect in ((at - 1, True), (at, True), (at + 1, False)):
        g = {"groups": 1, "cin": cin, "cout": 32, "kernel": (1, 1)}
        assert conv_constants_supported(g, ctx) is expect


def test_mali_never_uses_conv_constants():
    assert only_kernel(conv(4, 8, 8, 8, k=1), "mali-g76").impl == "conv_generic"


def test_conv_constants_not_for_grouped():
    m = one_op((1, 8, 8, 8), "conv2d", out_channels=8, kernel=1, groups=2)
    assert only_kernel(m, "adreno640").impl != "conv_constants"


# --- Adreno ConvGeneric block by waves (adreno640: 2 CUs, f16 wave 128 -> task = 256 * waves) --
@pytest.mark.parametrize("waves, below, above", [(6, (1, 1, 1, 1), (2, 1, 1, 1)),
                                                 (12, (2, 1, 1, 1), (2, 1, 1, 2)),
                                                 (24, (2, 1, 1, 2), (2, 2, 1, 2))])
def test_adreno_conv_generic_block(waves, below, above):
    pixels = waves * 256 // 16  # Cout 64 -> 16 slices
    for w, expect in ((pixels - 1, below), (pixels, below), (pixels + 1, above)):
        k = only_kernel(conv(64, 64, 1, w, k=1), "adreno640")
        assert (k.impl, k.block, k.work_group) == ("conv_generic", expect, (8, 2, 1)), w


def test_adreno_f32_wave_is_64():
    # 6 waves in f32 = task 768 = 48 pixels of 16 slices
    assert only_kernel(conv(64, 64, 1, 48, k=1), "adreno640", "f32").block == (1, 1, 1, 1)
    assert only_kernel(conv(64, 64, 1, 49, k=1), "adreno640", "f32").block == (2, 1, 1, 1)


# --- Mali block size by task per CU and precision (mali-g76: 10 cores, G76 column) ----------
MALI = {"f16": (256, 1536, 4096), "f32_f16": (256, 2048, None), "f32": (256, 3072, None)}
BLOCK = {1: (1, 1, 1, 1), 2: (2, 1, 1, 1), 4: (2, 1, 1, 2), 8: (2, 2, 1, 2)}


@pytest.mark.parametrize("precision", sorted(MALI))
def test_mali_block_thresholds(precision):
    for level, bound in zip((1, 2, 4), MALI[precision]):
        if bound is None:
            continue
        pixels = bound * 10 // 16  # task = pixels * 16 slices; t = task / 10
        for w, blk in ((pixels - 1, level), (pixels, level), (pixels + 1, level * 2)):
            k = only_kernel(conv(64, 64, 1, w, k=1), "mali-g76", precision)
            assert (k.block, k.work_group) == (BLOCK[blk], (4, 4, 1)), (precision, w)


def test_mali_block_capped_at_4_for_non_1x1_on_bifrost_not_valhall():
    big = conv(64, 64, 64, 64, k=5)  # t far above T4
    assert only_kernel(big, "mali-g76").block == BLOCK[4]
    assert only_kernel(big, "mali-valhall").block == BLOCK[8]


def test_mali_valhall_f32_block_4_and_dst_depth_1_or_3():
    # f32 on the G76+Valhall column: blk 4 from t > 3072 (no T4)
    assert only_kernel(conv(64, 64, 1, 3100 * 11 // 16 + 1, k=1), "mali-valhall", "f32").block == (2, 2, 1, 1)
    assert only_kernel(conv(64, 64, 1, 3100 * 10 // 16 + 1, k=1), "mali-g76", "f32").block == (2, 1, 1, 2)
    assert only_kernel(conv(64, 12, 128, 128, k=1), "mali-g76").block == (2, 2, 1, 1)  # 3 slices, blk 8


# --- depthwise 3x3 eligibility per vendor -------------------------------------------------
def dw(k=3, stride=1, padding=1, mult=1, c=32):
    return one_op((1, c, 32, 32), "conv2d", out_channels=c * mult, kernel=k, stride=stride,
                  padding=padding, groups=c)


@pytest.mark.parametrize("module, ok", [(dw(), True), (dw(stride=2), False), (dw(padding=0), False),
                                        (dw(k=5, padding=2), False), (dw(mult=2), False)])
@pytest.mark.parametrize("target", ["adreno640", "adreno7xx", "mali-g76", "mali-valhall"])
def test_dw3x3_eligibility(module, ok, target):
    assert (only_kernel(module, target).impl == "depthwise_conv_3x3") is ok


def test_dw3x3_on_mali_needs_bifrost_or_valhall_g1_and_no_f32():
    assert only_kernel(dw(), "mali-g76", "f32").impl == "depthwise_conv"
    assert only_kernel(dw(), "adreno640", "f32").impl == "depthwise_conv_3x3"
    assert only_kernel(dw(), "mali-g78").impl == "depthwise_conv"  # later Valhall


def test_dw3x3_on_mali_needs_texture_storage():
    from archir.passes.targets.gpu_conv import depthwise
    g = {"cin": 8, "cout": 8, "kernel": (3, 3), "stride": (1, 1), "dilation": (1, 1), "pads": (1, 1, 1, 1)}
    gpu = GpuInfo("mali", "mali_bifrost_g3", "G76", 10)
    assert depthwise(g, SelectContext(gpu, "f16", "texture_2d")).impl == "depthwise_conv_3x3"
    assert depthwise(g, SelectContext(gpu, "f16", "buffer")).impl == "depthwise_conv"


# --- softmax 1x1: W*H <= 256 and W*H <= C ---------------------------------------------------
@pytest.mark.parametrize("c, h, w, expect", [(256, 16, 15, True), (256, 16, 16, True), (300, 257, 1, False),
                                             (255, 16, 16, False), (257, 16, 16, True)])
def test_softmax_1x1(c, h, w, expect):
    k = only_kernel(one_op((1, c, h, w), "softmax", axis=1), "adreno640")
    assert (k.impl == "softmax_1x1") is expect


def test_softmax_per_pixel_passes_by_vendor():
    m = one_op((1, 8, 32, 32), "softmax", axis=1)
    assert only_kernel(m, "adreno640").impl == "softmax_2pass"
    assert only_kernel(m, "mali-g76").impl == "softmax_3pass"


def test_softmax_of_a_transformer_row():
    assert only_kernel(one_op((1, 1000), "softmax"), "adreno640").impl == "softmax_1x1"


# --- concat: Mali chains at 8 inputs, others at 120 -----------------------------------------
@pytest.mark.parametrize("target, limit", [("mali-g76", 8), ("adreno640", 120)])
def test_concat_max_inputs(target, limit):
    for n, splits in ((limit - 1, 1), (limit, 2), (limit + 1, 3)):
        k = only_kernel(many_inputs(n, (1, 4, 2, 2), "concat", axis=1), target)
        assert (k.impl, k.splits) == ("concat_z", splits), n


def test_concat_axis_picks_z_or_xy():
    assert only_kernel(many_inputs(2, (1, 4, 2, 2), "concat", axis=3), "adreno640").impl == "concat_xy"


# --- split: one StridedSlice per output on Mali ----------------------------------------------
def test_split_on_mali_is_one_strided_slice_per_output():
    m = one_op((1, 12, 4, 4), "split", axis=1, sizes=(4, 4, 4))
    assert (only_kernel(m, "mali-g76").impl, only_kernel(m, "mali-g76").splits) == ("strided_slice", 3)
    assert (only_kernel(m, "adreno640").impl, only_kernel(m, "adreno640").splits) == ("split", 1)


# --- FC: mat-vec for one row, ConvGeneric otherwise; 1x1 conv on a 1x1 map is an FC ----------
def test_fc_matvec_vs_conv():
    assert only_kernel(one_op((1, 64), "linear", out_features=10), "adreno640").impl == "fc_matvec"
    assert only_kernel(one_op((2, 64), "linear", out_features=10), "adreno640").impl == "conv_generic"
    assert only_kernel(one_op((1, 7, 64), "linear", out_features=10), "adreno640").impl == "conv_generic"
    assert only_kernel(one_op((1, 64), "linear", out_features=10), "mali-g76").work_group == (16, 4, 1)
    assert only_kernel(one_op((1, 64), "linear", out_features=10), "adreno640").work_group == (32, 4, 1)


def test_pointwise_conv_on_1x1_map_runs_as_fc():
    assert only_kernel(conv(64, 64, 1, 1, k=1), "adreno640").impl == "fc_matvec"
    assert only_kernel(conv(64, 64, 1, 1, k=1, stride=2), "adreno640").impl != "fc_matvec"


# --- reduce, reshape ------------------------------------------------------------------------
@pytest.mark.parametrize("target, max_wg", [("adreno640", 256), ("mali-g76", 64)])
def test_reduce_work_group_threshold(target, max_wg):
    edge = max_wg // 4
    for size, impl in ((edge - 1, "reduce"), (edge, "reduce_wg"), (edge + 1, "reduce_wg")):
        m = one_op((1, 8, 1, size), "reduce_mean", axes=(3,), keepdims=True)
        assert only_kernel(m, target).impl == impl


def test_reshape_x4():
    assert only_kernel(one_op((1, 8, 2, 2), "reshape", shape=(1, 4, 2, 4)), "adreno640").impl == "reshapex4"
    assert only_kernel(one_op((1, 6, 2, 2), "reshape", shape=(1, 3, 2, 4)), "adreno640").impl == "reshape"


# --- transposed convolution -------------------------------------------------------------------
def test_conv_transposed_variants():
    thin = one_op((1, 8, 8, 8), "conv_transpose2d", out_channels=4, kernel=2, stride=2)
    t3 = one_op((1, 8, 8, 8), "conv_transpose2d", out_channels=8, kernel=3, stride=2, padding=1)
    assert only_kernel(thin, "adreno640").impl == "conv_transposed_thin"
    assert only_kernel(t3, "adreno640").impl == "conv_transposed_3x3_thin"
    assert only_kernel(thin, "mali-g76").impl == "conv_transposed"
