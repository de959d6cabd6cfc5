"""ort-cpu reproduces the graph onnxruntime runs (ORT_ENABLE_EXTENDED): op by op for every fusion
and split in the rules, and for a representative subset of torchvision models (small inputs).
The full table over all 80 models is benchmarks/ort_fusion_report.py -> docs/ort_fusion.md."""

from __future__ import annotations

import pytest

from archir import GraphBuilder, Module, TensorType
from archir.backends.profile.ort_compare import compare
from archir.passes.targets import compile_for, kernels

pytest.importorskip("onnxruntime")


def conv(b, x, **kw):
    return b.conv2d(x, out_channels=16, kernel=3, padding=1, **kw)


def slices(b, x, ranges):
    return tuple(b.slice(x, axes=(1,), starts=(s,), ends=(e,)) for s, e in ranges)


CASES = {
    "conv-bn-relu6": (lambda b, x: b.relu6(b.batch_norm(conv(b, x))), 1),
    "conv-leaky": (lambda b, x: b.leaky_relu(conv(b, x)), 1),
    "conv-hardsigmoid": (lambda b, x: b.hardsigmoid(conv(b, x)), 1),
    "conv-mul-scalar": (lambda b, x: b.mul(conv(b, x), b.constant(value=0.5)), 1),
    "conv-add-channel-relu": (lambda b, x: b.relu(b.add(conv(b, x), b.parameter(shape=(16, 1, 1)))), 1),
    "conv-add-scalar": (lambda b, x: b.add(conv(b, x), b.constant(value=1.0)), 2),
    "conv-gelu": (lambda b, x: b.gelu(conv(b, x)), 2),
    "conv-gelu-tanh": (lambda b, x: b.gelu(conv(b, x), approximate="tanh"), 10),
    "conv-hardswish": (lambda b, x: b.hardswish(conv(b, x)), 3),
    "silu": (lambda b, x: b.silu(x), 1),
    "x-times-sigmoid": (lambda b, x: b.mul(x, b.sigmoid(x)), 1),
    "residual-add-relu": (lambda b, x: b.relu(b.add(x, b.relu(x))), 3),
    "standalone-bn-relu": (lambda b, x: b.relu(b.batch_norm(b.relu(x))), 3),
    "dropout": (lambda b, x: b.relu(b.dropout(b.relu(x))), 2),
    "channel-shuffle": (lambda b, x: b.channel_shuffle(x, groups=2), 3),
    "adaptive-pool": (lambda b, x: b.adaptive_avg_pool2d(x, output_size=(3, 3)), 14),
    "adaptive-pool-identity": (lambda b, x: b.relu(b.adaptive_avg_pool2d(b.relu(x), output_size=(8, 8))), 2),
    "rsqrt": (lambda b, x: b.rsqrt(b.relu(x)), 3),
    "two-slices-are-a-split": (lambda b, x: slices(b, b.relu(x), [(0, 8), (8, 16)]), 2),
    "partial-slices": (lambda b, x: slices(b, b.relu(x), [(0, 4), (4, 8)]), 3),
    "slice-of-a-slice": (lambda b, x: b.slice(b.slice(b.relu(x), axes=(2,), starts=(1,), ends=(7,)),
                                              axes=(3,), starts=(0,), ends=(4,)), 3),
    "common-subexpressions": (lambda b, x: (b.relu(b.sigmoid(x)), b.tanh(b.sigmoid(x))), 3),
    "roll-one-axis": (lambda b, x: b.roll(b.relu(x), shifts=(3,), axes=(2,)), 3),
    "roll-two-axes": (lambda b, x: b.roll(b.relu(x), shifts=(3, -2), axes=(2, 3)), 5),
    "roll-by-whole-dim": (lambda b, x: b.relu(b.roll(b.relu(x), shifts=(8,), axes=(2,))), 2),
    "transposes-cancel": (lambda b, x: b.transpose(b.mul(b.transpose(b.relu(x), perm=(0, 2, 3, 1)),
                                                         b.constant(value=2.0)), perm=(0, 3, 1, 2)), 2),
    "transposes-merge": (lambda b, x: b.transpose(b.transpose(b.relu(x), perm=(0, 2, 3, 1)),
                                                  perm=(0, 2, 3, 1)), 2),
    "flatten-unsqueeze": (lambda b, x: b.unsqueeze(b.flatten(b.relu(x)), axes=(0,)), 3),
    "reshape-unsqueeze": (lambda b, x: b.unsqueeze(b.reshape(b.relu(x), shape=(1, 1024)), axes=(0,)), 2),
    "transpose-matmul": (lambda b, x: b.matmul(x, b.transpose(x, perm=(0, 1, 3, 2))), 1),
    "matmul-scale": (lambda b, x: b.mul(b.matmul(x, x), b.constant(value=0.5)), 1),
}
SEQ = {
    "gemm-relu": (lambda b, x: b.relu(b.linear(x, out_features=32)), 1, (2, 16)),
    "gemm-relu6": (lambda b, x: b.relu6(b.linear(x, out_features=32)), 2, (2, 16)),
    "linear-3d": (lambda b, x: b.linear(x, out_features=32), 3, (2, 5, 16)),
    "linear-3d-no-bias": (lambda b, x: b.linear(x, out_features=32, bias=False), 1, (2, 5, 16)),
    "reshape-linear-reshape": (lambda b, x: b.reshape(
        b.linear(b.reshape(x, shape=(2, 5, 16)), out_features=32), shape=(2, 5, 4, 8)), 3, (2, 80)),
    "skip-layer-norm": (lambda b, x: b.layer_norm(b.add(x, b.relu(x))), 2, (2, 5, 16)),
    "rms-norm": (lambda b, x: b.rms_norm(x), 6, (2, 5, 16)),
    "attention": (lambda b, x: b.attention(x, x, x, num_heads=2, num_kv_heads=2), 8, (2, 5, 16)),
    "attention-causal": (lambda b, x: b.attention(x, x, x, num_heads=2, num_kv_heads=2, causal=True), 9,
                         (2, 5, 16)),
    "attention-gqa": (lambda b, x: b.attention(x, b.linear(x, out_features=8),
                                               b.linear(x, out_features=8), num_heads=2, num_kv_heads=1),
                      21, (2, 5, 16)),
}


def build(fn, shape):
    b = GraphBuilder("main")
    x = b.arg(TensorType("f32", shape), "x")
    y = fn(b, x)
    b.ret(*(y if isinstance(y, tuple) else (y,)))
    return Module([b.graph])


@pytest.mark.parametrize("case", sorted(CASES))
def test_rules_match_onnxruntime_on_patterns(case):
    fn, launches = CASES[case]
    m = build(fn, (1, 16, 8, 8))
    result = compare(m)
    assert result.match, result.differences
    assert result.ort_kernels == launches


@pytest.mark.parametrize("case", sorted(SEQ))
def test_rules_match_onnxruntime_on_sequence_patterns(case):
    fn, launches, shape = SEQ[case]
    result = compare(build(fn, shape))
    assert result.match, result.differences
    assert result.ort_kernels == launches


def nhwc(b, v):
    return b.transpose(v, perm=(0, 2, 3, 1))


def nchw(b, v):
    return b.transpose(v, perm=(0, 3, 1, 2))


def convnext_stage(b, x):
    """ConvNeXt's first stage: its residual starts from a transpose, so onnxruntime's transpose
    optimizer keeps the whole stage in NHWC and the last transpose cancels the stage's next one."""
    r = nchw(b, b.layer_norm(nhwc(b, b.relu(x))))
    for _ in range(2):
        h = nhwc(b, b.conv2d(r, out_channels=16, kernel=3, padding=1, groups=16))
        h = nchw(b, b.linear(b.layer_norm(h), out_features=16))
        r = b.add(r, b.mul(h, b.parameter(shape=(16, 1, 1))))
    return b.layer_norm(nhwc(b, r))


def cosine_norm(b, x):
    """Swin V2's normalised queries: the transpose moves past mul and reduce_sum, not further."""
    t = b.transpose(b.relu(x), perm=(0, 2, 1, 3))
    n = b.sqrt(b.reduce_sum(b.mul(t, t), axes=(3,), keepdims=True))
    return b.div(t, b.expand(b.clip(n, min=1e-12), shape=(1, 4, 6, 8)))


def constant_subgraph(b, x):
    return b.add(b.relu(x), b.mul(b.sigmoid(b.parameter(shape=(16, 1, 1))), b.constant(value=2.0)))


def heads_undone(b, x):
    """q, k, v already split into heads outside the attention: its own head split cancels them."""
    def merge_heads(v):
        return b.reshape(b.transpose(v, perm=(0, 2, 1, 3)), shape=(1, 5, 16))
    q, k, v = merge_heads(b.mul(x, x)), merge_heads(b.relu(x)), merge_heads(b.sigmoid(x))
    return b.attention(q, k, v, num_heads=2, num_kv_heads=2)


GLOBAL = {  # rules that need the whole graph: name -> (build, input shape, onnxruntime's kernels)
    "convnext-stage-in-nhwc": (convnext_stage, (1, 16, 8, 8), 22),
    "transpose-through-reduce": (cosine_norm, (1, 6, 4, 8), 9),
    "constant-subgraph-folds": (constant_subgraph, (1, 16, 8, 8), 2),
    "attention-heads-undone": (heads_undone, (1, 2, 5, 8), 8),
}


@pytest.mark.parametrize("case", sorted(GLOBAL))
def test_rules_match_onnxruntime_on_global_rewrites(case):
    fn, shape, expected = GLOBAL[case]
    result = compare(build(fn, shape))
    assert result.match, result.differences
    assert result.ort_kernels == expected


def test_impl_names_are_onnxruntime_op_types():
    m = build(lambda b, x: b.mul(x, b.sigmoid(b.relu(b.batch_norm(conv(b, x))))), (1, 16, 8, 8))
    assert [k.impl for k in kernels(compile_for(m, "ort-cpu"))] == ["FusedConv", "Sigmoid", "Mul"]
    m = build(lambda b, x: b.mul(b.relu(x), b.sigmoid(b.relu(x))), (1, 16, 8, 8))
    assert "QuickGelu" not in [k.impl for k in kernels(compile_for(m, "ort-cpu"))]  # two different relus


TORCHVISION = {
    "resnet18": 64, "mobilenet_v3_small": 64, "shufflenet_v2_x0_5": 64, "efficientnet_b0": 64,
    "densenet121": 64, "convnext_tiny": 64, "swin_v2_t": 224,
}


@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_torchvision_models_match(name):
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    import archir

    torch.manual_seed(0)
    model = torchvision.models.get_model(name, weights=None).eval()
    size = TORCHVISION[name]
    with torch.no_grad():
        m = archir.from_torch(model, (torch.randn(1, 3, size, size),))
    result = compare(m)
    assert result.match, result.differences[:5]


def test_small_vision_transformer_matches():
    torch = pytest.importorskip("torch")
    from torchvision.models.vision_transformer import VisionTransformer

    import archir

    torch.manual_seed(0)
    vit = VisionTransformer(image_size=32, patch_size=16, num_layers=2, num_heads=2, hidden_dim=32,
                            mlp_dim=64, num_classes=10).eval()
    with torch.no_grad():
        m = archir.from_torch(vit, (torch.randn(1, 3, 32, 32),))
    result = compare(m)
    assert result.match, result.differences[:5]


def test_transpose_moves_through_a_splitting_reshape():
    def build_fn(b, x):
        y = b.transpose(b.relu(x), perm=(0, 2, 1, 3))  # (1, 4, 6, 8) -> (1, 6, 4, 8)
        y = b.reshape(y, shape=(1, 2, 3, 4, 2, 4))
        return b.relu(b.transpose(y, perm=(0, 5, 1, 3, 2, 4)))

    result = compare(build(build_fn, (1, 4, 6, 8)))
    assert result.match, result.differences
    assert result.ort_kernels == 4
