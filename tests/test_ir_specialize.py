"""specialize: a search space with every decision fixed becomes a plain, re-typed architecture."""

from pathlib import Path

import pytest

import archir
from archir import ParamRef, SymbolRef

GOLDEN = Path(__file__).parent / "golden" / "ir"
SPACE = (GOLDEN / "search_space.air").read_text()
PICK = {"width": 24, "hidden": 96, "kernel": 5, "approx": "tanh", "block1": "mbconv",
        "block2": SymbolRef("mbconv")}


def test_specialize_matches_the_golden_architecture():
    space = archir.parse(SPACE)
    arch = archir.specialize(space, PICK)
    archir.verify(arch)
    assert archir.to_text(arch) == (GOLDEN / "search_space_specialized.air").read_text()
    assert archir.to_text(space) == SPACE  # the space is left as it was


def test_every_choice_is_resolved():
    arch = archir.specialize(archir.parse(SPACE), PICK)
    assert arch.params == {}
    for _, op in arch.walk():
        assert op.name != "choice"
        assert not any(isinstance(v, ParamRef) for v in op.attrs.values())
    assert list(arch.graphs) == ["main", "mbconv"]  # @skip is no longer reachable


def test_types_are_re_inferred_through_cells():
    arch = archir.specialize(archir.parse(SPACE), {**PICK, "width": 16, "hidden": 64, "kernel": 7})
    cell = arch.graphs["mbconv"]
    assert cell.input_types == (archir.TensorType("f32", ("N", 16, 16, 16)),)
    dw = cell.ops[2]
    assert dw.attrs["kernel"] == (7, 7) and dw.attrs["groups"] == 64
    assert dw.results[0].type.shape == ("N", 64, 16, 16)
    assert arch.main.ops[0].results[0].type.shape == ("N", 16, 16, 16)


def test_picking_the_same_cell_everywhere_drops_the_other():
    arch = archir.specialize(archir.parse(SPACE), {**PICK, "block1": "skip", "block2": "skip"})
    assert list(arch.graphs) == ["main", "skip"]
    calls = [op.attrs["callee"] for op in arch.main.ops if op.name == "call"]
    assert calls == [SymbolRef("skip"), SymbolRef("skip")]
    archir.verify(arch)


def test_list_values_match_tuple_domains():
    text = SPACE.replace("param $kernel = [3, 5, 7]", "param $kernel = [[3, 3], [5, 3]]")
    arch = archir.specialize(archir.parse(text), {**PICK, "kernel": [5, 3]})
    assert arch.graphs["mbconv"].ops[2].attrs["kernel"] == (5, 3)


def test_bad_assignments_are_all_listed():
    space = archir.parse(SPACE)
    with pytest.raises(ValueError) as info:
        archir.specialize(space, {"width": 20, "kernel": 4, "bogus": 1, "block1": "nope",
                                  "block2": "skip", "approx": "none"})
    message = str(info.value)
    assert message.startswith("cannot specialize: ")
    for problem in ["missing $hidden", "unknown $bogus", "$width = 20 is not in [16, 24]",
                    "$kernel = 4 is not in [3, 5, 7]",
                    "$block1 = \"nope\" is not in [@mbconv, @skip]"]:
        assert problem in message
    assert "block2" not in message and "approx" not in message


def test_a_pick_that_does_not_fit_is_a_verify_error_naming_the_op():
    text = """param $kernel = [3, 9]

graph @main(%x: f32[N, 4, 8, 8]) -> (f32[N, 4, 6, 6]) {
  %0 = conv2d(%x) {out_channels = 4, kernel = $kernel} : f32[N, 4, 6, 6]
  return %0
}
"""
    space = archir.parse(text)
    assert archir.specialize(space, {"kernel": 3}).main.ops[0].attrs["kernel"] == (3, 3)
    with pytest.raises(archir.VerifyError, match=r"'conv2d' in @main: window 9 .* does not fit"):
        archir.specialize(space, {"kernel": 9})


def test_specializing_a_plain_module_copies_it():
    text = (GOLDEN / "cells.air").read_text()
    module = archir.parse(text)
    arch = archir.specialize(module, {})
    assert archir.to_text(arch) == text
    assert arch.main is not module.main
    assert arch.main.ops[0] is not module.main.ops[0]


def test_infer_types_retypes_after_an_input_change():
    module = archir.parse((GOLDEN / "cells.air").read_text())
    module.main.args[0].type = archir.TensorType("f32", ("N", 3, 64, 64))
    archir.infer_types(module)
    archir.verify(module)
    assert module.graphs["block"].input_types[0].shape == ("N", 32, 32, 32)
    assert module.main.output_types[0].shape == ("N", 10)
    module.main.args[0].type = archir.TensorType("f32", ("N", 5, 64, 64))
    module.graphs["conv_bn_relu"].args[0].type = archir.TensorType("f32", ("N", 5, 64, 64))
    archir.infer_types(module)
    with pytest.raises(archir.VerifyError, match="'conv2d' in @conv_bn_relu: .*groups"):
        module.graphs["conv_bn_relu"].ops[0].attrs["groups"] = 2
        archir.infer_types(module)


def test_a_choice_variant_picks_the_cell_built_for_its_site():
    space = archir.parse((GOLDEN / "search_space_variants.air").read_text())
    arch = archir.specialize(space, {"op": "skip"})
    assert list(arch.graphs) == ["main", "skip_c16", "skip_c32"]
    assert [op.attrs["callee"].name for op in arch.main.ops if op.name == "call"] == [
        "skip_c16", "skip_c32"]
    archir.verify(arch)
