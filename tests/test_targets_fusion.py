"""Fusion rules: the delegate's linking conditions, pair rules with nn-Meter's defects fixed,
rule-file validation, the registry, and the kernel list API."""

from __future__ import annotations

import json

import pytest

import archir
from archir import GraphBuilder, Module, TensorType
from archir.passes.targets import UnknownTarget, compile_for, fuse, get_target, kernels, target_names
from archir.passes.targets.opclass import CLASSES, op_class
from archir.passes.targets.pair_fusion import PairFusion
from archir.passes.targets.rulefile import RuleFileError, parse_rules, shipped


def module(build, shape=(1, 16, 8, 8)):
    b = GraphBuilder("main")
    x = b.arg(TensorType("f32", shape), "x")
    y = build(b, x)
    b.ret(*(y if isinstance(y, tuple) else (y,)))
    return Module([b.graph])


def groups(m, target):
    return [k.op_names for k in kernels(fuse(m, target))]


def conv(b, x, c=16, **kw):
    return b.conv2d(x, out_channels=c, kernel=3, padding=1, **kw)


# --- registry ---------------------------------------------------------------------------------
def test_registry_lists_the_required_targets():
    assert {"adreno640", "adreno630", "adreno7xx", "mali-g76", "mali-valhall", "tflite-cpu", "ort-cpu",
            "torch-cpu", "cuda"} <= set(target_names())


def test_unknown_target_lists_known_ones():
    with pytest.raises(UnknownTarget, match="unknown target 'adreno999'.*adreno640"):
        get_target("adreno999")


def test_target_metadata_says_where_latency_comes_from():
    for name in target_names():
        t = get_target(name)
        assert t.latency.kind in ("measured", "imported", "analytic", "none") and t.latency.source
        assert (t.latency.kind == "measured") <= (t.measurable == "here"), name  # never claim a measurement


def test_every_declared_op_has_a_fusion_class():
    from archir.opdef import OPS
    from archir.passes.targets import opclass

    missing = [k for k in OPS if k not in opclass._STATIC and k not in opclass._DYNAMIC]
    assert not missing, f"ops without a fusion class: {missing}"
    assert set(opclass._STATIC.values()) <= CLASSES


def test_grouped_conv_is_not_dense():
    m = module(lambda b, x: (b.conv2d(x, out_channels=16, kernel=3, groups=4),
                             b.conv2d(x, out_channels=16, kernel=3, groups=16),
                             b.conv2d(x, out_channels=16, kernel=3)))
    assert [op_class(op) for op in m.main.ops] == ["gconv", "dwconv", "conv"]


# --- GPU delegate linking (§2) ----------------------------------------------------------------
def test_gpu_links_activation_and_residual_into_conv():
    m = module(lambda b, x: b.relu(b.add(conv(b, x), x)))
    assert groups(m, "adreno640") == [("conv2d", "add", "relu")]


def test_gpu_stops_at_fan_out_and_graph_outputs():
    def fan_out(b, x):
        y = conv(b, x)
        return b.relu(y), b.sigmoid(y)

    assert groups(module(fan_out), "adreno640") == [("conv2d",), ("relu",), ("sigmoid",)]

    def returned(b, x):
        y = conv(b, x)
        return y, b.relu(y)

    assert groups(module(returned), "adreno640") == [("conv2d",), ("relu",)]


def test_gpu_links_only_at_slot_0_after_the_associative_reorder():
    # sub is not associative: the conv feeds slot 1, so sub cannot join it
    m = module(lambda b, x: b.sub(b.relu(x), conv(b, x)))
    assert ("conv2d", "sub") not in groups(m, "adreno640")
    # add reorders: the most recently produced input (the conv) moves to slot 0
    m = module(lambda b, x: b.add(b.relu(x), conv(b, x)))
    assert ("conv2d", "add") in groups(m, "adreno640")


def test_gpu_add_with_mismatched_channels_is_not_linkable():
    def build(b, x):
        y = b.conv2d(x, out_channels=16, kernel=1)
        s = b.reduce_mean(x, axes=(1,), keepdims=True)  # (1, 1, 8, 8): c1 == 1 broadcasts
        return b.add(y, s)

    assert ("conv2d", "add") in groups(module(build), "adreno640")


def test_gpu_merge_elementwise_x_times_sigmoid_x():
    # R(E(x), x) merges although E feeds slot 1: MergeElementwiseNodes runs first
    m = module(lambda b, x: b.mul(x, b.sigmoid(x)))
    assert groups(m, "mali-g76") == [("sigmoid", "mul")]


def test_gpu_chain_of_linkables_collapses():
    m = module(lambda b, x: b.tanh(b.mul(b.sigmoid(b.relu(conv(b, x))), b.constant(value=2.0))))
    (only,) = groups(m, "adreno640")
    assert only[0] == "conv2d" and set(only) == {"conv2d", "relu", "sigmoid", "mul", "tanh", "constant"}


def test_nnmeter_gpu_measurements_agree_with_the_delegate_linking():
    """Every measured nn-Meter GPU pair over these classes matches §2 (reshape->relu, which the
    reference calls noise, is left out; bn/se pairs were set by hand, not measured)."""
    rules = shipped("rule_tflite_gpu_4ca1750.json")
    data = json.loads((shipped.__globals__["DATA"] / "rule_tflite_gpu_4ca1750.json").read_text())
    builders = {
        "conv": lambda b, x: conv(b, x), "dwconv": lambda b, x: conv(b, x, groups=16),
        "relu": lambda b, x: b.relu(x), "add": lambda b, x: b.add(x, b.arg(x.type)),
        "pooling": lambda b, x: b.max_pool2d(x, kernel=3, padding=1),
        "concat": lambda b, x: b.concat(x, b.arg(x.type), axis=1),
        "dense": lambda b, x: b.linear(x, out_features=8),
    }
    checked = 0
    for key, entry in sorted(data.items()):
        if not key.startswith("BF_") or not entry.get("latency") or key == "BF_reshape_relu":
            continue
        a, c = key[3:].split("_")
        if a not in builders or c not in builders:
            continue
        made: list = []

        def build(b, x, a=a, c=c, made=made):
            first = builders[a](b, x)
            made.append(first.owner)
            second = builders[c](b, first)
            made.append(second.owner)
            return second

        fused = fuse(module(build, (1, 16, 8, 8) if "dense" not in (a, c) else (1, 8)), "adreno640")
        ks = kernels(fused)
        same = any({a_op.name for a_op in made} <= set(k.op_names) and len(k.op_names) > 1 for k in ks)
        assert same == ((a, c) in rules.pairs), (key, [k.op_names for k in ks])
        checked += 1
    assert checked >= 20


# --- pair rules: nn-Meter's defects fixed -------------------------------------------------------
def rules(*pairs, triples=()):
    data = {f"BF_{a}_{b}": {"obey": True} for a, b in pairs}
    data.update({f"BF_{'_'.join(t)}": {"obey": True} for t in triples})
    return PairFusion(parse_rules(data, "<test>"))


def partition_names(policy, m):
    return [tuple(op.name for op in g) for g in policy.partition(m.main).groups()]


def test_chain_is_checked_link_by_link_not_against_the_root():
    # VPU: concat->dwconv and dwconv->bn fuse, concat->bn does not; nn-Meter left bn alone
    policy = rules(("concat", "dwconv"), ("dwconv", "bn"))
    m = module(lambda b, x: b.batch_norm(b.conv2d(b.concat(x, x, axis=1), out_channels=32, kernel=3,
                                                  padding=1, groups=32)))
    assert partition_names(policy, m) == [("concat", "conv2d", "batch_norm")]


def test_what_a_kernel_absorbs_is_decided_by_its_heavy_op():
    # conv->bn and bn->relu are rules, conv->relu is not: the relu stays out of the conv kernel
    policy = rules(("conv", "bn"), ("bn", "relu"))
    m = module(lambda b, x: b.relu(b.batch_norm(conv(b, x))))
    assert partition_names(policy, m) == [("conv2d", "batch_norm"), ("relu",)]


def test_one_heavy_op_per_kernel():
    policy = rules(("dense", "concat"), ("concat", "dense"))
    m = module(lambda b, x: b.linear(b.concat(b.linear(x, out_features=8), x, axis=1), out_features=4),
               shape=(1, 8))
    assert len(partition_names(policy, m)) == 2


def test_triples_are_templates():
    policy = rules(triples=[("conv", "bn", "relu")])
    m = module(lambda b, x: b.relu(b.batch_norm(conv(b, x))))
    assert partition_names(policy, m) == [("conv2d", "batch_norm", "relu")]


def test_tflite_cpu_uses_nnmeter_cpu_rules():
    resnet = module(lambda b, x: b.relu(b.add(b.batch_norm(conv(b, b.relu(b.batch_norm(conv(b, x))))), x)))
    assert groups(resnet, "tflite-cpu") == [("conv2d", "batch_norm", "relu"), ("conv2d", "batch_norm"),
                                            ("add", "relu")]
    assert groups(resnet, "adreno640") == [("conv2d", "batch_norm", "relu"),
                                           ("conv2d", "batch_norm", "add", "relu")]


# --- rule files ---------------------------------------------------------------------------------
def test_shipped_nnmeter_rule_files_load():
    cpu = shipped("rule_tflite_cpu_4ca1750.json")
    assert ("conv", "relu") in cpu.pairs and ("conv", "add") not in cpu.pairs
    assert ("conv", "bn", "relu") in cpu.triples
    assert len(shipped("rule_tflite_gpu_4ca1750.json").pairs) == 23  # 25 true rules, 2 of them triples
    assert ("concat", "dwconv") in shipped("rule_vpu_4ca1750.json").pairs


@pytest.mark.parametrize("data, message", [
    ({"BF_conv_maxpol": {"obey": True}}, "unknown op class 'maxpol'"),
    ({"BF_conv_relu": {"obey": "yes"}}, "boolean 'obey'"),
    ({"XX_conv_relu": {"obey": True}}, "unknown entry 'XX_conv_relu'"),
    ({"BF_conv_relu_add_bn": {"obey": True}}, "2 or 3 classes"),
])
def test_rule_file_errors_are_loud(data, message):
    with pytest.raises(RuleFileError, match=message):
        parse_rules(data, "<test>")


# --- kernels() -------------------------------------------------------------------------------------
def test_kernels_api_is_plain_records():
    m = module(lambda b, x: b.relu(conv(b, x)))
    fused = fuse(m, "adreno640")
    (k,) = archir.kernels(fused)
    assert (k.op_names, k.impl, k.latency_us, k.kind) == (("conv2d", "relu"), "", None, "conv-relu")
    (k,) = archir.kernels(compile_for(m, "adreno640"))
    assert k.impl == "conv_generic" and k.precision == "f16" and k.storage == "texture_2d"  # 4608 B > 3584


def test_select_needs_fused_module_of_the_same_target():
    from archir.passes.targets import TargetPassError, select_kernels

    m = module(lambda b, x: b.relu(conv(b, x)))
    with pytest.raises(TargetPassError, match="run fuse"):
        select_kernels(m, "adreno640")
    with pytest.raises(TargetPassError, match="fused for 'mali-g76'"):
        select_kernels(fuse(m, "mali-g76"), "adreno640")


def test_fusion_reorders_ops_to_keep_kernels_contiguous():
    def build(b, x):
        y = conv(b, x)
        other = b.sigmoid(x)  # scheduled between the conv and its relu
        return b.add(b.relu(y), other)

    m = module(build)
    fused = fuse(m, "adreno640")
    archir.verify(fused)
    assert [k.op_names for k in kernels(fused)] == [("sigmoid",), ("conv2d", "relu", "add")]
    assert [op.name for op in m.main.ops] == ["conv2d", "sigmoid", "relu", "add"]  # input untouched


@pytest.mark.parametrize("name, gpu, cpu", [("resnet18", 23, 31), ("mobilenet_v2", 54, 64)])
def test_nnmeter_whole_network_kernel_counts(name, gpu, cpu):
    """mobile-gpu-rules.md §8: nn-Meter's detector gives ResNet-18 23 (GPU) vs 31 (CPU) kernels
    and MobileNetV2 54 vs 64; the delegate linking and the fixed pair rules agree."""
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")

    torch.manual_seed(0)
    model = torchvision.models.get_model(name, weights=None).eval()
    with torch.no_grad():
        m = archir.from_torch(model, (torch.randn(1, 3, 224, 224),))
    assert len(kernels(compile_for(m, "adreno640"))) == gpu
    assert len(kernels(compile_for(m, "tflite-cpu"))) == cpu
