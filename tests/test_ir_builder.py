"""GraphBuilder: IR written in Python prints exactly like the golden text; bad ops fail early."""

from pathlib import Path

import pytest

import archir
from archir import GraphBuilder, Module, ParamRef, SymbolRef, TensorType

GOLDEN = Path(__file__).parent / "golden" / "ir"


def t(*shape) -> TensorType:
    return TensorType("f32", shape)


def test_cells_built_in_python_print_as_the_golden_file():
    m = Module()
    cbr = GraphBuilder("conv_bn_relu", m)
    x = cbr.arg(t("N", 3, 32, 32), "x")
    y = cbr.conv2d(x, out_channels=32, kernel=3, stride=2, padding=1, bias=False, name="conv")
    cbr.ret(cbr.relu(cbr.batch_norm(y, name="bn")))

    stem = GraphBuilder("stem", m)
    stem.ret(stem.call(stem.arg(t("N", 3, 32, 32), "x"), callee=SymbolRef("conv_bn_relu")))

    block = GraphBuilder("block", m)
    x = block.arg(t("N", 32, 16, 16), "x")
    y = block.batch_norm(block.conv2d(x, out_channels=32, kernel=3, padding=1, bias=False,
                                      name="conv"), name="bn")
    block.ret(block.relu(block.add(y, x, name="sum")))

    br = GraphBuilder("branches", m)
    x = br.arg(t("N", 32, 16, 16), "x")
    br.ret(br.conv2d(x, out_channels=16, kernel=1, name="a"),
           br.conv2d(x, out_channels=16, kernel=5, padding="same", groups=16, name="b"))

    head = GraphBuilder("head", m)
    x = head.arg(t("N", 32, 16, 16), "x")
    flat = head.flatten(head.global_avg_pool(x, name="pool"), name="flat")
    head.ret(head.linear(flat, out_features=10, name="fc"))

    main = GraphBuilder("main", m)
    x = main.call(main.arg(t("N", 3, 32, 32), "image"), callee=SymbolRef("stem"))
    x = main.call(main.call(x, callee=SymbolRef("block")), callee=SymbolRef("block"))
    left, right = main.op("call", x, callee=SymbolRef("branches"))
    left.name_hint, right.name_hint = "left", "right"
    x = main.concat(left, right, axis=1)
    main.ret(main.call(x, callee=SymbolRef("head"), name="logits"))

    # Cells register when they return; the printer keeps the module's order, so set it.
    m.graphs = {name: m.graphs[name] for name in ["main", "stem", "conv_bn_relu", "block",
                                                  "branches", "head"]}
    archir.verify(m)
    assert archir.to_text(m) == (GOLDEN / "cells.air").read_text()


def test_search_space_built_in_python_prints_as_the_golden_file():
    m = Module(params=[archir.Param("width", (16, 24)), archir.Param("hidden", (64, 96)),
                       archir.Param("kernel", (3, 5, 7)), archir.Param("approx", ("none", "tanh")),
                       archir.Param("block1", (SymbolRef("mbconv"), SymbolRef("skip"))),
                       archir.Param("block2", (SymbolRef("skip"), SymbolRef("mbconv")))])
    mb = GraphBuilder("mbconv", m)
    x = mb.arg(t("N", 16, 16, 16), "x")
    y = mb.relu6(mb.conv2d(x, out_channels=ParamRef("hidden"), kernel=1, bias=False, name="expand"))
    y = mb.relu6(mb.conv2d(y, out_channels=ParamRef("hidden"), kernel=ParamRef("kernel"),
                           padding="same", groups=ParamRef("hidden"), bias=False, name="dw"))
    y = mb.conv2d(y, out_channels=ParamRef("width"), kernel=1, bias=False, name="project")
    mb.ret(mb.add(y, x))
    skip = GraphBuilder("skip", m)
    skip.ret(skip.identity(skip.arg(t("N", 16, 16, 16), "x")))

    b = GraphBuilder("main", m)
    x = b.arg(t("N", 3, 32, 32), "x")
    y = b.conv2d(x, out_channels=ParamRef("width"), kernel=3, stride=2, padding=1, name="stem")
    y = b.gelu(y, approximate=ParamRef("approx"))
    y = b.choice(y, of=ParamRef("block1"), name="b1")
    y = b.choice(y, of=ParamRef("block2"), name="b2")
    y = b.flatten(b.global_avg_pool(y, name="pool"), name="flat")
    b.ret(b.linear(y, out_features=10, name="logits"))
    m.graphs = {name: m.graphs[name] for name in ["main", "mbconv", "skip"]}
    archir.verify(m)
    assert archir.to_text(m) == (GOLDEN / "search_space.air").read_text()


def test_kernel_blocks_group_the_ops_built_inside():
    b = GraphBuilder()
    x = b.arg(t(1, 4), "x")
    with b.kernel(target="adreno640", impl="fused") as k:
        y = b.relu(x)
        y = b.sigmoid(y)
    y = b.tanh(y)
    with b.kernel(target="adreno640"):
        y = b.exp(y)
    b.ret(y)
    g = b.graph
    assert [op.kernel for op in g.ops][:3] == [k, k, None]
    assert [len(ops) for _, ops in g.kernels()] == [2, 1]
    text = archir.to_text(Module([g]))
    assert text == (
        "graph @main(%x: f32[1, 4]) -> (f32[1, 4]) {\n"
        '  kernel {target = "adreno640", impl = "fused"} {\n'
        "    %0 = relu(%x) : f32[1, 4]\n"
        "    %1 = sigmoid(%0) : f32[1, 4]\n"
        "  }\n"
        "  %2 = tanh(%1) : f32[1, 4]\n"
        '  kernel {target = "adreno640"} {\n'
        "    %3 = exp(%2) : f32[1, 4]\n"
        "  }\n"
        "  return %3\n"
        "}\n"
    )


def test_multi_result_ops_return_tuples_with_numbered_hints():
    b = GraphBuilder()
    x = b.arg(t(2, 6), "x")
    parts = b.split(x, axis=1, sizes=[1, 2, 3], name="part")
    assert [p.type.shape for p in parts] == [(2, 1), (2, 2), (2, 3)]
    assert [p.name_hint for p in parts] == ["part.0", "part.1", "part.2"]
    assert all(p.owner is parts[0].owner for p in parts)


@pytest.mark.parametrize("build, message", [
    (lambda b, x: b.op("conv3d", x), "unknown op 'conv3d'"),
    (lambda b, x: b.add(x), "'add' takes 2 operands, got 1"),
    (lambda b, x: b.relu(x, x), "'relu' takes 1 operands, got 2"),
    (lambda b, x: b.conv2d(x, out_channels=4), "'conv2d' needs attribute 'kernel'"),
    (lambda b, x: b.conv2d(x, out_channels=4, kernel=3, widht=2), "has no attribute widht"),
    (lambda b, x: b.conv2d(x, out_channels=4, kernel="3"), "attribute 'kernel' of 'conv2d'"),
    (lambda b, x: b.conv2d(x, out_channels=4, kernel=3, groups=3), "groups=3 must divide"),
    (lambda b, x: b.conv2d(x, out_channels=-4, kernel=1), "invalid dimension -4"),
    (lambda b, x: b.conv2d(x, out_channels=4, kernel=9), "does not fit"),
    (lambda b, x: b.call(x, callee=SymbolRef("cell")), "needs a module holding the cell"),
    (lambda b, x: b.channel_shuffle(x, groups=0), "channel_shuffle groups=0"),
    (lambda b, x: b.expand(x, shape=[1, -2, 8, 8]), "invalid dimension -2"),
])
def test_invalid_ops_raise_verify_error_and_leave_the_graph_alone(build, message):
    b = GraphBuilder()
    x = b.arg(t(1, 4, 8, 8), "x")
    with pytest.raises(archir.VerifyError, match=message.replace("(", r"\(")):
        build(b, x)
    assert b.graph.ops == []


def test_unknown_builder_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError):
        GraphBuilder().no_such_op  # noqa: B018


def test_kernel_attributes_are_validated():
    b = GraphBuilder()
    with pytest.raises(ValueError, match="kernel needs attribute 'target'"):
        with b.kernel(impl="x"):
            pass
    with pytest.raises(ValueError, match="kernel attribute 'latency_us'"):
        with b.kernel(target="cuda", latency_us="fast"):
            pass
    with pytest.raises(ValueError, match="kernel has no attribute self"):
        archir.Kernel(self=1)
