"""Every search space: a choice IR that verifies and round-trips through text, whose random
samples specialise into verified plain architectures, plus facts particular to each space."""

import functools
import random

import pytest

import archir
from archir.frontends.spaces.darts import DARTS_V2, DartsSpace
from archir.frontends.spaces.nasnet import NasNetSpace
from archir.frontends.spaces.nats_counter import nats_params
from archir.frontends.spaces.nb201 import NB201Space
from archir.frontends.spaces.ofa_mbv3 import OFAMobileNetV3Space
from archir.frontends.spaces.proxyless import ProxylessSpace
from archir.frontends.spaces.transformer import TransformerSpace

FACTORIES = {
    "nb201": NB201Space, "darts": DartsSpace, "nasnet": NasNetSpace, "ofa": OFAMobileNetV3Space,
    "proxyless": ProxylessSpace, "transformer": TransformerSpace,
}


@functools.cache
def space(name: str):
    return FACTORIES[name]()


def ops(module, kind):
    return [op for _, op in module.walk() if op.name == kind]


@pytest.mark.parametrize("name", FACTORIES)
def test_space_ir_verifies_and_round_trips(name):
    module = space(name).module
    archir.verify(module)
    assert module.params and ops(module, "choice")
    text = archir.to_text(module)
    again = archir.parse(text)
    assert archir.to_text(again) == text
    assert archir.structurally_equal(again, module)


@pytest.mark.parametrize("name", FACTORIES)
def test_random_samples_specialize_verify_and_round_trip(name):
    s, rng = space(name), random.Random(7)
    seen = set()
    for _ in range(4):
        assignment = s.sample(rng)
        s.check(assignment)
        assert s.decode(s.encode(assignment)) == assignment
        module = s.specialize(assignment)
        archir.verify(module)
        assert not module.params and not ops(module, "choice")
        text = archir.to_text(module)
        assert archir.to_text(archir.parse(text)) == text
        assert archir.to_text(s.specialize(assignment)) == text  # deterministic
        flat = s.specialize(assignment, flat=True)
        archir.verify(flat)
        assert list(flat.graphs) == ["main"] and not ops(flat, "call")
        assert archir.cost(flat).macs == archir.cost(module).macs
        seen.add(archir.structural_hash(module))
    assert len(seen) > 1


@pytest.mark.parametrize("name", FACTORIES)
def test_bad_assignments_list_every_problem(name):
    s = space(name)
    bad = s.default()
    first, second = s.decisions[0].name, s.decisions[1].name
    del bad[first]
    bad[second] = "not-a-value"
    bad["bogus"] = 1
    with pytest.raises(ValueError) as e:
        s.specialize(bad)
    assert all(word in str(e.value) for word in (f"missing {first!r}", second, "unknown 'bogus'"))


def test_ir_specialize_and_space_specialize_agree():
    s = space("darts")
    assignment = s.sample(random.Random(3))
    direct = archir.specialize(s.module, s.ir_assignment(assignment))
    assert archir.to_text(direct) == archir.to_text(s.specialize(assignment))


# ---- DARTS / NASNet -----------------------------------------------------------------------

def test_darts_v2_has_its_published_parameter_count():
    """DARTS (2nd order) on CIFAR-10, C=36, 20 cells: 'param size = 3.349342MB' in its logs."""
    s = DartsSpace(width=36, layers=20)
    assignment = s.decode(DARTS_V2)
    assert s.encode(assignment) == DARTS_V2
    assert nats_params(s.specialize(assignment)) == 3_349_342


def test_darts_nodes_take_two_distinct_inputs():
    s = space("darts")
    rng = random.Random(0)
    for _ in range(20):
        a = s.sample(rng)
        assert all(a[f"{k}.n{n}.in0"] != a[f"{k}.n{n}.in1"]
                   for k in ("normal", "reduce") for n in range(2, 6))
    a = s.sample(rng)
    a["normal.n3.in1"] = a["normal.n3.in0"]
    assert not s.is_valid(a)
    with pytest.raises(ValueError, match="constraints"):
        s.specialize(a)


def test_reduction_cell_ops_on_cell_inputs_stride():
    s = space("darts")
    a = s.sample(random.Random(1))
    for n in range(2, 6):
        for j in (0, 1):
            a[f"reduce.n{n}.in{j}.op"] = "max_pool_3x3"
    pools = ops(s.specialize(a, flat=True), "max_pool2d")
    inputs = sum(a[f"reduce.n{n}.in{j}"] < 2 for n in range(2, 6) for j in (0, 1))
    assert sum(p.attrs["stride"] == (2, 2) for p in pools) == 2 * inputs  # two reduction cells


def test_nasnet_space_has_thirteen_ops_and_five_blocks():
    s = space("nasnet")
    assert len(s.by_name["normal.n2.in0.op"].domain) == 13
    assert "normal.n6.in1" in s.by_name and "normal.n7.in0" not in s.by_name
    a = s.sample(random.Random(2))
    a["normal.n4.in0"] = a["normal.n4.in1"] = 3  # NASNet may add a state to itself
    archir.verify(s.specialize(a))


# ---- OFA MobileNetV3 ----------------------------------------------------------------------

def test_ofa_decisions_reach_the_architecture():
    s = space("ofa")
    rng = random.Random(5)
    a = s.sample(rng)
    a["resolution"] = 176
    m = s.specialize(a, flat=True)
    assert m.main.args[0].type.shape == ("N", 3, 176, 176)
    dw = [op for op in ops(m, "conv2d") if op.attrs["groups"] > 1]
    depths = [a[f"s{s_}.depth"] for s_ in range(1, 6)]
    assert len(dw) == 1 + sum(depths)
    active = [(s_, i) for s_ in range(1, 6) for i in range(a[f"s{s_}.depth"])]
    assert [op.attrs["kernel"][0] for op in dw[1:]] == [a[f"s{s_}.b{i}.kernel"] for s_, i in active]
    mids = [op.attrs["out_channels"] for op in dw[1:]]
    expand = [op.operands[0].owner.operands[0].owner.operands[0].owner for op in dw[1:]]  # relu, bn, conv
    ins = [e.operands[0].type.shape[1] for e in expand]
    assert [m_ // c for m_, c in zip(mids, ins)] == [a[f"s{s_}.b{i}.expand"] for s_, i in active]
    assert len(ops(m, "hardsigmoid")) == sum(depths[i] for i in (1, 3, 4))  # SE in stages 2, 4, 5


def test_ofa_depth_is_one_decision_per_stage():
    s = space("ofa")
    a = s.default()
    sizes = []
    for d in (2, 3, 4):
        a["s3.depth"] = d
        sizes.append(len(ops(s.specialize(a, flat=True), "conv2d")))
    assert sizes[1] - sizes[0] == sizes[2] - sizes[1] == 3  # one MBConv (no SE in stage 3)


def _lut_keys(module):
    """OFA LUT-style keys of the MBConv blocks of a flat OFA network, found by op names."""
    convs = {op.results[0].name_hint: op for op in ops(module, "conv2d")}
    users = module.main.users()
    keys = set()
    for name, dw in convs.items():
        block = name[:-len(".dw")]
        if not name.endswith(".dw") or block + ".expand" not in convs:
            continue
        block_in = convs[block + ".expand"].operands[0].type
        out = convs[block + ".project"].results[0].type
        act = users[users[dw.results[0]][0][0].results[0]][0][0]  # dw -> batch_norm -> activation
        keys.add(f"input:{block_in.shape[2]}x{block_in.shape[3]}x{block_in.shape[1]}"
                 f"-output:{out.shape[2]}x{out.shape[3]}x{out.shape[1]}-expand:{dw.attrs['out_channels']}"
                 f"-kernel:{dw.attrs['kernel'][0]}-stride:{dw.attrs['stride'][0]}"
                 f"-se:{int(block + '.se.reduce' in convs)}-hs:{int(act.name == 'hardswish')}")
    return keys


def test_ofa_w12_blocks_match_the_note10_lookup_table_keys():
    """Blocks of the w1.2 supernet as OFA's Note10 latency table keys them (keys copied from
    ofa/note10/224_lookup_table.yaml): widths, absolute mid widths, SE and h-swish placement."""
    s = OFAMobileNetV3Space(width_mult=1.2)
    keys = _lut_keys(s.specialize({d.name: d.domain[-1] for d in s.decisions}, flat=True))  # d4 k7 e6
    assert len(keys) == 10  # per stage: the strided first block and the repeated block
    for key in (
        "input:112x112x24-output:56x56x32-expand:144-kernel:7-stride:2-se:0-hs:0",
        "input:56x56x32-output:28x28x48-expand:192-kernel:7-stride:2-se:1-hs:0",
        "input:28x28x48-output:28x28x48-expand:288-kernel:7-stride:1-se:1-hs:0",
        "input:28x28x48-output:14x14x96-expand:288-kernel:7-stride:2-se:0-hs:1",
        "input:14x14x96-output:14x14x136-expand:576-kernel:7-stride:1-se:1-hs:1",
        "input:14x14x136-output:7x7x192-expand:816-kernel:7-stride:2-se:1-hs:1",
        "input:7x7x192-output:7x7x192-expand:1152-kernel:7-stride:1-se:1-hs:1",
    ):
        assert key in keys


# ---- ProxylessNAS -------------------------------------------------------------------------

def test_proxyless_zero_only_where_the_block_keeps_its_shape():
    s = space("proxyless")
    with_zero = [d.name for d in s.decisions if "zero" in d.domain]
    assert with_zero == [f"s{st}.b{i}" for st in range(1, 6) for i in (1, 2, 3)]
    a = {d.name: "k3e6" for d in s.decisions}
    full = s.specialize(a, flat=True)
    for name in with_zero:
        a[name] = "zero"
    skipped = s.specialize(a, flat=True)
    assert len(ops(full, "add")) == 15 and not ops(skipped, "add")
    assert full.main.output_types == skipped.main.output_types


# ---- transformer --------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(6))
def test_transformer_samples_carry_their_attention_decisions(seed):
    s = space("transformer")
    a = s.sample(random.Random(seed))
    m = s.specialize(a, flat=True)
    attention = ops(m, "attention")
    assert len(attention) == a["layers"]
    for op in attention:
        assert (op.attrs["num_heads"], op.attrs["num_kv_heads"], op.attrs["window"]) == (
            a["heads"], a["kv_heads"], a["window"])
        assert op.attrs["causal"]
        k = op.operands[1]
        assert k.type.shape[-1] == a["kv_heads"] * a["d_model"] // a["heads"]
    assert ops(m, "embedding")[0].attrs["embedding_dim"] == a["d_model"]
    assert len(ops(m, "rotary")) == (2 * a["layers"] if a["position"] == "rope" else 0)
    assert len(ops(m, "alibi")) == (a["layers"] if a["position"] == "alibi" else 0)
    assert len(ops(m, "parameter")) == (a["position"] == "learned")


def test_transformer_covers_mha_gqa_and_mqa():
    s = space("transformer")
    kinds = set()
    for h in s.by_name["heads"].domain:
        for kv in s.by_name["kv_heads"].domain:
            m = s.specialize({**s.default(), "heads": h, "kv_heads": kv}, flat=True)
            op = ops(m, "attention")[0]
            kinds.add("MHA" if kv == h else "MQA" if kv == 1 else "GQA")
            assert (op.attrs["num_heads"], op.attrs["num_kv_heads"]) == (h, kv)
    assert kinds == {"MHA", "GQA", "MQA"}


def test_transformer_rejects_heads_that_do_not_split_the_width():
    with pytest.raises(ValueError, match="kv_heads must divide"):
        TransformerSpace(heads=(6,), kv_heads=(4,))


# ---- emission -----------------------------------------------------------------------------

def _input(module, torch):
    t = module.main.args[0].type
    shape = [1 if d == "N" else d for d in t.shape]
    return torch.randint(0, 100, shape) if t.dtype.value == "i64" else torch.randn(shape)


@pytest.mark.parametrize("name", FACTORIES)
def test_samples_emit_to_pytorch_and_run(name):
    torch = pytest.importorskip("torch")
    s = space(name)
    a = s.sample(random.Random(11))
    if "resolution" in a:
        a["resolution"] = 128  # keep the forward pass cheap
    m = s.specialize(a)
    net = archir.to_torch(m)
    with torch.no_grad():
        y = net(_input(m, torch))
    assert tuple(y.shape) == tuple(1 if d == "N" else d for d in m.main.output_types[0].shape)
    assert torch.isfinite(y).all()


# ---- the choice `variant` the cell spaces rely on (a core addition) ----------------------

VARIANT_SPACE = """param $op = [@conv, @pool]

graph @main(%x: f32[N, 8, 8, 8]) -> (f32[N, 16, 4, 4]) {
  %a = choice(%x) {of = $op, variant = ".c8"} : f32[N, 8, 8, 8]
  %b = conv2d(%a) {out_channels = 16, kernel = [1, 1], stride = [2, 2]} : f32[N, 16, 4, 4]
  %c = choice(%b) {of = $op, variant = ".c16"} : f32[N, 16, 4, 4]
  return %c
}

graph @conv.c8(%x: f32[N, 8, 8, 8]) -> (f32[N, 8, 8, 8]) {
  %0 = conv2d(%x) {out_channels = 8, kernel = [3, 3], padding = [1, 1]} : f32[N, 8, 8, 8]
  return %0
}

graph @pool.c8(%x: f32[N, 8, 8, 8]) -> (f32[N, 8, 8, 8]) {
  %0 = max_pool2d(%x) {kernel = [3, 3], padding = [1, 1]} : f32[N, 8, 8, 8]
  return %0
}

graph @conv.c16(%x: f32[N, 16, 4, 4]) -> (f32[N, 16, 4, 4]) {
  %0 = conv2d(%x) {out_channels = 16, kernel = [3, 3], padding = [1, 1]} : f32[N, 16, 4, 4]
  return %0
}

graph @pool.c16(%x: f32[N, 16, 4, 4]) -> (f32[N, 16, 4, 4]) {
  %0 = max_pool2d(%x) {kernel = [3, 3], padding = [1, 1]} : f32[N, 16, 4, 4]
  return %0
}
"""


def test_one_decision_picks_the_variant_cell_at_each_site():
    space_ir = archir.parse(VARIANT_SPACE)
    assert archir.to_text(space_ir) == VARIANT_SPACE
    m = archir.specialize(space_ir, {"op": archir.SymbolRef("pool")})
    assert [op.attrs["callee"].name for op in m.main.ops if op.name == "call"] == ["pool.c8", "pool.c16"]
    assert sorted(m.graphs) == ["main", "pool.c16", "pool.c8"]


def test_a_missing_variant_cell_is_a_verify_error():
    text = VARIANT_SPACE.replace("@pool.c16(", "@pool.c32(")
    with pytest.raises(archir.VerifyError, match="undefined graph @pool.c16"):
        archir.parse(text)


def test_the_structural_hash_sees_the_cells_a_variant_runs():
    other = VARIANT_SPACE.replace("kernel = [3, 3], padding = [1, 1]} : f32[N, 16, 4, 4]\n  return %0\n}\n\n"
                                  "graph @pool.c16", "kernel = [1, 1]} : f32[N, 16, 4, 4]\n  return %0\n}\n\n"
                                  "graph @pool.c16", 1)
    assert other != VARIANT_SPACE
    assert not archir.structurally_equal(archir.parse(other), archir.parse(VARIANT_SPACE))


def test_nb201_space_emits_as_a_pytorch_supernet():
    """The choice IR itself is a supernet: one decision switches the op of an edge in all 15 cells."""
    torch = pytest.importorskip("torch")
    s = space("nb201")
    net = archir.to_torch(s.module)
    net.select_cells(s.ir_assignment(s.sample(random.Random(5))))
    with torch.no_grad():
        y = net(torch.randn(2, 3, 32, 32))
    assert tuple(y.shape) == (2, 10) and torch.isfinite(y).all()
