"""The pass manager: runs a pipeline on a private clone of the caller's module."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from archir.errors import VerifyError
from archir.ir import Module
from archir.passes.base import Pass, PassContext, PassError
from archir.passes.instruments import Instrument, VerifyEach
from archir.passes.pipeline import format_pipeline, parse_pipeline
from archir.verifier import verify


@dataclass(frozen=True)
class PipelineResult:
    module: Module
    changed: tuple[bool, ...]  # one flag per pass, in order
    context: PassContext


class PassManager:
    def __init__(self, passes: str | Sequence[Pass], *, verify_each: bool = False,
                 instruments: Sequence[Instrument] = ()):
        self.passes: list[Pass] = parse_pipeline(passes) if isinstance(passes, str) else list(passes)
        self.verify_each = verify_each
        self.instruments = list(instruments)
        if verify_each:
            self.instruments.append(VerifyEach())

    def __str__(self) -> str:
        return format_pipeline(self.passes)

    def run(self, module: Module) -> PipelineResult:
        if self.verify_each:
            try:
                verify(module)
            except VerifyError as e:
                raise PassError(f"the pipeline's input is invalid: {e}") from None
        work = module.clone()  # the caller's module is never touched
        ctx = PassContext()
        changed = []
        for p in self.passes:
            for inst in self.instruments:
                inst.before_pass(p, work)
            try:
                did = bool(p.run(work, ctx))
            except PassError:
                raise
            except VerifyError as e:
                raise PassError(f"{p}: {e}") from None
            changed.append(did)
            for inst in self.instruments:
                inst.after_pass(p, work, did)
        return PipelineResult(work, tuple(changed), ctx)


def run_pipeline(module: Module, spec: str | Sequence[Pass], *, verify_each: bool = False,
                 instruments: Sequence[Instrument] = ()) -> Module:
    """Run the passes ``spec`` names on a copy of ``module`` and return the copy.

    ``verify_each`` verifies the input and the module after every pass (tests always do).
    Raises ``PipelineError`` for a bad pipeline string, ``PassError`` when a pass fails.
    """
    return PassManager(spec, verify_each=verify_each, instruments=instruments).run(module).module
