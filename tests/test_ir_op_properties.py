"""Every declared op on random operand types and random attribute values of the declared kinds.

Building either fails with VerifyError (and leaves the graph as it was), or gives an op that
verifies and round-trips through the text format: result-type inference is total, and the
printer writes every attribute value the declarations accept in a form the parser reads back.
"""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

import archir
from archir import DType, GraphBuilder, Module, SymbolRef, TensorType
from archir.attrs import Kind
from archir.opdef import OpDef


def examples(n: int) -> int:
    """n examples under the ci profile (whose default is 100), ten times n under dev."""
    return max(1, n * settings.default.max_examples // 100)


DIM = st.one_of(st.integers(0, 6), st.integers(0, 6), st.sampled_from(["N", "S", "_k9"]))
FLOAT = st.one_of(st.sampled_from([0.0, -0.0, 1.0, 1e-5, float("inf"), float("-inf"), float("nan")]),
                  st.floats())
INTS = st.lists(st.integers(-3, 6), max_size=5)
TEXT = st.text(max_size=6)


def types() -> st.SearchStrategy[TensorType]:
    dtypes = st.sampled_from([DType.F32] * 6 + [DType.F16, DType.I64, DType.I32, DType.BOOL])
    return st.builds(TensorType, dtypes, st.lists(DIM, max_size=5).map(tuple))


def values_of(kind: Kind) -> st.SearchStrategy:
    """Values of an attribute kind: mostly plausible, sometimes of the wrong kind entirely."""
    plausible = {
        "int": st.integers(-2, 9),
        "float": FLOAT,
        "bool": st.booleans(),
        "str": TEXT,
        "symbol": st.builds(SymbolRef, st.sampled_from(["cell", "main"])),
        "dtype": st.sampled_from(list(DType)),
        "ints[]": INTS,
        "pads": st.one_of(st.just("same"), st.integers(-1, 3), INTS),
        "dims": st.lists(st.one_of(st.integers(-2, 6), st.sampled_from(["N", "S"])), max_size=5),
        "floats": st.lists(FLOAT, max_size=3),
    }.get(kind.name)
    if plausible is None and kind.name.startswith("ints["):
        plausible = st.one_of(st.integers(-1, 4), INTS)
    if plausible is None and "|" in kind.name:
        plausible = st.sampled_from(kind.name.split("|"))
    assert plausible is not None, f"no strategy for attribute kind {kind.name}"
    wrong = st.one_of(st.integers(-1, 3), FLOAT, TEXT, INTS, st.booleans())
    return st.one_of(plausible, plausible, plausible, wrong)


@st.composite
def op_cases(draw) -> tuple[OpDef, list[TensorType], dict]:
    opdef = draw(st.sampled_from(sorted(archir.OPS.values(), key=lambda d: d.name)))
    lo, hi = opdef._arity
    count = draw(st.integers(lo, (hi if hi is not None else lo + 3)))
    if draw(st.integers(0, 9)) == 0:
        count = draw(st.integers(0, 5))  # now and then the wrong number of operands
    operands = draw(st.lists(types(), min_size=count, max_size=count))
    attrs = {}
    for key, decl in opdef.attrs.items():
        if decl.required or draw(st.booleans()):
            attrs[key] = draw(values_of(decl.kind))
    if draw(st.integers(0, 19)) == 0:
        attrs["no_such_attribute"] = 1
    return opdef, operands, attrs


@settings(max_examples=examples(800))
@given(op_cases())
def test_building_any_op_either_fails_cleanly_or_round_trips(case):
    opdef, operand_types, attrs = case
    b = GraphBuilder()
    operands = [b.arg(t) for t in operand_types]
    try:
        out = b.op(opdef.name, *operands, **attrs)
    except archir.VerifyError as e:
        assert str(e)
        assert b.graph.ops == []
        return
    results = out if isinstance(out, tuple) else (out,)
    b.ret(*results)
    module = Module([b.graph])
    archir.verify(module)
    text = archir.to_text(module)
    parsed = archir.parse(text)
    assert archir.to_text(parsed) == text
    assert archir.structurally_equal(parsed, module)
    # What was set is what is read back, to the bit (nan aside, which equals nothing).
    got = parsed.main.ops[0].attrs
    for key, value in b.graph.ops[0].attrs.items():
        assert same_value(got[key], value), (key, got[key], value)


def same_value(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b
