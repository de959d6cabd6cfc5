"""Golden before/after per target: tests/golden/targets/cases/*.air compiled for each target
(delegate rewrites for GPU targets, fusion, selection) must print as the stored file; a
target that refuses a graph (note10-cpu models only OFA MobileNetV3s) stores its error.
Regenerate after a deliberate rule change with ARCHIR_UPDATE_GOLDEN=1 (a debug switch)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import archir
from archir.passes.targets import TargetPassError, compile_for, target_names

ROOT = Path(__file__).parent / "golden" / "targets"
CASES = sorted((ROOT / "cases").glob("*.air"))


@pytest.mark.parametrize("target", target_names())
@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_golden(case, target):
    before = archir.parse(case.read_text())
    try:
        after = compile_for(before, target)
    except TargetPassError as e:  # a target that models one family of networks refuses others
        text = f"error: {e}\n"
    else:
        archir.verify(after)
        text = archir.to_text(after)
    expected = ROOT / target / case.name
    if os.environ.get("ARCHIR_UPDATE_GOLDEN"):
        expected.parent.mkdir(exist_ok=True)
        expected.write_text(text)
    assert text == expected.read_text()
    if not text.startswith("error: "):
        assert archir.to_text(archir.parse(text)) == text  # kernel regions round-trip
    assert archir.to_text(before) == case.read_text()  # the pass did not touch its input


def test_every_target_has_goldens():
    assert {p.name for p in ROOT.iterdir() if p.is_dir()} - {"cases"} == set(target_names())
