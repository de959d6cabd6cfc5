"""Each mutation on small networks: what it changes, what follows, and when it is rejected."""

import random

import pytest

import archir
from archir.frontends.spaces.build import conv_bn, image
from archir.frontends.spaces.darts import DartsSpace
from archir.frontends.spaces.mbconv import mbconv
from archir.frontends.spaces.nb201 import NB201Space
from archir.frontends.spaces.ofa_mbv3 import OFAMobileNetV3Space
from archir.frontends.spaces.transformer import TransformerSpace
from archir.search.mutations import MUTATIONS, Rejected, mutate_assignment, random_mutation


def mbconv_net() -> archir.Module:
    """stem → MBConv with SE (residual) → MBConv (residual) → head."""
    b = archir.GraphBuilder("main")
    x = b.arg(image(3, 16), "image")
    y = conv_bn(b, x, 24, 3, act="relu", name="stem")
    y = mbconv(b, y, out=24, kernel=3, mid=72, stride=1, act="relu", se=True)
    y = mbconv(b, y, out=24, kernel=5, mid=48, stride=1, act="hardswish")
    b.ret(b.linear(b.flatten(b.global_avg_pool(y)), out_features=10, name="fc"))
    return archir.Module([b.graph])


def site(module, name, kind=None):
    return next(i for i, op in enumerate(module.main.ops)
                if op.results[0].name_hint == name and (kind is None or op.name == kind))


def named(module, name):
    return module.main.ops[site(module, name)]


def test_width_of_an_expand_conv_follows_into_depthwise_and_se():
    net = mbconv_net()
    before = archir.to_text(net)
    mutant = MUTATIONS["change_width"](net, random.Random(0), site=site(net, "expand"))
    assert archir.to_text(net) == before  # the input is untouched
    m = mutant.module
    archir.verify(m)
    mid = named(m, "expand").attrs["out_channels"]
    assert mid != 72
    assert named(m, "dw").attrs["out_channels"] == named(m, "dw").attrs["groups"] == mid
    assert named(m, "se.expand").attrs["out_channels"] == mid
    assert named(m, "se.reduce").attrs["out_channels"] == 24  # absorbs the new width
    assert named(m, "project").attrs["out_channels"] == 24
    assert named(m, "project").operands[0].type.shape[1] == mid


def test_width_of_a_residual_chain_changes_every_producer_together():
    net = mbconv_net()
    m = MUTATIONS["change_width"](net, random.Random(1), site=site(net, "project")).module
    width = named(m, "stem").attrs["out_channels"]
    assert width != 24
    projects = [op for op in m.main.ops if op.results[0].name_hint in ("project", "project_1")]
    assert [p.attrs["out_channels"] for p in projects] == [width, width]
    assert named(m, "fc").operands[0].type.shape == ("N", width)


def _residual_on_input() -> archir.Module:
    b = archir.GraphBuilder("main")
    x = b.arg(image(16, 8), "x")
    y = b.add(x, conv_bn(b, x, 16, 3, name="conv"))
    b.ret(b.linear(b.flatten(b.global_avg_pool(y)), out_features=4))
    return archir.Module([b.graph])


def _concat_net() -> archir.Module:
    b = archir.GraphBuilder("main")
    x = b.arg(image(3, 8), "x")
    a, c = b.conv2d(x, out_channels=8, kernel=1, name="a"), b.conv2d(x, out_channels=8, kernel=1)
    y = b.concat(a, c, axis=1)
    b.ret(b.conv2d(y, out_channels=4, kernel=1))
    return archir.Module([b.graph])


@pytest.mark.parametrize("build,name,reason", [
    (_residual_on_input, "conv", "graph input"),
    (_concat_net, "a", "'concat' cannot follow"),
])
def test_width_changes_that_cannot_propagate_are_rejected(build, name, reason):
    net = build()
    before = archir.to_text(net)
    with pytest.raises(Rejected, match=reason):
        MUTATIONS["change_width"](net, random.Random(0), site=site(net, name))
    assert archir.to_text(net) == before


def test_width_of_the_classifier_is_not_a_site():
    net = mbconv_net()
    with pytest.raises(Rejected, match="not a site"):
        MUTATIONS["change_width"](net, random.Random(0), site=site(net, "fc"))


def test_kernel_change_keeps_shapes():
    net = mbconv_net()
    m = MUTATIONS["change_kernel"](net, random.Random(2), site=site(net, "dw")).module
    dw = named(m, "dw")
    k = dw.attrs["kernel"][0]
    assert k in (5, 7) and dw.attrs["padding"] == (k // 2, k // 2)
    assert [op.results[0].type for op in m.main.ops] == [op.results[0].type for op in net.main.ops]


def test_swap_op_replaces_one_activation():
    net = mbconv_net()
    count = lambda m, kind: sum(op.name == kind for op in m.main.ops)  # noqa: E731
    i = next(i for i, op in enumerate(net.main.ops) if op.name == "relu")
    m = MUTATIONS["swap_op"](net, random.Random(0), site=i).module
    assert m.main.ops[i].name != "relu" and count(m, "relu") == count(net, "relu") - 1


def test_remove_and_insert_residual_blocks():
    net = mbconv_net()
    adds = lambda m: sum(op.name == "add" for op in m.main.ops)  # noqa: E731
    removed = MUTATIONS["remove_block"](net, random.Random(0)).module
    assert adds(removed) == 1 and len(removed.main.ops) < len(net.main.ops) - 5
    inserted = MUTATIONS["insert_block"](net, random.Random(0)).module
    assert adds(inserted) == 3 and len(inserted.main.ops) == len(net.main.ops) + 9
    assert inserted.main.output_types == net.main.output_types


def test_insert_block_in_a_transformer_adds_a_residual_mlp():
    s = TransformerSpace()
    m = s.specialize(s.default(), flat=True)
    out = MUTATIONS["insert_block"](m, random.Random(0)).module
    linears = lambda module: sum(op.name == "linear" for op in module.main.ops)  # noqa: E731
    assert linears(out) == linears(m) + 2


def test_rewire_changes_a_cell_node_input():
    s = NB201Space()
    m = s.specialize(s.decode("|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|"
                              "+|nor_conv_1x1~0|nor_conv_3x3~1|avg_pool_3x3~2|"), flat=True)
    rng = random.Random(4)
    mutant = MUTATIONS["rewire"](m, rng)
    assert "now comes from" in mutant.detail
    assert archir.structural_hash(mutant.module) != archir.structural_hash(m)


@pytest.mark.parametrize("position", ["rope", "alibi", "learned"])
def test_change_heads_moves_between_mha_gqa_and_mqa(position):
    s = TransformerSpace()
    m = s.specialize({**s.default(), "heads": 8, "kv_heads": 4, "position": position, "d_model": 256},
                     flat=True)
    seen = set()
    for seed in range(8):
        out = MUTATIONS["change_heads"](m, random.Random(seed)).module
        changed = [op for op in out.main.ops if op.name == "attention"
                   and (op.attrs["num_heads"], op.attrs["num_kv_heads"]) != (8, 4)]
        assert len(changed) == 1
        op = changed[0]
        h, kv = op.attrs["num_heads"], op.attrs["num_kv_heads"]
        assert op.operands[1].type.shape[-1] == op.operands[2].type.shape[-1] == kv * 256 // h
        seen.add("MHA" if h == kv else "MQA" if kv == 1 else "GQA")
    assert len(seen) >= 2


def test_change_window():
    s = TransformerSpace()
    m = s.specialize(s.default(), flat=True)
    out = MUTATIONS["change_window"](m, random.Random(0)).module
    assert {op.attrs["window"] for op in out.main.ops if op.name == "attention"} != {0}


def test_graph_mutations_refuse_a_search_space():
    with pytest.raises(Rejected, match="specialize"):
        MUTATIONS["swap_op"](DartsSpace().module, random.Random(0))


def test_random_mutation_lists_why_nothing_applied():
    b = archir.GraphBuilder("main")
    x = b.arg(archir.TensorType("f32", ("N", 8)), "x")
    b.ret(b.linear(x, out_features=2))
    with pytest.raises(Rejected, match="no mutation applied"):
        random_mutation(archir.Module([b.graph]), random.Random(0))


def test_assignment_mutation_changes_one_decision_and_stays_valid():
    s = DartsSpace()
    rng = random.Random(0)
    a = s.sample(rng)
    for _ in range(200):
        original = dict(a)
        step = mutate_assignment(s, a, rng)
        assert a == original
        changed = [k for k in a if step.assignment[k] != a[k]]
        assert changed == [step.decision] and s.is_valid(step.assignment)
        a = step.assignment
    archir.verify(s.specialize(a))


def test_assignment_mutation_by_kind():
    s = OFAMobileNetV3Space()
    a = s.default()
    for kind in ("kernel", "expand", "depth", "resolution"):
        step = mutate_assignment(s, a, random.Random(1), kinds={kind})
        assert s.by_name[step.decision].kind == kind
    with pytest.raises(Rejected, match="no decision of kind"):
        mutate_assignment(s, a, random.Random(1), kinds={"heads"})
