"""The inline pass: a specialised architecture with cells becomes one flat @main graph."""

from pathlib import Path

import pytest

import archir
from archir import SymbolRef
from archir.passes import PassError, run_pipeline
from archir.passes.cost import cost

GOLDEN = Path(__file__).parent / "golden" / "ir"
SPACE = archir.parse((GOLDEN / "search_space.air").read_text())
PICK = {"width": 24, "hidden": 96, "kernel": 5, "approx": "tanh", "block1": "mbconv",
        "block2": SymbolRef("mbconv")}


def test_inlining_keeps_every_op_and_the_cost():
    arch = archir.specialize(SPACE, PICK)
    flat = run_pipeline(arch, "inline", verify_each=True)
    assert list(flat.graphs) == ["main"]
    assert not any(op.name == "call" for op in flat.main.ops)
    calls = sum(1 for op in arch.main.ops if op.name == "call")
    cell_ops = len(arch.graphs["mbconv"].ops)
    assert len(flat.main.ops) == len(arch.main.ops) - calls + calls * cell_ops
    assert cost(flat).macs == cost(arch).macs and cost(flat).params == cost(arch).params


def test_a_space_with_choices_left_is_an_error_naming_the_choice():
    with pytest.raises(PassError, match="inline: .*choice"):
        run_pipeline(SPACE, "inline")


def test_a_flat_module_is_left_alone():
    arch = run_pipeline(archir.specialize(SPACE, PICK), "inline")
    assert archir.to_text(run_pipeline(arch, "inline")) == archir.to_text(arch)
