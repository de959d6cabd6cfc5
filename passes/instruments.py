"""Instruments: hooks the pass manager calls around every pass (timing, IR dumps, verify)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from archir.errors import VerifyError
from archir.ir import Module
from archir.passes.base import Pass, PassError
from archir.printer import to_text
from archir.verifier import verify


class Instrument:
    """Base instrument: every hook does nothing."""

    def before_pass(self, p: Pass, module: Module) -> None:
        pass

    def after_pass(self, p: Pass, module: Module, changed: bool) -> None:
        pass


@dataclass(frozen=True)
class PassTime:
    spec: str
    seconds: float
    changed: bool


@dataclass
class Timing(Instrument):
    """Wall time per pass, in pipeline order; ``report()`` formats it like ``mlir-opt --timing``."""

    records: list[PassTime] = field(default_factory=list)
    _start: float = 0.0

    def before_pass(self, p: Pass, module: Module) -> None:
        self._start = time.perf_counter()

    def after_pass(self, p: Pass, module: Module, changed: bool) -> None:
        self.records.append(PassTime(str(p), time.perf_counter() - self._start, changed))

    @property
    def total(self) -> float:
        return sum(r.seconds for r in self.records)

    def report(self) -> str:
        total = self.total or 1e-12
        lines = ["===" + "-" * 70 + "===", "  Pass execution time report",
                 "===" + "-" * 70 + "===", f"  Total: {self.total * 1e3:.3f} ms",
                 "  ----Wall Time----  ----Changed----  ----Pass----"]
        for r in self.records:
            lines.append(f"  {r.seconds * 1e3:9.3f} ms ({r.seconds / total:6.1%})  "
                         f"{'yes' if r.changed else 'no':>13}  {r.spec}")
        return "\n".join(lines)


@dataclass
class PrintIR(Instrument):
    """Dump the module before and/or after each pass (``--print-after-all``)."""

    before: bool = False
    after: bool = True
    only_changed: bool = False
    write: Callable[[str], object] = field(default=lambda s: sys.stderr.write(s))

    def before_pass(self, p: Pass, module: Module) -> None:
        if self.before:
            self.write(f"// -----// IR Dump Before {p} //----- //\n{to_text(module)}\n")

    def after_pass(self, p: Pass, module: Module, changed: bool) -> None:
        if self.after and (changed or not self.only_changed):
            self.write(f"// -----// IR Dump After {p} //----- //\n{to_text(module)}\n")


class VerifyEach(Instrument):
    """Verify after every pass; a failure names the pass that produced the invalid IR."""

    def after_pass(self, p: Pass, module: Module, changed: bool) -> None:
        try:
            verify(module)
        except VerifyError as e:
            raise PassError(f"pass '{p}' produced invalid IR: {e}") from None
