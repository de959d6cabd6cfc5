"""Kernel extraction, features, families and perturbation (pure IR; nothing is timed)."""

import random

import pytest

from archir import GraphBuilder, Module, TensorType, verify
from archir.passes.latency.kernel_features import (
    FEATURES,
    KernelFamilyError,
    kernel_family,
    kernel_features,
    kernel_item,
)
from archir.passes.latency.kernel_module import KernelModuleError, kernel_configs, kernel_module, op_configs
from archir.passes.latency.sampling import collect, perturb
from archir.passes.targets import compile_for


def feats(ops) -> dict[str, float]:
    family, f = kernel_features(ops)
    return {"family": family, **dict(zip(FEATURES, f))}


def block(cin=16, cout=32, hw=28, groups=1, stride=1) -> Module:
    b = GraphBuilder("main")
    x = b.arg(TensorType("f32", (1, cin, hw, hw)), "x")
    y = b.relu(b.conv2d(x, out_channels=cout, kernel=3, padding=1, stride=stride, groups=groups))
    z = b.conv2d(y, out_channels=cout, kernel=3, padding=1, groups=cout)
    b.ret(b.global_avg_pool(b.add(z, y)))
    return compile_for(Module([b.graph]), "ort-cpu")


def test_conv_features_follow_the_geometry():
    cfg = kernel_configs(block(cin=16, cout=32, hw=28, stride=2))[0]
    f = feats(cfg.ops)
    assert f["family"] == "conv" and cfg.kind == "conv-relu" and cfg.impl == "FusedConv"
    geometry = (f["cin"], f["cout"], f["hin"], f["hout"], f["kh"], f["sh"], f["groups"])
    assert geometry == (16, 32, 28, 14, 3, 2, 1)
    assert f["macs"] == 14 * 14 * 32 * 16 * 9
    assert f["flops"] == 2 * f["macs"] + 14 * 14 * 32  # the fused relu counts one per element
    assert f["gemm_m"] == 14 * 14 and f["gemm_n"] == 32 and f["gemm_k"] == 16 * 9
    assert f["in_bytes"] == 16 * 28 * 28 * 4 and f["out_bytes"] == 32 * 14 * 14 * 4
    assert f["weight_bytes"] == (32 * 16 * 9 + 32) * 4
    assert f["n_ops"] == 2 and f["n_act"] == 1 and f["n_heavy"] == 1
    assert f["intensity"] == pytest.approx(f["flops"] / (f["in_bytes"] + f["out_bytes"] + f["weight_bytes"]))


def test_families_separate_depthwise_grouped_and_elementwise():
    m = block(cin=32, cout=32)
    families = [kernel_family(c.ops) for c in kernel_configs(m)]
    assert families[:2] == ["conv", "dwconv"] and "elementwise" in families and families[-1] == "gap"
    b = GraphBuilder("main")
    x = b.arg(TensorType("f32", (1, 32, 8, 8)), "x")
    b.ret(b.conv2d(x, out_channels=32, kernel=3, groups=4))
    assert kernel_family(Module([b.graph]).main.ops) == "gconv"


def test_a_call_has_no_family():
    b = GraphBuilder("cell")
    x = b.arg(TensorType("f32", (1, 4)), "x")
    b.ret(b.relu(x))
    cell = b.graph
    outer = GraphBuilder("main", Module([cell]))
    y = outer.arg(TensorType("f32", (1, 4)), "y")
    from archir.types import SymbolRef
    outer.ret(outer.call(y, callee=SymbolRef("cell")))
    with pytest.raises(KernelFamilyError, match="call"):
        kernel_family(outer.graph.ops)


def test_kernel_module_has_the_boundary_as_arguments_and_outputs():
    m = block()
    configs = kernel_configs(m)
    dw = configs[1]  # the depthwise conv: reads relu's output, feeds the add
    g = dw.module.main
    assert len(g.args) == 1 and g.args[0].type.shape == (1, 32, 28, 28)
    assert [o.type.shape for o in g.outputs] == [(1, 32, 28, 28)]
    verify(dw.module)
    assert all(op.kernel is g.ops[0].kernel for op in g.ops)
    assert g.ops[0].kernel.attrs["latency_us"] == -1.0  # results never leak into configurations
    add = next(c for c in configs if c.kind == "add")
    assert len(add.module.main.args) == 2
    assert len({c.key for c in kernel_configs(block())}) == len(configs)
    assert {c.key for c in kernel_configs(block())} == {c.key for c in configs}  # deterministic
    assert configs[0].key != kernel_configs(block(hw=56))[0].key


def test_op_configs_split_fused_kernels():
    m = block()
    assert len(op_configs(m)) == len(m.main.ops) > len(kernel_configs(m))
    with pytest.raises(KernelModuleError):
        kernel_module([], set(), set())


def test_kernel_item_carries_impl_and_splits():
    family, impl, f = kernel_item(kernel_configs(block())[0].ops)
    assert (family, impl) == ("conv", "FusedConv")
    assert f[FEATURES.index("splits")] == 1


def test_collect_counts_repeats():
    corpus = collect([("a", block()), ("b", block()), ("c", block(hw=14))], "ort-cpu")
    counts = sorted((e.count, len(e.labels)) for e in corpus.values())
    assert counts[-1] == (2, 2) and (1, 1) in counts


def test_perturb_keeps_structure_and_depthwise_consistency():
    rng = random.Random(0)
    cfg = kernel_configs(block(cin=32, cout=32))[1]  # depthwise
    found = 0
    for _ in range(20):
        new = perturb(cfg, rng)
        if new is None:
            continue
        found += 1
        verify(new.module)
        op = new.module.main.ops[0]
        assert [o.name for o in new.module.main.ops] == [o.name for o in cfg.module.main.ops]
        assert op.attrs["groups"] == op.operands[0].type.shape[1] == op.attrs["out_channels"]
        assert op.attrs["kernel"] == (3, 3) and new.key != cfg.key and new.impl == cfg.impl
    assert found >= 10
    residual = next(c for c in kernel_configs(block()) if c.kind == "add")
    new = next(n for n in (perturb(residual, rng) for _ in range(10)) if n is not None)
    a, b = new.module.main.args
    assert a.type == b.type  # both inputs of the add were remapped together


def test_region_keys_are_exact():
    from archir.passes.latency.kernel_keys import regions

    def keys(m):
        return [key for _, _, key in regions(m.main)]

    assert keys(block()) == keys(block())
    assert keys(block(hw=56))[0] != keys(block())[0]  # a shape
    assert keys(block(stride=2))[0] != keys(block())[0]  # an attribute
    # wiring: one kernel relu -> add, the add reading relu twice or relu and the kernel's input
    def fused(second_is_input: bool) -> Module:
        b = GraphBuilder("main")
        x = b.arg(TensorType("f32", (1, 8, 8, 8)), "x")
        with b.kernel(target="ort-cpu", impl="Add"):
            y = b.relu(x)
            out = b.add(y, x if second_is_input else y)
        b.ret(out)
        return Module([b.graph])

    same, other = fused(False), fused(True)
    assert feats(same.main.ops)["n_inputs"] != feats(other.main.ops)["n_inputs"]
    assert keys(same)[-1] != keys(other)[-1]


def test_primitives_cover_families_a_cnn_corpus_may_lack():
    from archir.passes.latency.sampling import corpus_shapes, primitive_configs

    shapes = corpus_shapes(collect([("a", block()), ("b", block(cin=32, cout=64, hw=14))], "ort-cpu"))
    assert (16, 28) in shapes and (64, 14) in shapes
    configs = primitive_configs("ort-cpu", shapes, random.Random(0), per_primitive=2)
    families = {kernel_family(c.ops) for c in configs}
    assert {"norm", "softmax", "pool", "gap", "elementwise", "data", "dwconv", "dense"} <= families
    for c in configs:
        verify(c.module)
