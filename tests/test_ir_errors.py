"""Golden error cases: each file under golden/ir/errors starts with the error it must raise.

``// ERROR: LINE:COL: text``  a ParseError at that position whose message contains text;
``// VERIFY: text``           the text parses, and the verifier rejects it with that text.
"""

import re
from pathlib import Path

import pytest

import archir

ERRORS = Path(__file__).parent / "golden" / "ir" / "errors"
FILES = sorted(ERRORS.glob("*.air"))
HEADER = re.compile(r"// (?:ERROR: (\d+):(\d+): |VERIFY: )(.+)\n")


def expectation(path: Path) -> tuple[str, int | None, int | None, str]:
    text = path.read_text()
    m = HEADER.match(text)
    assert m, f"{path.name} must start with // ERROR: LINE:COL: ... or // VERIFY: ..."
    if m[1]:
        return "parse", int(m[1]), int(m[2]), m[3]
    return "verify", None, None, m[3]


def test_error_files_cover_the_listed_mistakes():
    names = {p.stem for p in FILES}
    assert {
        "stray_character", "unterminated_string", "missing_type", "unknown_op",
        "unknown_attribute", "attribute_wrong_kind", "missing_required_attribute",
        "wrong_operand_count", "undefined_value", "redefinition", "bad_dtype", "negative_dim",
        "return_types_mismatch", "wrong_inferred_type", "groups_not_dividing",
        "call_undefined_cell", "recursive_calls", "choice_over_non_param", "undeclared_param",
        "choice_mismatched_signatures",
    } <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_error_file(path: Path):
    kind, line, column, message = expectation(path)
    text = path.read_text()
    if kind == "parse":
        with pytest.raises(archir.ParseError) as info:
            archir.parse(text, verify=False, filename=path.name)
        e = info.value
        assert (e.line, e.column) == (line, column), str(e)
        assert message in e.message
        source = text.split("\n")[line - 1]
        # file:line:col, the offending line, and a caret under the column
        assert str(e).split("\n") == [
            f"{path.name}:{line}:{column}: error: {e.message}",
            f"  {source}",
            "  " + " " * (column - 1) + "^",
        ]
    else:
        module = archir.parse(text, verify=False)  # the text itself is well formed
        with pytest.raises(archir.VerifyError) as info:
            archir.verify(module)
        assert message in str(info.value)
        with pytest.raises(archir.VerifyError):
            archir.parse(text)


def _op_level_verify_errors() -> list[Path]:
    return [p for p in FILES if expectation(p)[0] == "verify" and re.match(r"'\w+': ", expectation(p)[3])]


@pytest.mark.parametrize("path", _op_level_verify_errors(), ids=lambda p: p.stem)
def test_verify_error_names_the_op_and_shows_it_in_context(path: Path):
    message = expectation(path)[3]
    op_name = message.split("'")[1]
    with pytest.raises(archir.VerifyError) as info:
        archir.parse(path.read_text())
    e = info.value
    assert e.message.startswith(f"verify: error: '{op_name}': ")
    context = e.context.split("\n")
    assert re.fullmatch(r"  in graph @\w+, op #\d+:", context[0])
    marked = [line for line in context[1:] if line.startswith(">>  ")]
    assert len(marked) == 1
    assert re.search(rf"= {op_name}\(", marked[0])
    # The marked line is the op as printed, so it can be found in the file.
    assert marked[0][4:] in path.read_text()


def test_wrong_type_error_says_expected_and_inferred_with_surrounding_ops():
    with pytest.raises(archir.VerifyError) as info:
        archir.parse((ERRORS / "wrong_inferred_type.air").read_text())
    assert str(info.value) == (
        "verify: error: 'conv2d': result type f32[1, 8, 32, 32] does not match the inferred "
        "f32[1, 8, 30, 30]\n"
        "  in graph @main, op #1:\n"
        "    %0 = relu(%x) : f32[1, 3, 32, 32]\n"
        ">>  %1 = conv2d(%0) {out_channels = 8, kernel = [3, 3]} : f32[1, 8, 32, 32]\n"
        "    %2 = relu(%1) : f32[1, 8, 32, 32]"
    )


def test_verify_context_shows_three_ops_either_side():
    b = archir.GraphBuilder()
    x = b.arg(archir.TensorType("f32", (1, 4)), "x")
    for _ in range(10):
        x = b.relu(x)
    b.ret(x)
    module = archir.Module([b.graph])
    bad = module.main.ops[5]
    bad.results[0].type = archir.TensorType("f32", (1, 5))
    with pytest.raises(archir.VerifyError) as info:
        archir.verify(module)
    lines = info.value.context.split("\n")
    assert lines[0] == "  in graph @main, op #5:"
    assert lines[1:] == [
        "    %2 = relu(%1) : f32[1, 4]",
        "    %3 = relu(%2) : f32[1, 4]",
        "    %4 = relu(%3) : f32[1, 4]",
        ">>  %5 = relu(%4) : f32[1, 5]",
        "    %6 = relu(%5) : f32[1, 4]",
        "    %7 = relu(%6) : f32[1, 4]",
        "    %8 = relu(%7) : f32[1, 4]",
    ]


def test_kernel_region_must_be_contiguous():
    # The text gives every kernel block its own region; a pass that regroups ops can still
    # leave one kernel split around another op, which the verifier rejects.
    b = archir.GraphBuilder()
    x = b.arg(archir.TensorType("f32", (1, 4)), "x")
    with b.kernel(target="adreno640") as fused:
        y = b.relu(x)
    z = b.sigmoid(y)
    b.ret(b.tanh(z))
    module = archir.Module([b.graph])
    archir.verify(module)
    module.main.ops[2].kernel = fused
    with pytest.raises(archir.VerifyError, match="kernel region is not contiguous") as info:
        archir.verify(module)
    assert info.value.context.endswith("\n>>  %2 = tanh(%1) : f32[1, 4]")


def test_integer_too_long_is_a_parse_error():
    digits = "1" * 5000
    text = (
        "graph @main(%x: f32[1, 4, 8, 8]) -> (f32[1, 4, 8, 8]) {\n"
        f"  %0 = conv2d(%x) {{out_channels = {digits}, kernel = [1, 1]}} : f32[1, 4, 8, 8]\n"
        "  return %0\n}\n"
    )
    with pytest.raises(archir.ParseError, match="too long") as info:
        archir.parse(text)
    assert (info.value.line, info.value.column) == (2, 35)
    with pytest.raises(archir.ParseError, match="too long"):
        archir.parse(text.replace("f32[1, 4, 8, 8]) {", f"f32[1, {digits}]) {{"))


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_error_lines_count_only_newlines(newline: str):
    # A loc string may hold characters that str.splitlines() treats as line breaks.
    text = newline.join([
        "graph @main(%x: f32[4]) -> (f32[4]) {",
        '  %0 = relu(%x) : f32[4] loc("a\u2028b\x0cc")',
        "  %1 = relu(%0) : f33[4]",
        "  return %1",
        "}",
    ])
    with pytest.raises(archir.ParseError) as info:
        archir.parse(text)
    e = info.value
    assert (e.line, e.column) == (3, 19)
    assert e.source_line == "  %1 = relu(%0) : f33[4]"


def test_unexpected_end_points_after_the_last_character():
    with pytest.raises(archir.ParseError, match="unexpected end of input") as info:
        archir.parse("graph @main(%x: f32[4]) -> (f32[4]) {\n  return %x\n\n\n")
    assert (info.value.line, info.value.column) == (2, 12)


def test_parse_error_names_the_file():
    with pytest.raises(archir.ParseError) as info:
        archir.parse("graph @main(%x: f32[4]) -> (f32[4]) {\n  return %y\n}\n", filename="net.air")
    assert str(info.value).startswith("net.air:2:10: error: use of undefined value %y\n")
