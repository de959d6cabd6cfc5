"""``archir opt FILE -p PIPELINE`` (like mlir-opt) and ``archir cost FILE``."""

from __future__ import annotations

import argparse
import sys

from archir.io import load
from archir.passes.base import PASSES, PassError, load_providers
from archir.passes.cost import CostReport, cost
from archir.passes.instruments import PrintIR, Timing
from archir.passes.manager import PassManager
from archir.passes.pipeline import PipelineError
from archir.printer import to_text


def configure_opt(p: argparse.ArgumentParser) -> None:
    p.description = "run a pass pipeline on an .air file and print the resulting IR"
    load_providers()  # list every pass in the help
    p.epilog = "passes: " + ", ".join(f"{n} ({PASSES[n].summary})" for n in sorted(PASSES))
    p.add_argument("file")
    p.add_argument("-p", "--pipeline", default="", help='e.g. "canonicalize,fold-bn,cost"')
    p.add_argument("--print-after-all", action="store_true", help="dump the IR after every pass (stderr)")
    p.add_argument("--print-before-all", action="store_true", help="dump the IR before every pass (stderr)")
    p.add_argument("--timing", action="store_true", help="report the time each pass took (stderr)")
    p.add_argument("--verify-each", action="store_true", help="verify the IR after every pass")
    p.set_defaults(run=_opt)


def _opt(args: argparse.Namespace) -> int:
    timing = Timing()
    instruments = [timing] if args.timing else []
    if args.print_after_all or args.print_before_all:
        instruments.append(PrintIR(before=args.print_before_all, after=args.print_after_all))
    try:
        manager = PassManager(args.pipeline, verify_each=args.verify_each, instruments=instruments)
    except PipelineError as e:
        print(e, file=sys.stderr)
        return 2
    module = load(args.file)
    try:
        result = manager.run(module)
    except PassError as e:
        print(f"{args.file}: error: {e}", file=sys.stderr)
        return 1
    print(to_text(result.module), end="")
    if args.timing:
        print(timing.report(), file=sys.stderr)
    return 0


def configure_cost(p: argparse.ArgumentParser) -> None:
    p.description = "per-op and total MACs, FLOPs, parameters and memory of an .air file"
    p.add_argument("file")
    p.add_argument("--by-kind", action="store_true", help="one row per op kind instead of per op")
    p.add_argument("--top", type=int, default=0, help="only the N ops with the most MACs")
    p.set_defaults(run=_cost)


def _si(n: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.3f}{unit}"
    return f"{n:g}"


def _bytes(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n} B"


def render(report: CostReport, *, by_kind: bool = False, top: int = 0) -> object:
    """A rich renderable: the per-op (or per-kind) table with the totals."""
    from rich.console import Group
    from rich.table import Table

    table = Table(show_footer=False, title="cost (per sample; MACs of conv/linear/matmul/attention)")
    if by_kind:
        for col in ("kind", "count", "MACs", "FLOPs", "params"):
            table.add_column(col, justify="left" if col == "kind" else "right")
        for k in report.by_kind():
            table.add_row(k.kind, str(k.count), _si(k.macs), _si(k.flops), _si(k.params))
    else:
        for col in ("op", "kind", "MACs", "FLOPs", "params", "weights", "output", "FLOP/B"):
            table.add_column(col, justify="left" if col in ("op", "kind") else "right")
        rows = report.ops
        if top:
            rows = sorted(rows, key=lambda r: -r.macs)[:top]
        for r in rows:
            table.add_row(r.name, r.kind, _si(r.macs), _si(r.flops), _si(r.params), _bytes(r.weight_bytes),
                          _bytes(r.output_bytes), f"{r.arithmetic_intensity:.1f}")
    totals = Table.grid(padding=(0, 2))
    totals.add_column(justify="left")
    totals.add_column(justify="right")
    for label, value in (
        ("MACs", f"{report.macs:,} ({_si(report.macs)})"),
        ("FLOPs", f"{report.flops:,} ({_si(report.flops)})"),
        ("params", f"{report.params:,} ({_si(report.params)})"),
        ("weight bytes", _bytes(report.weight_bytes)),
        ("activation bytes", _bytes(report.activation_bytes)),
        ("peak activation memory", _bytes(report.peak_activation_bytes)),
        ("arithmetic intensity", f"{report.arithmetic_intensity:.2f} FLOP/B"),
    ):
        totals.add_row(label, value)
    return Group(table, totals)


def _cost(args: argparse.Namespace) -> int:
    from rich.console import Console

    report = cost(load(args.file))
    # a pipe gets a width that fits the table rather than rich's 80-column default
    console = Console() if sys.stdout.isatty() else Console(width=160)
    console.print(render(report, by_kind=args.by_kind, top=args.top))
    return 0
