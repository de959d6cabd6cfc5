"""Pass infrastructure: registry, pipeline strings and their errors, instruments, the pass
manager's ownership rules, and the worklist rewrite driver."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

import archir
from archir import GraphBuilder, Module, TensorType
from archir.passes import (
    PASSES,
    Pass,
    PassContext,
    PassError,
    PassManager,
    PipelineError,
    PrintIR,
    Timing,
    format_pipeline,
    parse_pipeline,
    pattern,
    register,
    run_pipeline,
)
from archir.passes.cost import CostReport
from archir.passes.rewrite import Rewriter, apply_patterns

TEXT = """graph @main(%x: f32[N, 3, 8, 8]) -> (f32[N, 8, 8, 8]) {
  %c = conv2d(%x) {out_channels = 8, kernel = [3, 3], padding = [1, 1], bias = false} : f32[N, 8, 8, 8]
  %bn = batch_norm(%c) : f32[N, 8, 8, 8]
  %d = dropout(%bn) : f32[N, 8, 8, 8]
  %y = relu(%d) : f32[N, 8, 8, 8]
  return %y
}
"""


@pytest.fixture
def module() -> Module:
    return archir.parse(TEXT)


@pytest.fixture
def scratch_pass():
    """Register passes for one test and take them out of the registry afterwards."""
    added: list[str] = []

    def add(cls):
        register(cls)
        added.append(cls.name)
        return cls

    yield add
    for name in added:
        PASSES.pop(name, None)


# --- pipeline strings ----------------------------------------------------------------------------
@pytest.mark.parametrize("spec", [
    "canonicalize,fold-bn,set-input-shape{shape=[1,3,160,160]},compound-scale{phi=1}",
    "cost",
    "",
    "set-input-shape{shape=[-1,3,64,64],index=1}",
    "compound-scale{phi=1.5,alpha=1.3,width=1.25,divisor=4}",
    "canonicalize{fold-constants=false,cse=false},fold-bn{weightless=false}",
])
def test_canonical_pipelines_print_back_identically(spec: str):
    assert format_pipeline(parse_pipeline(spec)) == spec


def test_options_are_typed_from_the_dataclass_fields():
    spec = " compound-scale{ phi = 2 , width=1.2 } , set-input-shape{shape=[1, 3, 8, 8]} "
    (cs, sis) = parse_pipeline(spec)
    assert cs.phi == 2.0 and isinstance(cs.phi, float) and cs.width == 1.2
    assert sis.shape == (1, 3, 8, 8) and sis.index == 0
    # whitespace and a redundant default print canonically
    assert format_pipeline([cs, sis]) == "compound-scale{phi=2,width=1.2},set-input-shape{shape=[1,3,8,8]}"
    assert format_pipeline(parse_pipeline("canonicalize{cse=true}")) == "canonicalize"
    assert parse_pipeline("canonicalize{fold_constants=false}")[0].fold_constants is False


@pytest.mark.parametrize("spec, column, fragments", [
    ("canonicalize,fold-bm", 14, ["unknown pass 'fold-bm' (known passes: ", "did you mean 'fold-bn'?"]),
    ("fold-bn{weigthless=true}", 9, ["pass 'fold-bn' has no option 'weigthless' (its options: weightless)"]),
    ("set-input-shape{shape=[1,3,2.5]}", 23, ["option 'shape' of pass 'set-input-shape'",
                                             "expected a list of ints"]),
    ("compound-scale{phi=true}", 20, ["option 'phi' of pass 'compound-scale': expected a number, got true"]),
    ("compound-scale{divisor=8.0}", 24, ["option 'divisor' of pass 'compound-scale': expected an int"]),
    ("set-input-shape{index=1}", 1, ["pass 'set-input-shape' needs option 'shape'"]),
    ("fold-bn{weightless=true,weightless=false}", 25, ["option 'weightless' of pass 'fold-bn' given twice"]),
    ("fold-bn{weightless=true", 24, ["expected '}' to close the options of 'fold-bn'"]),
    ("fold-bn cost", 9, ["expected ',' between passes"]),
    ("fold-bn,", 9, ["expected a pass name, found end of pipeline"]),
    ("fold-bn{weightless}", 19, ["expected '=' after option 'weightless'"]),
    ("set-input-shape{shape=[1,2}", 27, ["expected ']' to close the list"]),
    ("set-input-shape{shape=[]}", 1, ["option 'shape' must not be empty"]),
])
def test_bad_pipelines_name_the_pass_option_and_column(spec, column, fragments):
    with pytest.raises(PipelineError) as info:
        parse_pipeline(spec)
    err = info.value
    assert err.column == column, str(err)
    for f in fragments:
        assert f in str(err)
    if "unknown pass" in str(err):  # every registered pass is listed, in order
        listed = str(err).split("(known passes: ")[1].split(")")[0].split(", ")
        assert listed == sorted(PASSES)
    # the caret sits under the column
    assert str(err).splitlines()[-1] == "  " + " " * (column - 1) + "^"


# --- registry ------------------------------------------------------------------------------------
def test_registry_rejects_what_a_pipeline_could_not_name_or_carry(scratch_pass):
    class Plain(Pass):  # not a dataclass of its own: its annotations would not be options
        name = "plain-pass"
        level: int = 1

    with pytest.raises(TypeError, match="frozen dataclass"):
        scratch_pass(Plain)

    @dataclass(frozen=True)
    class BadName(Pass):
        name = "Bad_Name"

    with pytest.raises(ValueError, match="kebab-case"):
        scratch_pass(BadName)

    @dataclass(frozen=True)
    class BadOption(Pass):
        name = "bad-option"
        table: dict = None  # type: ignore[assignment]

    with pytest.raises(TypeError, match="options may be"):
        scratch_pass(BadOption)

    @dataclass(frozen=True)
    class Twin(Pass):
        name = "canonicalize"

    with pytest.raises(ValueError, match="registered twice"):
        scratch_pass(Twin)


# --- the manager ---------------------------------------------------------------------------------
def test_run_pipeline_leaves_the_callers_module_alone(module: Module):
    before = archir.to_text(module)
    out = run_pipeline(module, "canonicalize,fold-bn", verify_each=True)
    assert archir.to_text(module) == before
    assert out is not module
    assert [op.name for op in out.main.ops] == ["conv2d", "relu"]
    # calling a pass object works on a copy too
    p = parse_pipeline("canonicalize")[0]
    assert p(module).num_ops == 3 and module.num_ops == 4


def test_changed_flags_and_analysis_side_table(module: Module):
    result = PassManager("canonicalize,canonicalize,cost").run(module)
    assert result.changed == (True, False, False)
    report = result.context.get(CostReport)
    assert isinstance(report, CostReport) and report.macs == 8 * 8 * 8 * 3 * 9


def test_instruments_time_and_dump_every_pass(module: Module):
    dumps: list[str] = []
    timing = Timing()
    run_pipeline(module, "canonicalize,fold-bn{weightless=false}",
                 instruments=[timing, PrintIR(before=True, only_changed=True, write=dumps.append)])
    assert [r.spec for r in timing.records] == ["canonicalize", "fold-bn{weightless=false}"]
    assert [r.changed for r in timing.records] == [True, False]
    assert "fold-bn{weightless=false}" in timing.report() and timing.total > 0
    headers = [d.splitlines()[0] for d in dumps]
    assert headers == ["// -----// IR Dump Before canonicalize //----- //",
                       "// -----// IR Dump After canonicalize //----- //",
                       "// -----// IR Dump Before fold-bn{weightless=false} //----- //"]
    assert "dropout" in dumps[0] and "dropout" not in dumps[1]


def test_verify_each_names_the_pass_that_broke_the_ir(module: Module, scratch_pass):
    @dataclass(frozen=True)
    class Breaker(Pass):
        name = "test-breaker"

        def run(self, m: Module, ctx: PassContext) -> bool:
            m.main.ops[0].attrs["out_channels"] = 5  # result types now lie
            return True

    scratch_pass(Breaker)
    with pytest.raises(PassError, match=r"pass 'test-breaker' produced invalid IR: verify: error: 'conv2d'"):
        run_pipeline(module, "canonicalize,test-breaker", verify_each=True)
    run_pipeline(module, "test-breaker")  # without verification the manager does not look


def test_verify_each_checks_the_input_too(module: Module):
    module.main.ops[0].attrs["out_channels"] = 5
    with pytest.raises(PassError, match="the pipeline's input is invalid"):
        run_pipeline(module, "cost", verify_each=True)


# --- the rewrite driver ----------------------------------------------------------------------------
def _neg_chain(depth: int) -> Module:
    b = GraphBuilder()
    x = b.arg(TensorType("f32", (4,)), "x")
    y = x
    for _ in range(depth):
        y = b.neg(y)
    b.ret(b.relu(y))
    return Module([b.graph])


@pattern("double-negation", "neg")
def double_negation(op, rw: Rewriter) -> bool:
    inner = rw.producer(op.operands[0])
    if inner is None or inner.name != "neg":
        return False
    rw.replace_op(op, [inner.operands[0]])
    return True


@pytest.mark.parametrize("depth, left", [(1, 1), (2, 0), (7, 1), (10, 0)])
def test_driver_reaches_a_fixed_point_and_erases_dead_ops(depth: int, left: int):
    m = _neg_chain(depth)
    assert apply_patterns(m, [double_negation]) == (depth > 1)
    assert [op.name for op in m.main.ops] == ["neg"] * left + ["relu"]
    archir.verify(m)
    assert not apply_patterns(m, [double_negation])


def test_driver_reports_patterns_that_never_settle():
    @pattern("flip-flop", "relu")
    def flip(op, rw: Rewriter) -> bool:
        new = rw.create("relu", op.operands, before=op)
        rw.replace_op(op, [new.result])
        return True

    with pytest.raises(PassError, match="did not converge.*'flip-flop' on 'relu'"):
        apply_patterns(_neg_chain(1), [flip])


def test_rewriter_refuses_type_changing_replacements_and_erasing_used_ops():
    @pattern("bad-replace", "relu")
    def bad(op, rw: Rewriter) -> bool:
        wide = rw.create("concat", [op.operands[0], op.operands[0]], {"axis": 0}, before=op)
        rw.replace_op(op, [wide.result])
        return True

    with pytest.raises(PassError, match=r"replaced a f32\[4\] value by a f32\[8\] one"):
        apply_patterns(_neg_chain(1), [bad])

    @pattern("bad-erase", "neg")
    def erase_used(op, rw: Rewriter) -> bool:
        rw.erase(op)
        return True

    with pytest.raises(PassError, match="erased 'neg' while its results are still used"):
        apply_patterns(_neg_chain(1), [erase_used])


def test_patterns_are_rooted_at_declared_ops():
    with pytest.raises(ValueError, match="undeclared ops"):
        pattern("nope", "convolution")
