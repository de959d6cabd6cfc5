"""What the parser accepts beyond the printer's canonical form, and reads the same way."""

import pytest

import archir

CANONICAL = """param $k = [[3, 3], [5, 5]]

graph @main(%x: f32[1, 4, 8, 8]) -> (f32[1, 4, 8, 8]) {
  %0 = conv2d(%x) {out_channels = 4, kernel = $k, padding = "same", dilation = [1, 2]} : f32[1, 4, 8, 8]
  %1 = pad(%0) {pads = [0, 0, -1, 1, 0, 0, 1, -1]} : f32[1, 4, 8, 8]
  %2 = reduce_sum(%1) {keepdims = true} : f32[1, 1, 1, 1]
  %3 = add(%1, %2) : f32[1, 4, 8, 8]
  return %3
}
"""


@pytest.mark.parametrize("variant", [
    CANONICAL.replace("[1, 2]", "[1,2]").replace("[0, 0, -1", "[ 0,0 ,  -1"),
    CANONICAL.replace("[1, 2]", "[\n    1,\n    2\n  ]"),
    CANONICAL.replace("[[3, 3], [5, 5]]", "[[3,3],\n  [5, 5]]"),
    CANONICAL.replace("\n", "\r\n"),
    CANONICAL.replace("  return", "  // a comment\n  return // trailing\n "),
    CANONICAL.replace("[1, 2]", "[1, 2], stride = 1, groups = 1"),  # defaults, spelled out
    CANONICAL.replace("{keepdims = true}", "{axes = [], keepdims = true}"),
    CANONICAL.replace("%3", "%007"),  # an all-digit name is a number: printed as the next one
])
def test_other_spellings_read_as_the_canonical_text(variant: str):
    assert variant != CANONICAL
    assert archir.to_text(archir.parse(variant)) == CANONICAL


def test_list_values_are_tuples_of_the_declared_kind():
    op = archir.parse(CANONICAL).main.ops[1]
    assert op.attrs["pads"] == (0, 0, -1, 1, 0, 0, 1, -1)
    assert archir.parse(CANONICAL).params["k"].domain == ((3, 3), (5, 5))
    assert archir.parse(CANONICAL).main.ops[2].attrs["axes"] == ()


def test_a_number_too_long_inside_a_list_is_a_parse_error():
    text = CANONICAL.replace("[1, 2]", f"[1, {'9' * 5000}]")
    with pytest.raises(archir.ParseError, match="too long") as info:
        archir.parse(text)
    assert (info.value.line, info.value.column) == (4, 80)  # the list's "["


def test_parse_without_verify_keeps_an_ill_typed_module():
    text = CANONICAL.replace(": f32[1, 1, 1, 1]", ": f32[1, 4, 1, 1]")
    module = archir.parse(text, verify=False)
    assert archir.to_text(module) == text
    with pytest.raises(archir.VerifyError, match="'reduce_sum'"):
        archir.verify(module)
