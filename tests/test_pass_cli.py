"""``archir opt`` and ``archir cost`` through the real command-line entry point."""

from __future__ import annotations

from pathlib import Path

import pytest

import archir
from archir.cli import main

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "mobilenet_v2_small.air"


def test_opt_prints_the_resulting_ir(capsys):
    assert main(["opt", str(EXAMPLE), "-p", "canonicalize,fold-bn", "--verify-each"]) == 0
    out = capsys.readouterr().out
    module = archir.parse(out)  # the output is IR text that parses and verifies
    assert not any(op.name == "batch_norm" for _, op in module.walk())
    expected = archir.run_pipeline(archir.load(EXAMPLE), "canonicalize,fold-bn")
    assert out == archir.to_text(expected)


def test_opt_timing_and_print_after_all_go_to_stderr(capsys):
    assert main(["opt", str(EXAMPLE), "-p", "canonicalize,cost", "--timing", "--print-after-all"]) == 0
    captured = capsys.readouterr()
    assert captured.err.count("// -----// IR Dump After") == 2
    assert "Pass execution time report" in captured.err and "canonicalize" in captured.err
    assert captured.out.startswith("graph @main(")


def test_opt_reports_bad_pipelines_with_a_caret(capsys):
    assert main(["opt", str(EXAMPLE), "-p", "canonicalize,fold-bm"]) == 2
    err = capsys.readouterr().err
    assert "pipeline:14: error: unknown pass 'fold-bm'" in err
    assert err.rstrip().endswith(" " * 15 + "^")


def test_opt_reports_a_pass_that_refuses(capsys, tmp_path):
    path = tmp_path / "head.air"
    path.write_text(
        "graph @main(%x: f32[1, 3, 8, 8]) -> (f32[1, 10]) {\n"
        "  %f = flatten(%x) : f32[1, 192]\n"
        "  %fc = linear(%f) {out_features = 10} : f32[1, 10]\n"
        "  return %fc\n}\n")
    assert main(["opt", str(path), "-p", "set-input-shape{shape=[1,3,16,16]}"]) == 1
    err = capsys.readouterr().err
    assert "would change the learned weights" in err and "%fc = linear" in err


@pytest.mark.parametrize("flags", [[], ["--by-kind"], ["--top", "3"]])
def test_cost_prints_a_table_and_totals(capsys, flags):
    assert main(["cost", str(EXAMPLE), *flags]) == 0
    out = capsys.readouterr().out
    report = archir.cost(archir.load(EXAMPLE))
    assert f"{report.macs:,}" in out and f"{report.params:,}" in out
    assert "peak activation memory" in out
    if flags == ["--top", "3"]:
        top = sorted(report.ops, key=lambda r: -r.macs)[:3]
        assert all(r.name in out for r in top)
    if flags == ["--by-kind"]:
        assert "conv2d" in out and "linear" in out
