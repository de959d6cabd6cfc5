"""Properties of every pass over random valid modules (the strategy of test_ir_properties).

- each pass maps a valid module to a valid one (the manager verifies after every pass);
- no pass touches the module its caller holds;
- canonicalize reaches a fixed point in one run and never adds MACs or parameters;
- fold-bn and canonicalize never fail on a valid module; set-input-shape and compound-scale
  either succeed or refuse with a PassError that says why.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from test_ir_properties import examples, modules

import archir
from archir import Module
from archir.passes import PassError, run_pipeline
from archir.passes.set_input_shape import SetInputShape

ALWAYS_OK = ["canonicalize", "fold-bn", "cost", "canonicalize{fold-constants=false},fold-bn,canonicalize"]
MAY_REFUSE = ["compound-scale{width=1.5}", "compound-scale{depth=2}", "compound-scale{phi=1}",
              "compound-scale{depth=0.5,width=0.75}"]


def _run(module: Module, spec) -> Module | None:
    before = archir.to_text(module)
    try:
        out = run_pipeline(module, spec, verify_each=True)
    except PassError as e:
        assert str(e), "a refusal must say why"
        out = None
    assert archir.to_text(module) == before, f"{spec} mutated its input"
    return out


@settings(max_examples=examples(60))
@given(modules())
def test_passes_keep_random_modules_valid(module: Module):
    for spec in ALWAYS_OK:
        assert _run(module, spec) is not None, spec
    for spec in MAY_REFUSE:
        _run(module, spec)
    image = module.main.args[0].type
    bigger = [-1, image.shape[1], *(2 * d for d in image.shape[2:])]
    _run(module, [SetInputShape(tuple(bigger))])


@settings(max_examples=examples(60))
@given(modules())
def test_canonicalize_is_a_fixed_point_and_never_adds_work(module: Module):
    once = run_pipeline(module, "canonicalize", verify_each=True)
    twice = run_pipeline(once, "canonicalize", verify_each=True)
    assert archir.to_text(twice) == archir.to_text(once)
    assert once.num_ops <= module.num_ops
    before, after = archir.cost(module), archir.cost(once)
    assert after.macs <= before.macs and after.params <= before.params


@pytest.mark.parametrize("spec", ["fold-bn", "cost"])
@settings(max_examples=examples(30))
@given(module=modules())
def test_analysis_and_folding_keep_the_signature(spec: str, module: Module):
    out = run_pipeline(module, spec, verify_each=True)
    assert out.main.input_types == module.main.input_types
    assert out.main.output_types == module.main.output_types
