"""Golden before/after cases, one file per pass in tests/golden/passes/.

A case is a ``// RUN: pipeline`` line, a ``// CASE: title`` line, the input IR, then either
``// EXPECT:`` and the IR the result must print as (compared as text after parse/print, so
both sides are in canonical form), ``// EXPECT-ERROR: fragment`` (the pipeline fails with a
message containing it), or ``// EXPECT-COST: key=value ...`` (fields of ``archir.cost``).
Cases are separated by ``// -----``. Every run verifies between passes and checks that the
input module was left untouched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

import archir
from archir.passes import PassError, PipelineError, run_pipeline

GOLDEN = Path(__file__).parent / "golden" / "passes"
IDEMPOTENT = ("canonicalize", "fold-bn")  # passes whose output is their own fixed point


@dataclass(frozen=True)
class Case:
    file: str
    line: int
    pipeline: str
    title: str
    source: str
    expect: str | None
    error: str | None
    cost: dict[str, int] | None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


def _cases() -> list[Case]:
    cases = []
    for path in sorted(GOLDEN.glob("*.air")):
        text = path.read_text()
        line = 1
        for chunk in re.split(r"^// -----\n", text, flags=re.M):
            run = re.search(r"^// RUN: (.*)$", chunk, re.M)
            if run is not None:
                title = re.search(r"^// CASE: (.*)$", chunk, re.M)
                body = chunk[run.end():]
                body = body[re.search(r"^// CASE: .*$\n", body, re.M).end():] if title else body
                source, expect, error, cost = body, None, None, None
                if (m := re.search(r"^// EXPECT:\n", body, re.M)) is not None:
                    source, expect = body[:m.start()], body[m.end():]
                elif (m := re.search(r"^// EXPECT-ERROR: (.*)$", body, re.M)) is not None:
                    source, error = body[:m.start()], m.group(1)
                elif (m := re.search(r"^// EXPECT-COST: (.*)$", body, re.M)) is not None:
                    source = body[:m.start()]
                    cost = {k: int(v) for k, v in re.findall(r"(\w+)=(-?\d+)", m.group(1))}
                else:
                    raise AssertionError(f"{path.name}:{line}: case without EXPECT")
                cases.append(Case(path.name, line + chunk[:run.start()].count("\n"), run.group(1).strip(),
                                  title.group(1) if title else "", source, expect, error, cost))
            line += chunk.count("\n") + 1
    return cases


CASES = _cases()


def test_every_pass_has_a_golden_file():
    files = {p.stem for p in GOLDEN.glob("*.air")}
    assert {"canonicalize", "fold-bn", "set-input-shape", "compound-scale", "cost"} <= files
    for name in files:
        assert sum(1 for c in CASES if c.file == f"{name}.air") >= 4, f"{name}.air needs more cases"


@pytest.mark.parametrize("case", CASES, ids=str)
def test_golden(case: Case):
    module = archir.parse(case.source, filename=case.file)
    before = archir.to_text(module)
    if case.error is not None:
        with pytest.raises((PassError, PipelineError)) as info:
            run_pipeline(module, case.pipeline, verify_each=True)
        assert case.error in str(info.value), f"{case.title}: {info.value}"
    else:
        result = run_pipeline(module, case.pipeline, verify_each=True)
        if case.expect is not None:
            expected = archir.to_text(archir.parse(case.expect, filename=case.file))
            assert archir.to_text(result) == expected, case.title
            if case.pipeline.split("{")[0] in IDEMPOTENT:
                again = run_pipeline(result, case.pipeline, verify_each=True)
                assert archir.to_text(again) == expected, f"{case.title}: not a fixed point"
        if case.cost is not None:
            report = archir.cost(result)
            got = {k: getattr(report, k) for k in case.cost}
            assert got == case.cost, case.title
    assert archir.to_text(module) == before, "the pass mutated its caller's module"
