"""The printer's choices: names from hints, attributes in declaration order without defaults,
values written so that the parser reads back exactly what was set."""

import math

import archir
from archir import GraphBuilder, Module, TensorType


def printed(build) -> str:
    b = GraphBuilder()
    x = b.arg(TensorType("f32", (2, 4)), "x")
    b.ret(*build(b, x))
    return archir.to_text(Module([b.graph]))


def body(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n")[1:-3]]


def test_hints_are_kept_made_unique_and_sanitised():
    text = printed(lambda b, x: [b.relu(b.relu(b.relu(b.relu(b.relu(x, name="a"), name="a"),
                                                      name="a b"), name="7"), name="a_1")])
    assert body(text) == [
        "%a = relu(%x) : f32[2, 4]",
        "%a_1 = relu(%a) : f32[2, 4]",
        "%a_b = relu(%a_1) : f32[2, 4]",
        "%0 = relu(%a_b) : f32[2, 4]",  # an all-digit hint is just a number
        "%a_1_1 = relu(%0) : f32[2, 4]",
    ]
    assert archir.to_text(archir.parse(text)) == text


def test_attributes_print_in_declaration_order_without_defaults():
    text = printed(lambda b, x: [b.layer_norm(x, bias=False, eps=1e-6, axis=-1)])
    assert body(text) == ["%0 = layer_norm(%x) {eps = 1e-06, bias = false} : f32[2, 4]"]


def test_special_floats_and_negative_zero_are_exact():
    text = printed(lambda b, x: [b.pad(x, pads=[0, 1, 0, 1], value=-0.0),
                                 b.clip(x, min=float("-inf"), max=float("nan")),
                                 b.leaky_relu(x, alpha=1e-300),
                                 b.elu(x, alpha=0.1 + 0.2)])
    assert body(text) == [
        "%0 = pad(%x) {pads = [0, 1, 0, 1], value = -0.0} : f32[2, 6]",
        "%1 = clip(%x) {max = nan} : f32[2, 4]",
        "%2 = leaky_relu(%x) {alpha = 1e-300} : f32[2, 4]",
        "%3 = elu(%x) {alpha = 0.30000000000000004} : f32[2, 4]",
    ]
    ops = archir.parse(text).main.ops
    assert math.copysign(1.0, ops[0].attrs["value"]) == -1.0
    assert math.isnan(ops[1].attrs["max"]) and ops[1].attrs["min"] == float("-inf")
    assert ops[3].attrs["alpha"] == 0.1 + 0.2


def test_strings_are_escaped():
    b = GraphBuilder()
    x = b.arg(TensorType("f32", (1,)), "x")
    b.ret(b.relu(x, loc='say "hi"\\ \n\tbye'))
    text = archir.to_text(Module([b.graph]))
    assert 'loc("say \\"hi\\"\\\\ \\n\tbye")' in text
    assert archir.parse(text).main.ops[0].loc == 'say "hi"\\ \n\tbye'


def test_params_print_first_and_graphs_are_separated_by_a_blank_line():
    text = archir.to_text(archir.parse(
        "param $k = [3, 5]\nparam $c = [@a]\n"
        "graph @main(%x: f32[1, 4]) -> (f32[1, 4]) {\n"
        "  %0 = choice(%x) {of = $c} : f32[1, 4]\n  return %0\n}\n"
        "graph @a(%x: f32[1, 4]) -> (f32[1, 4]) {\n  return %x\n}\n"))
    assert text == (
        "param $k = [3, 5]\nparam $c = [@a]\n\n"
        "graph @main(%x: f32[1, 4]) -> (f32[1, 4]) {\n"
        "  %0 = choice(%x) {of = $c} : f32[1, 4]\n  return %0\n}\n\n"
        "graph @a(%x: f32[1, 4]) -> (f32[1, 4]) {\n  return %x\n}\n")
